"""Max, average and adaptive pooling: windows of the padded input, then a reduction."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .._checks import (
    IntPair,
    OutputSize,
    adaptive_output_size,
    avg_pool2d_divisor,
    pool2d_arguments,
)
from .._dispatch import has_fast_kernel
from ..shapes import adaptive_bins, effective_kernel_size, pool_output_size
from ._layout import in_layout_of
from .padding import pad2d

__all__ = ["adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool2d", "max_pool2d"]

Pair = tuple[int, int]


@has_fast_kernel
def max_pool2d(
    input: Tensor,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Largest value of each (dilated) window, as ``torch.nn.functional.max_pool2d``.

    The input is padded with ``-inf``, so padding never wins. On ties the first
    maximum in row-major window order is taken (and receives the gradient), as in
    PyTorch; a NaN is the maximum of its window. ``return_indices`` also returns
    each maximum's flat index ``h * W + w`` into its input plane.

    Shape:
        ``H_out = floor_or_ceil((H + 2 * pH - dH * (kH - 1) - 1) / sH) + 1``; with
        ``ceil_mode`` a last window starting in the padding is dropped.

    Example:
        >>> import torch
        >>> from refimpl.functional import max_pool2d
        >>> x = torch.arange(16.0).reshape(1, 4, 4)
        >>> max_pool2d(x, 2)
        tensor([[[ 5.,  7.],
                 [13., 15.]]])
    """
    kernel, stride_hw, pads, dil = pool2d_arguments(
        input, kernel_size, stride, padding, dilation, "max_pool2d"
    )
    (out_h, out_w), overhang = _output_size(input, kernel, stride_hw, pads, dil, ceil_mode)
    lowest = -math.inf if input.is_floating_point() else torch.iinfo(input.dtype).min
    x = pad2d(input, (pads[1], pads[1] + overhang[1], pads[0], pads[0] + overhang[0]), value=lowest)
    rows = _window_taps(input.shape[-2], kernel[0], stride_hw[0], pads[0], dil[0], out_h, x)
    cols = _window_taps(input.shape[-1], kernel[1], stride_hw[1], pads[1], dil[1], out_w, x)
    # every window, gathered: (..., H_out, W_out, kH, kW)
    windows = x[..., rows.view(out_h, 1, kernel[0], 1), cols.view(1, out_w, 1, kernel[1])]
    # the first maximum of each window, in row-major tap order (a NaN is the maximum);
    # autograd sends the window's whole gradient to that one tap, as torch does
    values, tap = windows.flatten(-2).max(dim=-1)
    if not return_indices:
        return in_layout_of(values, input)
    # tap t = a * kW + b of window (i, j) read padded row rows[i, a], column cols[j, b]
    i, j = torch.arange(out_h, device=x.device).view(-1, 1), torch.arange(out_w, device=x.device)
    row = rows[i, torch.div(tap, kernel[1], rounding_mode="floor")]
    col = cols[j, tap.remainder(kernel[1])]
    indices = (row - pads[0]) * input.shape[-1] + (col - pads[1])
    return in_layout_of(values, input), in_layout_of(indices, input)


def _window_taps(
    size: int, kernel: int, stride: int, pad: int, dil: int, out: int, like: Tensor
) -> Tensor:
    """``(out, kernel)``: the position in the padded axis that window ``i`` reads at tap ``a``.

    Window ``i`` starts at ``i * stride`` and reads every ``dil``-th position. A tap in
    the padding reads the window's nearest tap inside the input instead (the first
    such tap before it, the last after it): the maximum is the same, and when every
    value inside is ``-inf`` the gradient goes to the window's first tap inside the
    input, as in PyTorch (not to a padding tap, where it would be lost).
    """
    i = torch.arange(out, device=like.device).view(-1, 1)
    taps = i * stride + torch.arange(kernel, device=like.device) * dil  # (out, kernel)
    inside = (taps >= pad) & (taps < size + pad)
    first = torch.where(inside, taps, size + 2 * pad).amin(dim=1, keepdim=True)
    last = torch.where(inside, taps, -1).amax(dim=1, keepdim=True)
    # a window with no tap inside (possible with a large dilation) keeps its padding: -inf
    return torch.where(inside.any(dim=1, keepdim=True), taps.clamp(first, last), taps)


