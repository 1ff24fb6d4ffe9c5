"""Time refimpl layers against torch.nn on ResNet-18's shapes, interleaved in one process.

Each case builds a refimpl module and its torch.nn twin with the same state, warms
both up, then times them in ``--repeats`` interleaved rounds (the order flips every
round, so drift and a neighbour's load hit both alike). Reported per case: the median
time of each, the ratio of the medians (refimpl / torch; lower is better, 1.0 is
parity), the ratio of the fastest runs (``best``, the least disturbed by other
processes on a shared machine), and the convolutions' GFLOP/s (2 * multiply-accumulates
per second; forward + backward counts three products). The closing table gives each
group's geometric-mean ratio against its target, PASS or FAIL.

    python benchmarks/bench_layers.py            # full run, batch 8, float32
    python benchmarks/bench_layers.py --quick    # a smoke run (CI): tiny sizes, 2 rounds
    python benchmarks/bench_layers.py --threads 1 --cpu-time   # immune to other processes
    python benchmarks/bench_layers.py --gemm torch    # refimpl's products on torch.matmul
    python benchmarks/bench_layers.py --kernels fast  # only refimpl.fast (default: both)

refimpl is timed twice: on its reference ops (``refimpl.functional``, what runs by
default) and on the fast kernels (``refimpl.fast``, switched on); each group's name
says which (``[reference]`` or ``[fast]``). The targets: the fast kernels within 1.3x
of torch per layer and 1.5x end to end; the reference convolution forward within 3x.

On a machine shared with other jobs, wall-clock times of two-thread kernels jump by
whole scheduler time slices whenever a thread is descheduled. ``--cpu-time`` times the
calling thread's CPU seconds instead (``time.thread_time``), which only means the whole
cost with one thread, hence ``--threads 1``: ratios that other processes cannot move.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

import refimpl
from refimpl.fast import onednn_gemm

# ResNet-18 at 224x224: (name, in, out, kernel, stride, padding, input size)
RESNET18_CONVS = [
    ("stem 7x7/2", 3, 64, 7, 2, 3, 224),
    ("3x3 64@56", 64, 64, 3, 1, 1, 56),
    ("3x3/2 64->128@56", 64, 128, 3, 2, 1, 56),
    ("3x3 128@28", 128, 128, 3, 1, 1, 28),
    ("3x3/2 128->256@28", 128, 256, 3, 2, 1, 28),
    ("3x3 256@14", 256, 256, 3, 1, 1, 14),
    ("3x3/2 256->512@14", 256, 512, 3, 2, 1, 14),
    ("3x3 512@7", 512, 512, 3, 1, 1, 7),
    ("1x1/2 64->128@56", 64, 128, 1, 2, 0, 56),
    ("1x1/2 128->256@28", 128, 256, 1, 2, 0, 28),
    ("1x1/2 256->512@14", 256, 512, 1, 2, 0, 14),
]

# the largest acceptable geometric-mean ratio per group, by which refimpl ran
TARGETS = {
    "Conv2d forward [fast]": 1.3,
    "Conv2d fwd+bwd [fast]": 1.3,
    "BatchNorm2d train fwd [fast]": 1.3,
    "MaxPool2d 3/2 pad 1 [fast]": 1.3,
    "AdaptiveAvgPool2d 1 [fast]": 1.3,
    "resnet18 forward [fast]": 1.5,
    "resnet18 train step [fast]": 1.5,
    "Conv2d forward [reference]": 3.0,
}


@dataclass
class Result:
    group: str
    name: str
    torch_s: float  # median seconds
    ours_s: float
    torch_best_s: float  # fastest round
    ours_best_s: float
    flops: float  # per call, 0 when not meaningful

    @property
    def ratio(self) -> float:
        return self.ours_s / self.torch_s

    @property
    def best_ratio(self) -> float:
        return self.ours_best_s / self.torch_best_s


@dataclass
class Settings:
    batch: int
    repeats: int
    warmup: int
    image: int  # input side for the ResNet-18 end-to-end cases
    quick: bool
    clock: Callable[[], float] = time.perf_counter


def interleaved(
    ours: Callable[[], object],
    theirs: Callable[[], object],
    repeats: int,
    warmup: int,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[list[float], list[float]]:
    """Seconds per call of each callable over ``repeats`` rounds, alternating which goes first."""
    for _ in range(warmup):  # allocator, thread pool, lazy init, caches
        ours()
        theirs()
    times_ours: list[float] = []
    times_theirs: list[float] = []
    for round_ in range(repeats):
        pairs = [(ours, times_ours), (theirs, times_theirs)]
        for fn, times in pairs if round_ % 2 == 0 else reversed(pairs):
            start = clock()
            fn()
            times.append(clock() - start)
    return times_ours, times_theirs


def measure(
    group: str,
    name: str,
    ours: Callable[[], object],
    theirs: Callable[[], object],
    settings: Settings,
    flops: float = 0.0,
) -> Result:
    t_ours, t_theirs = interleaved(ours, theirs, settings.repeats, settings.warmup, settings.clock)
    return Result(
        group,
        name,
        statistics.median(t_theirs),
        statistics.median(t_ours),
        min(t_theirs),
        min(t_ours),
        flops,
    )


def twins(name: str, *args: object, **kwargs: object) -> tuple[nn.Module, nn.Module]:
    theirs = getattr(nn, name)(*args, **kwargs)
    ours = getattr(refimpl, name)(*args, **kwargs)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def forward(module: nn.Module, x: torch.Tensor) -> Callable[[], object]:
    def run() -> object:
        with torch.no_grad():
            return module(x)

    return run


def forward_backward(module: nn.Module, x: torch.Tensor) -> Callable[[], object]:
    x = x.detach().requires_grad_()

    def run() -> object:
        module.zero_grad(set_to_none=True)
        x.grad = None
        out = module(x)
        out.backward(torch.ones_like(out))
        return out

    return run


def conv_cases(settings: Settings, backward: bool) -> list[Result]:
    results = []
    shapes = RESNET18_CONVS[::4] if settings.quick else RESNET18_CONVS
    for name, cin, cout, k, s, p, size in shapes:
        if settings.quick:
            size = max(k, size // 8)
        ours, theirs = twins("Conv2d", cin, cout, k, s, p, bias=False)
        x = torch.randn(settings.batch, cin, size, size)
        out = (size + 2 * p - k) // s + 1
        macs = settings.batch * cout * out * out * cin * k * k
        flops = 2 * macs * (3 if backward else 1)  # backward: input and weight gradients
        wrap = forward_backward if backward else forward
        group = "Conv2d fwd+bwd" if backward else "Conv2d forward"
        results.append(measure(group, name, wrap(ours, x), wrap(theirs, x), settings, flops))
    return results


def other_cases(settings: Settings) -> list[Result]:
    batch, side = settings.batch, 14 if settings.quick else 112
    cases: list[tuple[str, str, tuple[int, ...], tuple[int, ...], bool]] = [
        ("BatchNorm2d train fwd", "BatchNorm2d", (64,), (batch, 64, side, side), True),
        ("MaxPool2d 3/2 pad 1", "MaxPool2d", (3, 2, 1), (batch, 64, side, side), False),
        ("AdaptiveAvgPool2d 1", "AdaptiveAvgPool2d", (1,), (batch, 512, 7, 7), False),
    ]
    results = []
    for label, name, args, shape, training in cases:
        ours, theirs = twins(name, *args)
        ours.train(training)
        theirs.train(training)
        x = torch.randn(shape)
        results.append(measure(label, label, forward(ours, x), forward(theirs, x), settings))
    return results


def resnet18_twins(x: torch.Tensor) -> tuple[nn.Module, nn.Module]:
    """refimpl.models.resnet18 and its twin from torch.nn's layers, with equal weights."""
    from refimpl import models

    ours = models.resnet18()
    ours.eval()(x)  # materialize the lazy layers
    return ours, models.to_torch(ours)


