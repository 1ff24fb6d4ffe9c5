"""Matrix products for the layers, on the fastest matrix-multiply kernel torch has.

``matmul(a, b)`` is ``a @ b`` for 2-D operands, or for 3-D operands with the same
leading (batch) size. On a CPU, in float32, it runs on oneDNN's GEMM (torch ships oneDNN
for its own convolutions) through ``torch.ops.mkldnn._linear_pointwise`` with no bias
and no fused activation: a plain matrix product, ``a @ b`` written as
``linear(a, b^T)``. Everywhere else (other dtypes and devices, oneDNN switched off with
``torch.backends.mkldnn.flags(enabled=False)`` or [`onednn_gemm`][refimpl.fast.onednn_gemm], an op
missing
from the torch build or answering the probe wrongly) it is ``torch.matmul``.

The op is private to torch, so its schema may change between releases: before the
first use it is probed once on a small product with a known exact answer, and any
exception or wrong answer means ``torch.matmul`` from then on
([`onednn_works`][refimpl.fast.onednn_works]).

Why it matters: on CPUs where torch's BLAS (MKL) takes its AVX2 code path, oneDNN's
AVX-512 GEMM is about twice as fast, and a convolution computed as im2col + GEMM is
bound by its GEMM. The product is the same mathematical operation either way; only the
order of the floating-point additions differs.

The oneDNN op has no autograd formula, so the product is wrapped in an
``autograd.Function`` whose backward is two more products through [`matmul`][refimpl.fast.matmul]:
``grad_a = grad @ b^T`` and ``grad_b = a^T @ grad``. Those are differentiable in turn,
so double backward works.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor

__all__ = ["matmul", "onednn_gemm", "onednn_works", "uses_onednn"]

_enabled = True


def _lookup() -> Callable[..., Tensor] | None:
    """oneDNN's linear op, or None where this torch build has none."""
    if not torch.backends.mkldnn.is_available():
        return None
    return getattr(torch.ops.mkldnn, "_linear_pointwise", None)


def _linear(a: Tensor, weight: Tensor) -> Tensor:
    """``a @ weight^T`` by oneDNN: no bias, no fused activation (``"none"``, no scalars)."""
    op = _lookup()
    assert op is not None  # callers check onednn_works() first
    return op(a, weight, None, "none", [], "")


@functools.cache
def onednn_works() -> bool:
    """Whether oneDNN's linear op exists here and computes a known product exactly.

    Probed once per process (small integers: every float32 product and sum is exact).
    Any exception, such as another schema in another torch release, means no.
    """
    if _lookup() is None:
        return False
    a = torch.arange(6.0).reshape(2, 3)
    b = torch.arange(12.0).reshape(3, 4)
    try:
        return bool(torch.equal(_linear(a, b.mT), a @ b))
    except Exception:
        return False


@contextmanager
def onednn_gemm(enabled: bool) -> Iterator[None]:
    """Within the block, [`matmul`][refimpl.fast.matmul] uses oneDNN's GEMM only if ``enabled``.

    For measuring what the kernel choice is worth (``benchmarks/bench_layers.py
    --gemm torch``) and for tests of both paths.
    """
    global _enabled
    previous, _enabled = _enabled, bool(enabled)
    try:
        yield
    finally:
        _enabled = previous


def uses_onednn(a: Tensor, b: Tensor) -> bool:
    """Whether ``matmul(a, b)`` runs on oneDNN's GEMM."""
    return (
        _enabled
        and a.device.type == "cpu"
        and b.device.type == "cpu"
        and a.dtype == torch.float32
        and b.dtype == torch.float32
        and a.dim() == b.dim()
        and a.dim() in (2, 3)
        and a.shape[:-2] == b.shape[:-2]
        and a.shape[-1] == b.shape[-2]
        and a.numel() > 0
        and b.numel() > 0
        and bool(torch.backends.mkldnn.enabled)
        and onednn_works()
    )


def _onednn_product(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` by oneDNN: ``linear(a, weight=b^T)``, one call per matrix of a batch."""
    if a.dim() == 2:
        return _linear(a, b.mT)
    if a.shape[0] == 1:  # one group of a convolution: no stacking copy
        return _linear(a[0], b[0].mT).unsqueeze(0)
    return torch.stack([_linear(x, y.mT) for x, y in zip(a, b)])


class _OneDnnMatmul(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor) -> Tensor:
        ctx.save_for_backward(a, b)
        return _onednn_product(a, b)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        grad_a = matmul(grad, b.mT) if ctx.needs_input_grad[0] else None
        grad_b = matmul(a.mT, grad) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` for 2-D operands or batches of them (see the module's docstring)."""
    if not uses_onednn(a, b):
        return torch.matmul(a, b)
    if torch.is_grad_enabled() and (a.requires_grad or b.requires_grad):
        return _OneDnnMatmul.apply(a, b)
    return _onednn_product(a, b)