def avg_pool2d(
    input: Tensor,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean of each window, as ``torch.nn.functional.avg_pool2d``.

    The divisor, per output position, is ``divisor_override`` if given; else the
    window's area inside the zero-padded input (``count_include_pad=True``, the
    default) or inside the unpadded input (``count_include_pad=False``). Part of a
    ``ceil_mode`` window hanging past the padding never counts.

    Example:
        >>> import torch
        >>> from refimpl.functional import avg_pool2d
        >>> x = torch.ones(1, 2, 2)
        >>> avg_pool2d(x, 2, stride=1, padding=1)          # zeros count
        tensor([[[0.2500, 0.5000, 0.2500],
                 [0.5000, 1.0000, 0.5000],
                 [0.2500, 0.5000, 0.2500]]])
        >>> avg_pool2d(x, 2, stride=1, padding=1, count_include_pad=False)
        tensor([[[1., 1., 1.],
                 [1., 1., 1.],
                 [1., 1., 1.]]])
    """
    avg_pool2d_divisor(divisor_override)
    kernel, stride_hw, pads, dil = pool2d_arguments(
        input, kernel_size, stride, padding, 1, "avg_pool2d"
    )
    windows = _pool_windows(input, kernel, stride_hw, pads, dil, ceil_mode, fill=0.0)
    sums = windows.sum(dim=(-2, -1))  # (..., H_out, W_out)
    if divisor_override is not None:
        return in_layout_of(sums / divisor_override, input)
    # the divisor is separable: (rows of the window counted) x (columns counted)
    rows, cols = (
        _counted(size, k, s, p, out, count_include_pad, input)
        for size, k, s, p, out in zip(input.shape[-2:], kernel, stride_hw, pads, sums.shape[-2:])
    )
    return in_layout_of(sums / (rows.view(-1, 1) * cols), input)


def _output_size(
    input: Tensor, kernel: Pair, stride: Pair, pads: Pair, dil: Pair, ceil_mode: bool
) -> tuple[Pair, Pair]:
    """``(H_out, W_out)``, and how far a last ``ceil_mode`` window hangs past the padding."""
    out, overhang = [], []
    for size, k, s, p, d in zip(input.shape[-2:], kernel, stride, pads, dil):
        out.append(pool_output_size(size, k, s, p, d, ceil_mode))
        overhang.append(max(0, (out[-1] - 1) * s + effective_kernel_size(k, d) - (size + 2 * p)))
    return (out[0], out[1]), (overhang[0], overhang[1])


def _pool_windows(
    input: Tensor, kernel: Pair, stride: Pair, pads: Pair, dil: Pair, ceil_mode: bool, fill: float
) -> Tensor:
    """Every pooling window as a view of the padded input, ``(..., H_out, W_out, kH, kW)``.

    Pads ``pads`` on each side with ``fill``, and a little more at the right/bottom
    for the part of a last ``ceil_mode`` window that hangs past the padding.
    """
    (out_h, out_w), overhang = _output_size(input, kernel, stride, pads, dil, ceil_mode)
    x = pad2d(input, (pads[1], pads[1] + overhang[1], pads[0], pads[0] + overhang[0]), value=fill)
    spans = [effective_kernel_size(k, d) for k, d in zip(kernel, dil)]
    windows = x.unfold(-2, spans[0], stride[0]).unfold(-2, spans[1], stride[1])
    return windows[..., :out_h, :out_w, :: dil[0], :: dil[1]]


def _counted(
    size: int, kernel: int, stride: int, pad: int, out: int, include_pad: bool, like: Tensor
) -> Tensor:
    """Per window along one axis, how many positions its average divides by."""
    start = torch.arange(out, device=like.device) * stride - pad
    end = torch.clamp(start + kernel, max=size + pad)  # a ceil_mode overhang never counts
    if not include_pad:
        start, end = start.clamp(min=0), end.clamp(max=size)
    return (end - start).to(like.dtype)


def adaptive_avg_pool2d(input: Tensor, output_size: OutputSize) -> Tensor:
    """Average over adaptive bins, as ``torch.nn.functional.adaptive_avg_pool2d``.

    Output ``i`` averages input rows ``[floor(i*H/H_out), ceil((i+1)*H/H_out))``
    (likewise columns; [`refimpl.shapes.adaptive_bins`][]), so bins overlap when
    ``H`` is not a multiple of ``H_out``. Averaging over bins is linear, so it is
    ``A_h @ x @ A_w^T`` with ``A[i, j] = 1 / len(bin i)`` for ``j`` in bin ``i``.

    Example:
        >>> import torch
        >>> from refimpl.functional import adaptive_avg_pool2d
        >>> x = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
        >>> adaptive_avg_pool2d(x, 1)
        tensor([[[2.5000]]])
    """
    out_h, out_w = adaptive_output_size(input, output_size, "adaptive_avg_pool2d")
    if (out_h, out_w) == (1, 1):  # global average pooling: one bin, the whole plane
        return input.mean(dim=(-2, -1), keepdim=True)

    def averaging(in_size: int, out_size: int) -> Tensor:  # (out_size, in_size)
        matrix = input.new_zeros(out_size, in_size)
        for i, (start, end) in enumerate(adaptive_bins(in_size, out_size)):
            matrix[i, start:end] = 1 / (end - start)
        return matrix

    out = averaging(input.shape[-2], out_h) @ input @ averaging(input.shape[-1], out_w).T
    return in_layout_of(out, input)


def adaptive_max_pool2d(
    input: Tensor, output_size: OutputSize, return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """Maximum over adaptive bins, as ``torch.nn.functional.adaptive_max_pool2d``.

    Each bin's members ([`refimpl.shapes.adaptive_bins`][]) are gathered into a
    fixed-length axis (a short bin repeats its last member, which cannot change its
    maximum), then reduced. Indices, if asked for, are flat ``h * W + w`` positions.

    Example:
        >>> import torch
        >>> from refimpl.functional import adaptive_max_pool2d
        >>> x = torch.tensor([[[1.0, 5.0, 2.0, 0.0, 3.0]]])
        >>> adaptive_max_pool2d(x, (1, 3))   # bins [0, 2), [1, 4), [3, 5)
        tensor([[[5., 5., 3.]]])
    """
    out_h, out_w = adaptive_output_size(input, output_size, "adaptive_max_pool2d")
    height, width = input.shape[-2:]
    rows = _bin_members(height, out_h, input.device)  # (H_out, Lh): input rows of each bin
    cols = _bin_members(width, out_w, input.device)  # (W_out, Lw)
    lh, lw = rows.shape[1], cols.shape[1]
    gathered = input[..., rows.view(out_h, 1, lh, 1), cols.view(1, out_w, 1, lw)]
    # (..., H_out, W_out, Lh, Lw): the first maximum of each bin gets the gradient
    values, where = gathered.flatten(-2).max(dim=-1)
    if not return_indices:
        return in_layout_of(values, input)
    # member (a, b) of bin (i, j) is input position (rows[i, a], cols[j, b])
    i = torch.arange(out_h, device=input.device).view(-1, 1)
    j = torch.arange(out_w, device=input.device)
    row = rows[i, torch.div(where, lw, rounding_mode="floor")]
    col = cols[j, where.remainder(lw)]
    return in_layout_of(values, input), in_layout_of(row * width + col, input)


def _bin_members(in_size: int, out_size: int, device: torch.device) -> Tensor:
    """``(out_size, L)`` input positions of each adaptive bin; short bins repeat their last."""
    bins = adaptive_bins(in_size, out_size) if out_size else []
    longest = max((end - start for start, end in bins), default=1)
    members = [[min(start + k, end - 1) for k in range(longest)] for start, end in bins]
    return torch.tensor(members, dtype=torch.long, device=device).view(out_size, longest)