def train_step(model: nn.Module, x: torch.Tensor, labels: torch.Tensor) -> Callable[[], object]:
    """One SGD step: forward in training mode, cross-entropy, backward, update."""
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

    def run() -> object:
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(x), labels)
        loss.backward()
        optimizer.step()
        return loss

    return run


def resnet_cases(settings: Settings) -> list[Result]:
    """The book's ResNet-18 (one input channel, 10 classes) end to end."""
    side = settings.image
    x = torch.randn(settings.batch, 1, side, side)
    labels = torch.randint(0, 10, (settings.batch,))
    ours, theirs = resnet18_twins(x)
    name = f"{settings.batch}x1x{side}x{side}"
    results = [measure("resnet18 forward", name, forward(ours, x), forward(theirs, x), settings)]
    ours.train()
    theirs.train()
    step_ours, step_theirs = train_step(ours, x, labels), train_step(theirs, x, labels)
    results.append(measure("resnet18 train step", name, step_ours, step_theirs, settings))
    return results


def geometric_mean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def report(results: list[Result]) -> dict[str, float]:
    """Print every case and the summary table; return each group's geometric-mean ratio."""
    header = (
        f"{'case':<24}{'torch ms':>10}{'refimpl ms':>12}{'ratio':>8}{'best':>7}"
        f"{'torch GF/s':>12}{'ours GF/s':>11}"
    )
    groups: dict[str, list[Result]] = {}
    for r in results:
        groups.setdefault(r.group, []).append(r)
    for group, rows in groups.items():
        print(f"\n## {group}")
        print(header)
        for r in rows:
            gflops = (
                f"{r.flops / r.torch_s / 1e9:>12.1f}{r.flops / r.ours_s / 1e9:>11.1f}"
                if r.flops
                else ""
            )
            print(
                f"{r.name:<24}{r.torch_s * 1e3:>10.2f}{r.ours_s * 1e3:>12.2f}"
                f"{r.ratio:>8.2f}{r.best_ratio:>7.2f}{gflops}"
            )
    print("\n## geometric-mean ratio refimpl / torch (lower is better)")
    print(f"{'group':<36}{'ratio':>7}{'best':>7}{'target':>8}  verdict (on the median ratio)")
    summary = {}
    for group, rows in groups.items():
        ratio = geometric_mean([r.ratio for r in rows])
        best = geometric_mean([r.best_ratio for r in rows])
        target = TARGETS.get(group, math.inf)
        verdict = "PASS" if ratio <= target else "FAIL"
        print(f"{group:<36}{ratio:>7.2f}{best:>7.2f}{target:>8.2f}  {verdict}")
        summary[group] = ratio
    return summary


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        yield
    finally:
        torch.random.set_rng_state(state)


