"""Fast max pooling: a running maximum over the kernel taps, with its own backward.

The same operation as [`refimpl.functional.max_pool2d`][], and the same arguments,
results, indices and gradients (PyTorch's first-maximum tie rule). Tested equal to the
reference and to ``torch.nn.functional.max_pool2d`` (``tests/test_fast_kernels.py``).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from .._checks import IntPair, pool2d_arguments
from ..functional._layout import in_layout_of
from ..shapes import pool_output_size
from ._utils import all_finite

__all__ = ["max_pool2d"]


def _tap_ranges(
    size: int, out: int, kernel: int, step: int, pad: int, dil: int
) -> list[tuple[slice, slice] | None]:
    """Per kernel tap along one axis: the outputs it reaches and the input they read.

    Output ``i`` reads input ``i * step - pad + a * dil`` at tap ``a``; only those
    inside ``[0, size)`` count (the padding is ``-inf`` and never wins). ``None`` when
    the tap reaches no output.
    """
    ranges: list[tuple[slice, slice] | None] = []
    for a in range(kernel):
        offset = a * dil - pad
        first = max(0, -(offset // step))  # ceil(-offset / step)
        last = min(out - 1, (size - 1 - offset) // step)
        if first > last:
            ranges.append(None)
            continue
        start = first * step + offset
        ranges.append((slice(first, last + 1), slice(start, last * step + offset + 1, step)))
    return ranges


_Tap = tuple[tuple[slice, slice], tuple[slice, slice]]  # (output rows, cols), (input rows, cols)


def _max_pool_taps(
    input: Tensor,
    kernel: tuple[int, int],
    steps: tuple[int, int],
    pads: tuple[int, int],
    dil: tuple[int, int],
    out: tuple[int, int],
) -> list[_Tap]:
    """The kernel taps in row-major window order, each as output and input slices."""
    rows = _tap_ranges(input.shape[-2], out[0], kernel[0], steps[0], pads[0], dil[0])
    cols = _tap_ranges(input.shape[-1], out[1], kernel[1], steps[1], pads[1], dil[1])
    return [((r[0], c[0]), (r[1], c[1])) for r in rows for c in cols if r and c]


def _first_max_indices(input: Tensor, values: Tensor, taps: list[_Tap]) -> Tensor:
    """Flat index ``h * W + w`` of each window's first maximum in row-major tap order.

    The taps are visited last to first, each overwriting where it holds the maximum,
    so the earliest one wins: PyTorch's tie rule, which decides which input gets the
    gradient. A NaN counts as the maximum (it is what ``values`` holds).
    """
    width = input.shape[-1]
    indices = torch.zeros(values.shape, dtype=torch.long, device=input.device)
    for (out_rows, out_cols), (in_rows, in_cols) in reversed(taps):
        reads = input[..., in_rows, in_cols]
        best = values[..., out_rows, out_cols]
        hit = (reads == best) | reads.isnan()
        rows = torch.arange(in_rows.start, in_rows.stop, in_rows.step, device=input.device)
        cols = torch.arange(in_cols.start, in_cols.stop, in_cols.step, device=input.device)
        flat = rows.view(-1, 1) * width + cols  # (rows, cols) of this tap's outputs
        region = indices[..., out_rows, out_cols]
        region.copy_(torch.where(hit, flat, region))
    return indices


class _MaxPool2d(torch.autograd.Function):
    """Max pooling as a running maximum over the kernel taps, with its own backward.

    Taking ``max`` over a materialized ``(..., H_out, W_out, kH*kW)`` window tensor
    copies the input ``kH*kW / (sH*sW)`` times over; a running ``torch.maximum`` of one
    strided view per tap reads it in place. Autograd's backward of ``maximum`` would
    split the gradient of a tie between both sides, so the backward finds each
    window's first maximum itself and sends the whole gradient there, like PyTorch.
    """

    @staticmethod
    def forward(ctx: Any, input: Tensor, taps: list[_Tap], out: tuple[int, int]) -> Tensor:
        # a channels-last input gives a channels-last output, as in torch
        channels_last = input.dim() == 4 and not input.is_contiguous()
        channels_last = channels_last and input.is_contiguous(memory_format=torch.channels_last)
        layout = torch.channels_last if channels_last else torch.contiguous_format
        values = torch.empty(
            (*input.shape[:-2], *out), dtype=input.dtype, device=input.device, memory_format=layout
        )
        lowest = -math.inf if input.is_floating_point() else torch.iinfo(input.dtype).min
        values.fill_(lowest)  # like the -inf padding: never the maximum of a real value
        for (out_rows, out_cols), (in_rows, in_cols) in taps:
            region = values[..., out_rows, out_cols]
            torch.maximum(region, input[..., in_rows, in_cols], out=region)  # NaN wins
        ctx.taps = taps
        ctx.save_for_backward(input, values)
        return values

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor, None, None]:
        input, values = ctx.saved_tensors
        return _max_pool_backward(input, values, grad_out, ctx.taps), None, None


def _max_pool_backward(input: Tensor, values: Tensor, grad_out: Tensor, taps: list[_Tap]) -> Tensor:
    """Each window's gradient to the input at its first maximum, in row-major tap order.

    The taps are visited first to last with a 0/1 ``unclaimed`` mask per window: a tap
    that holds the maximum takes the gradient if no earlier tap did. Windows overlap
    when stride < kernel, so one input can collect the gradients of several windows;
    within one tap they cannot (one tap of different windows reads different inputs),
    so a strided ``+=`` per tap is exact. Masks are floats and the selection is
    arithmetic: on the CPU ``torch.where`` and ``scatter`` are many times slower. A
    gradient holding inf or NaN cannot be masked by multiplying (``inf * 0`` is NaN):
    it is sent along each window's first-maximum index instead.
    """
    if not all_finite(grad_out):
        indices = _first_max_indices(input, values, taps).flatten(-2)  # (..., Ho*Wo)
        grad = grad_out.new_zeros(*input.shape[:-2], input.shape[-2] * input.shape[-1])
        return grad.scatter_add(-1, indices, grad_out.flatten(-2)).view(input.shape)
    grad_input = grad_out.new_zeros(input.shape)
    unclaimed = torch.ones_like(grad_out)
    hits = torch.empty_like(grad_out)
    # NaN is the maximum of any window holding one: then the hit test must see NaN
    # too, and NaN != NaN. (Checked once: a NaN anywhere makes the sum NaN; so does
    # inf - inf, which only costs the extra test.)
    with_nan = bool(values.sum().isnan())
    for (out_rows, out_cols), (in_rows, in_cols) in taps:
        reads = input[..., in_rows, in_cols]
        hit = torch.eq(reads, values[..., out_rows, out_cols], out=hits[..., out_rows, out_cols])
        if with_nan:
            hit.add_(torch.ne(reads, reads).to(hit.dtype))
        free = unclaimed[..., out_rows, out_cols]
        hit.mul_(free)  # the first hit of each window only
        free.sub_(hit)
        grad_input[..., in_rows, in_cols].addcmul_(grad_out[..., out_rows, out_cols], hit)
    return grad_input


def max_pool2d(
    input: Tensor,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """[`refimpl.functional.max_pool2d`][], fast: the same arguments, results and gradients.

    Rather than gathering every window, the maximum is kept running over the
    ``kH * kW`` kernel taps: tap ``(a, b)`` of all windows at once is one strided view
    of the input (`_MaxPool2d`).

    Example:
        >>> import torch
        >>> from refimpl import fast
        >>> x = torch.arange(16.0).reshape(1, 4, 4)
        >>> fast.max_pool2d(x, 2)
        tensor([[[ 5.,  7.],
                 [13., 15.]]])
    """
    kernel, steps, pads, dil = pool2d_arguments(
        input, kernel_size, stride, padding, dilation, "max_pool2d"
    )
    out = (
        pool_output_size(input.shape[-2], kernel[0], steps[0], pads[0], dil[0], ceil_mode),
        pool_output_size(input.shape[-1], kernel[1], steps[1], pads[1], dil[1], ceil_mode),
    )
    taps = _max_pool_taps(input, kernel, steps, pads, dil, out)
    values = _MaxPool2d.apply(input, taps, out)
    if not return_indices:
        return values
    indices = _first_max_indices(input.detach(), values.detach(), taps)
    return values, in_layout_of(indices, input)
