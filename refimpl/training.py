"""A small, deterministic training loop on real data: scikit-learn's handwritten digits.

[`load_digits_split`][refimpl.training.load_digits_split] turns the 1,797 8x8 images that
ship inside scikit-learn into a seeded, stratified train/validation split of tensors;
[`train`][refimpl.training.train] fits a model with minibatch SGD (or Adam) and
cross-entropy and records, per epoch, the training loss, the validation loss and the
validation accuracy in a [`History`][refimpl.training.History]. The same seed gives the same
split, the same initial weights (for lazy models), the same minibatch order and so the same
curve, whether the model is built from ``refimpl`` or ``torch.nn`` layers.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import sys
import time
from collections.abc import Callable, Hashable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import NamedTuple, TextIO, TypeVar

import torch
from torch import Tensor, nn
from torch.nn.parameter import is_lazy

from .fast import kernels

__all__ = ["Digits", "History", "load_digits_split", "materialize", "train", "train_many"]

K = TypeVar("K", bound=Hashable)


class Digits(NamedTuple):
    """A train/validation split: images ``(N, 1, 8, 8)`` in [0, 1] and int64 labels."""

    x_train: Tensor
    y_train: Tensor
    x_val: Tensor
    y_val: Tensor


def load_digits_split(seed: int = 0, validation_fraction: float = 0.25) -> Digits:
    """scikit-learn's 8x8 digits as tensors, split per class with a seeded permutation.

    Each class puts ``round(validation_fraction * count)`` of its images, chosen by a
    ``torch.Generator`` seeded with ``seed``, into the validation set, so both sets keep
    the class proportions and the split is the same on every run. Pixels (0 to 16 in the
    data set) are divided by 16.

    Example:
        >>> from refimpl.training import load_digits_split
        >>> data = load_digits_split()
        >>> data.x_train.shape, data.x_val.shape, data.y_train.dtype
        (torch.Size([1347, 1, 8, 8]), torch.Size([450, 1, 8, 8]), torch.int64)
        >>> float(data.x_train.min()), float(data.x_train.max())
        (0.0, 1.0)
    """
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    pixels, labels = _digits()
    images = pixels.reshape(-1, 1, 8, 8).to(torch.float32) / 16.0
    generator = torch.Generator().manual_seed(seed)
    train_idx: list[Tensor] = []
    val_idx: list[Tensor] = []
    for c in range(int(labels.max()) + 1):
        members = torch.nonzero(labels == c).flatten()
        members = members[torch.randperm(len(members), generator=generator)]
        n_val = round(validation_fraction * len(members))
        val_idx.append(members[:n_val])
        train_idx.append(members[n_val:])
    train_i = torch.cat(train_idx).sort().values
    val_i = torch.cat(val_idx).sort().values
    return Digits(images[train_i], labels[train_i], images[val_i], labels[val_i])


def _digits() -> tuple[Tensor, Tensor]:
    """The 1,797 digits as int64 ``(pixels (N, 64), labels (N,))``, read from scikit-learn.

    The data is the file ``sklearn/datasets/data/digits.csv.gz`` in scikit-learn's
    package, one image per line: 64 pixels and the label. It is read directly, which takes
    milliseconds; importing ``sklearn.datasets`` takes seconds. Where the file is not
    found, ``sklearn.datasets.load_digits`` reads it.
    """
    spec = importlib.util.find_spec("sklearn")
    folders = spec.submodule_search_locations if spec is not None else None
    path = Path(folders[0], "datasets", "data", "digits.csv.gz") if folders else None
    if path is None or not path.is_file():
        from sklearn.datasets import load_digits  # type: ignore[import-untyped]

        digits = load_digits()
        return torch.tensor(digits.data, dtype=torch.int64), torch.tensor(digits.target)
    with gzip.open(path, "rt", encoding="ascii") as lines:
        rows = torch.tensor([[int(v) for v in line.split(",")] for line in lines if line.strip()])
    return rows[:, :64], rows[:, 64]


@dataclass
class History:
    """Per-epoch records of one [`train`][refimpl.training.train] run.

    Index ``e`` of each list holds the value after epoch ``e + 1``.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: float = 0.0  # wall-clock time of the run (varies; never printed on the site)

    @property
    def epochs(self) -> int:
        """How many epochs were recorded."""
        return len(self.train_loss)