GROUPS = ("conv", "conv-backward", "other", "resnet18")


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=15, help="interleaved rounds per case")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls of each, first")
    parser.add_argument("--image", type=int, default=96, help="ResNet-18 input side (the book's)")
    parser.add_argument("--only", nargs="+", choices=GROUPS, default=list(GROUPS))
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's)")
    parser.add_argument(
        "--cpu-time", action="store_true", help="time thread CPU seconds (needs --threads 1)"
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 2 rounds: it runs")
    parser.add_argument(
        "--kernels",
        choices=("both", "reference", "fast"),
        default="both",
        help="time refimpl on its reference ops, on refimpl.fast's kernels, or both",
    )
    parser.add_argument(
        "--gemm",
        choices=("onednn", "torch"),
        default="onednn",
        help="refimpl's matrix products: oneDNN's GEMM where it applies, or torch.matmul",
    )
    args = parser.parse_args(argv)
    if args.cpu_time and args.threads != 1:
        parser.error("--cpu-time measures one thread: add --threads 1")
    if args.threads:
        torch.set_num_threads(args.threads)
    clock = time.thread_time if args.cpu_time else time.perf_counter
    settings = Settings(args.batch, args.repeats, args.warmup, args.image, args.quick, clock)
    if args.quick:
        settings = Settings(2, 2, 1, 32, True, clock)  # batch 2: batch norm trains on 1x1 maps
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {settings.batch}, "
        f"float32, median of {settings.repeats} interleaved rounds after {settings.warmup} "
        f"warm-up calls, {'thread CPU' if args.cpu_time else 'wall-clock'} time, "
        f"the fast kernels' matrix products on "
        f"{'oneDNN' if args.gemm == 'onednn' else 'torch.matmul'}"
    )
    results: list[Result] = []
    kernels = ("reference", "fast") if args.kernels == "both" else (args.kernels,)
    for which in kernels:
        with seeded(0), onednn_gemm(args.gemm == "onednn"), refimpl.fast.kernels(which == "fast"):
            found: list[Result] = []
            if "conv" in args.only:
                found += conv_cases(settings, backward=False)
            if "conv-backward" in args.only:
                found += conv_cases(settings, backward=True)
            if "other" in args.only:
                found += other_cases(settings)
            if "resnet18" in args.only:
                found += resnet_cases(settings)
        for r in found:
            r.group = f"{r.group} [{which}]"
        results += found
    return report(results)


if __name__ == "__main__":
    main()
