"""Time refimpl layers against torch.nn on ResNet-18's shapes, interleaved in one process.

Each case builds a refimpl module and its torch.nn twin with the same state, then
alternates between them for ``--repeats`` rounds and reports the median time of
each, their ratio (refimpl / torch; lower is better, 1.0 is parity) and the
convolutions' GFLOP/s (2 * multiply-accumulates / second). The closing line is the
geometric mean of the ratios per group.

    python benchmarks/bench_layers.py            # full run, batch 8, float32
    python benchmarks/bench_layers.py --quick    # a smoke run (CI): tiny batch, 2 rounds
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

import refimpl

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


@dataclass
class Result:
    group: str
    name: str
    torch_s: float
    ours_s: float
    flops: float  # per call, 0 when not meaningful

    @property
    def ratio(self) -> float:
        return self.ours_s / self.torch_s


def interleaved_medians(
    ours: Callable[[], object], theirs: Callable[[], object], repeats: int
) -> tuple[float, float]:
    """Median seconds of each callable, alternating them so drift hits both alike."""
    for fn in (ours, theirs):  # warm-up: allocator, thread pool, lazy init
        fn()
    times_ours, times_theirs = [], []
    for _ in range(repeats):
        for fn, times in ((ours, times_ours), (theirs, times_theirs)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return statistics.median(times_ours), statistics.median(times_theirs)


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


def conv_cases(batch: int, repeats: int, backward: bool) -> list[Result]:
    results = []
    for name, cin, cout, k, s, p, size in RESNET18_CONVS:
        ours, theirs = twins("Conv2d", cin, cout, k, s, p, bias=False)
        x = torch.randn(batch, cin, size, size)
        out = (size + 2 * p - k) // s + 1
        macs = batch * cout * out * out * cin * k * k
        flops = 2 * macs * (3 if backward else 1)  # backward: input and weight gradients
        wrap = forward_backward if backward else forward
        t_ours, t_theirs = interleaved_medians(wrap(ours, x), wrap(theirs, x), repeats)
        group = "Conv2d fwd+bwd" if backward else "Conv2d forward"
        results.append(Result(group, name, t_theirs, t_ours, flops))
    return results


def other_cases(batch: int, repeats: int) -> list[Result]:
    cases = [
        ("BatchNorm2d train fwd", ("BatchNorm2d", 64), (batch, 64, 112, 112), True),
        ("MaxPool2d 3/2 pad 1", ("MaxPool2d", 3, 2, 1), (batch, 64, 112, 112), False),
        ("AdaptiveAvgPool2d 1", ("AdaptiveAvgPool2d", 1), (batch, 512, 7, 7), False),
    ]
    results = []
    for label, (name, *args), shape, training in cases:
        ours, theirs = twins(name, *args)
        ours.train(training)
        theirs.train(training)
        x = torch.randn(shape)
        t_ours, t_theirs = interleaved_medians(forward(ours, x), forward(theirs, x), repeats)
        results.append(Result(label, label, t_theirs, t_ours, 0.0))
    return results


def geometric_mean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def report(results: list[Result]) -> None:
    header = (
        f"{'case':<24}{'torch ms':>10}{'refimpl ms':>12}{'ratio':>8}"
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
                f"{r.ratio:>8.2f}{gflops}"
            )
    print("\n## geometric-mean ratio refimpl / torch (lower is better)")
    for group, rows in groups.items():
        print(f"{group:<28}{geometric_mean([r.ratio for r in rows]):>6.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds per case")
    parser.add_argument("--quick", action="store_true", help="batch 1, 2 rounds: checks it runs")
    args = parser.parse_args(argv)
    batch, repeats = (1, 2) if args.quick else (args.batch, args.repeats)
    torch.manual_seed(0)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {batch}, float32, "
        f"median of {repeats} interleaved rounds"
    )
    results = conv_cases(batch, repeats, backward=False)
    results += conv_cases(batch, repeats, backward=True)
    results += other_cases(batch, repeats)
    report(results)


if __name__ == "__main__":
    main()