def materialize(model: nn.Module, example: Tensor) -> nn.Module:
    """Run one forward pass in eval mode without gradients so lazy layers get their shapes.

    Eval mode leaves batch-norm running statistics untouched; the model's previous
    training flag is restored. Returns the model.
    """
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(example)
    model.train(was_training)
    return model


def _evaluate(model: nn.Module, x: Tensor, y: Tensor, loss_fn: nn.Module) -> tuple[float, float]:
    model.eval()
    with torch.no_grad():
        logits = model(x)
        loss = float(loss_fn(logits, y))
        accuracy = float((logits.argmax(dim=1) == y).float().mean())
    return loss, accuracy


def train(
    model: nn.Module,
    data: Digits,
    *,
    epochs: int,
    lr: float,
    batch_size: int = 64,
    seed: int = 0,
    optimizer: str = "sgd",
    fast: bool = False,
    threads: int | None = 1,
    progress: bool | None = None,
    stream: TextIO | None = None,
) -> History:
    """Train ``model`` on ``data.x_train`` and record losses and validation accuracy per epoch.

    ``torch.manual_seed(seed)`` runs first, so lazy layers (materialized here by one
    eval-mode forward pass before the optimizer is created) and dropout are seeded; a
    ``torch.Generator`` seeded with ``seed`` shuffles the minibatches. ``optimizer`` is
    ``"sgd"`` (plain minibatch SGD) or ``"adam"``. The loss is the mean cross-entropy.
    ``fast=True`` runs refimpl's layers on the kernels of [`refimpl.fast`][] (the same
    numbers up to float rounding, several times faster to train); the default is the
    reference ops. ``threads`` is torch's intra-op thread count during the run (restored
    afterwards; ``None`` leaves it as it is). The default, one thread, is the fastest
    for networks this small, whose operations are too short to share, and it keeps the
    run from stalling when other processes busy the cores: waiting threads spin.
    Every epoch takes ``len(x_train) // batch_size`` full minibatches of a fresh
    permutation and drops the remainder: a tiny last batch would give batch norm noisy
    statistics and pull its running averages just before validation. The recorded
    training loss is the mean of the epoch's minibatch losses.

    ``progress`` prints a one-line ``\\r``-updated status per epoch to ``stream``
    (default ``sys.stdout``); ``None`` means: only when that stream is a terminal.

    Example:
        >>> import torch
        >>> import refimpl
        >>> from refimpl.training import load_digits_split, train
        >>> data = load_digits_split()
        >>> small = data._replace(x_train=data.x_train[:256], y_train=data.y_train[:256])
        >>> net = torch.nn.Sequential(refimpl.Flatten(), refimpl.LazyLinear(10))
        >>> history = train(net, small, epochs=2, lr=0.5)
        >>> history.epochs, history.train_loss[1] < history.train_loss[0]
        (2, True)
        >>> 0.0 <= history.val_accuracy[-1] <= 1.0
        True
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    steps = len(data.x_train) // batch_size
    if steps < 1:
        raise ValueError(f"batch_size {batch_size} exceeds the {len(data.x_train)} training images")
    out = sys.stdout if stream is None else stream
    show = out.isatty() if progress is None else progress
    torch.manual_seed(seed)
    x, y = data.x_train, data.y_train
    if any(is_lazy(p) for p in model.parameters()):
        materialize(model, x[:2])
    if optimizer == "sgd":
        opt: torch.optim.Optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    elif optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr)
    else:
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    history = History()
    start = time.perf_counter()
    with kernels(fast), _intra_op_threads(threads):  # refimpl's reference ops or fast kernels
        for epoch in range(epochs):
            model.train()
            order = torch.randperm(len(x), generator=generator)
            total = 0.0
            for step in range(steps):
                batch = order[step * batch_size : (step + 1) * batch_size]
                loss = loss_fn(model(x[batch]), y[batch])
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach())
            history.train_loss.append(total / steps)
            val_loss, val_acc = _evaluate(model, data.x_val, data.y_val, loss_fn)
            history.val_loss.append(val_loss)
            history.val_accuracy.append(val_acc)
            if show:
                out.write(
                    f"\repoch {epoch + 1}/{epochs}  train loss {history.train_loss[-1]:.4f}  "
                    f"val loss {val_loss:.4f}  val acc {val_acc:.3f}"
                )
                out.flush()
    history.seconds = time.perf_counter() - start
    if show:
        out.write("\n")
        out.flush()
    model.train()
    return history


@contextmanager
def _intra_op_threads(count: int | None) -> Iterator[None]:
    if count is None:
        yield
        return
    if count < 1:
        raise ValueError(f"threads must be at least 1, got {count}")
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# The jobs of the train_many call in progress: forked workers inherit this list, so a job
# is sent to a worker as its index and never has to be pickled (it is usually a lambda).
_PENDING: list[Callable[[], History]] = []


def _run_job(index: int) -> History:
    return _PENDING[index]()


def _start_worker() -> None:
    # First thing in a forked worker: one intra-op thread. The parent's OpenMP thread pool
    # did not survive the fork, and a parallel region that tried to reuse it would wait
    # forever; with one thread no region needs it (torch's DataLoader workers do the same).
    torch.set_num_threads(1)


def _cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def train_many(
    jobs: Mapping[K, Callable[[], History]], *, processes: int | None = None
) -> dict[K, History]:
    """Run independent trainings side by side, one per CPU core; return their histories.

    Each job is a function without arguments that builds a model and calls
    [`train`][refimpl.training.train], for example ``lambda: train(lenet8(), data, epochs=2,
    lr=1.0)``. The jobs run in up to ``processes`` worker processes (default: one per core
    this process may use), forked from this one, so they see everything defined here.
    [`train`][refimpl.training.train] seeds itself and runs on one thread, so the histories
    do not depend on how many processes there are or which one ran which job: with
    ``processes=1``, or where the platform cannot fork, the jobs run here one after another
    and give the same numbers. The small networks trained on the site keep one core busy
    each, so on ``n`` cores ``n`` of them train in about the time of one. A job trains its
    model in a worker: the model objects here stay as they were (lazy ones uninitialized),
    so everything a job reports goes through its [`History`][refimpl.training.History].

    Example:
        >>> import torch
        >>> import refimpl
        >>> from refimpl.training import load_digits_split, train, train_many
        >>> data = load_digits_split()
        >>> small = data._replace(x_train=data.x_train[:256], y_train=data.y_train[:256])
        >>> def job(lr):
        ...     net = torch.nn.Sequential(refimpl.Flatten(), refimpl.LazyLinear(10))
        ...     return lambda: train(net, small, epochs=2, lr=lr)
        >>> runs = train_many({lr: job(lr) for lr in (0.1, 1.0)})
        >>> list(runs), runs[1.0].train_loss[-1] < runs[0.1].train_loss[-1]
        ([0.1, 1.0], True)
    """
    if processes is not None and processes < 1:
        raise ValueError(f"processes must be at least 1, got {processes}")
    keys = list(jobs)
    workers = min(len(keys), processes or _cores())
    if _PENDING:
        raise RuntimeError("train_many cannot be called from inside one of its own jobs")
    _PENDING.extend(jobs[key] for key in keys)
    try:
        if workers <= 1 or "fork" not in get_all_start_methods():
            results = [_run_job(i) for i in range(len(keys))]
        else:
            context = get_context("fork")
            with ProcessPoolExecutor(workers, context, initializer=_start_worker) as pool:
                results = list(pool.map(_run_job, range(len(keys))))
    finally:
        _PENDING.clear()
    return dict(zip(keys, results, strict=True))
