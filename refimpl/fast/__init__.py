"""Fast kernels for the ops whose reference is slow, switched on explicitly.

[`refimpl.functional`][] is the reference: what a reader reads, and what runs by
default. This package holds faster versions of four of its ops, with the same names,
signatures, results, gradients and errors, written for speed rather than for reading:

* [`conv2d`][refimpl.fast.conv2d]: im2col in memory-sized blocks of images, on oneDNN's GEMM on a
CPU
  in float32 (`refimpl.fast.gemm`), with matrix-product backward passes, and a
  tap-wise multiply-accumulate for depthwise convolutions;
* [`max_pool2d`][refimpl.fast.max_pool2d]: a running maximum over the kernel taps, no window copy;
* [`batch_norm`][refimpl.fast.batch_norm]: one buffer for the statistics, the closed-form backward;
* [`relu`][refimpl.fast.relu]: a backward that multiplies by a 0/1 mask.

Nothing changes until they are switched on, for a block or for the process::

    with refimpl.fast.kernels():      # refimpl.functional's ops (and so the modules)
        loss = model(x).sum()         # run on the fast kernels inside the block
    refimpl.fast.set_enabled(True)    # ... or from now on

or by ``REFIMPL_FAST_KERNELS=1`` in the environment when ``refimpl`` is imported.
The tests prove each kernel equal to the reference and to ``torch.nn.functional``
(``tests/test_fast_kernels.py``), and the whole suite passes with them switched on.

Example:
    >>> import torch
    >>> import refimpl
    >>> from refimpl import functional as F
    >>> x, w = torch.randn(1, 3, 8, 8), torch.randn(4, 3, 3, 3)
    >>> with refimpl.fast.kernels():
    ...     fast = F.conv2d(x, w, padding=1)
    >>> with refimpl.fast.kernels(False):
    ...     reference = F.conv2d(x, w, padding=1)
    >>> torch.allclose(fast, reference, atol=1e-5)
    True
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .._dispatch import fast_kernels_enabled, set_fast_kernels
from .activation import relu
from .conv import conv2d
from .gemm import matmul, onednn_gemm, onednn_works
from .normalization import batch_norm
from .pooling import max_pool2d

__all__ = [
    "batch_norm",
    "conv2d",
    "is_enabled",
    "kernels",
    "matmul",
    "max_pool2d",
    "onednn_gemm",
    "onednn_works",
    "relu",
    "set_enabled",
]


def is_enabled() -> bool:
    """Whether [`refimpl.functional`][]'s ops run on the fast kernels now."""
    return fast_kernels_enabled()


def set_enabled(enabled: bool) -> None:
    """Switch the fast kernels on (``True``) or off (``False``) for the whole process."""
    set_fast_kernels(enabled)


@contextmanager
def kernels(enabled: bool = True) -> Iterator[None]:
    """Within the block, [`refimpl.functional`][]'s ops run on the fast kernels (or not).

    The previous setting comes back when the block ends, also on an exception.
    """
    previous = set_fast_kernels(enabled)
    try:
        yield
    finally:
        set_fast_kernels(previous)
