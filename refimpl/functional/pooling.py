"""Max, average and adaptive pooling from padding, ``unfold`` views and reductions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from .._utils import IntPair, all_finite, check_non_negative, check_positive, is_int, pair
from ..shapes import pool_output_size
from .padding import pad2d

__all__ = [
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "avg_pool2d",
    "max_pool2d",
    "pool_arguments",
]

OutputSize = int | None | Sequence[int | None]


def _check_pool_input(input: Tensor, name: str) -> None:
    if input.dim() not in (3, 4) or input.shape[-2] == 0 or input.shape[-1] == 0:
        # torch's avg_pool2d indexes dim -3 before checking: a 1D/2D input is an IndexError
        error = IndexError if name == "avg_pool2d" and input.dim() < 3 else RuntimeError
        raise error(
            f"{name}: expected a non-empty 3D (C, H, W) or 4D (N, C, H, W) input, "
            f"but got input of size: {list(input.shape)}"
        )


def pool_arguments(
    kernel_size: IntPair,
    stride: IntPair | None,
    padding: IntPair,
    dilation: IntPair,
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Validate pooling hyper-parameters; return ``(kernel, stride, padding, dilation)`` pairs.

    ``stride=None`` means "same as the kernel". Padding may be at most half of the
    kernel size (PyTorch 2.13 checks the undilated ``kernel_size``, also when dilated),
    so no window lies entirely in the padding.
    """
    kernel = pair(kernel_size, "kernel_size")
    check_positive("kernel_size", kernel)
    steps = kernel if stride is None else pair(stride, "stride")
    check_positive("stride", steps)
    pads = pair(padding, "padding")
    check_non_negative("padding", pads)
    dil = pair(dilation, "dilation")
    check_positive("dilation", dil)
    if any(p > k // 2 for p, k in zip(pads, kernel, strict=True)):
        raise RuntimeError(
            f"pad should be at most half of kernel size, but got padding={padding} "
            f"and kernel_size={kernel_size}"
        )
    return kernel, steps, pads, dil


def _pool_geometry(
    input: Tensor,
    kernel_size: IntPair,
    stride: IntPair | None,
    padding: IntPair,
    dilation: IntPair,
    ceil_mode: bool,
    name: str,
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Validate a pooling call; return kernel, stride, padding, dilation and output size."""
    _check_pool_input(input, name)
    kernel, steps, pads, dil = pool_arguments(kernel_size, stride, padding, dilation)
    height, width = input.shape[-2:]
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dil, strict=True)]
    if spans[0] > height + 2 * pads[0] or spans[1] > width + 2 * pads[1]:
        raise RuntimeError(
            f"{name}: kernel_size={kernel_size} (dilation={dilation}) does not fit in the "
            f"padded input of size ({height + 2 * pads[0]} x {width + 2 * pads[1]}) of input "
            f"{list(input.shape)}: output size is too small"
        )
    out = (
        pool_output_size(height, kernel[0], steps[0], pads[0], dil[0], ceil_mode),
        pool_output_size(width, kernel[1], steps[1], pads[1], dil[1], ceil_mode),
    )
    return kernel, steps, pads, dil, out


def _windows(
    x: Tensor,
    kernel: tuple[int, int],
    steps: tuple[int, int],
    pads: tuple[int, int],
    dil: tuple[int, int],
    out: tuple[int, int],
    value: float,
) -> Tensor:
    """View of every pooling window, ``(..., H_out, W_out, kH, kW)``.

    Pads with ``value`` on each side, plus whatever the last ``ceil_mode`` window
    hangs over the right/bottom padding.
    """
    height, width = x.shape[-2:]
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dil, strict=True)]
    extra_h = max(0, (out[0] - 1) * steps[0] + spans[0] - (height + 2 * pads[0]))
    extra_w = max(0, (out[1] - 1) * steps[1] + spans[1] - (width + 2 * pads[1]))
    x = pad2d(x, (pads[1], pads[1] + extra_w, pads[0], pads[0] + extra_h), value=value)
    windows = x.unfold(-2, spans[0], steps[0]).unfold(-2, spans[1], steps[1])
    return windows[..., : out[0], : out[1], :: dil[0], :: dil[1]]


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
    """Largest value of each (dilated) window, as ``torch.nn.functional.max_pool2d``.

    The input is padded with ``-inf`` so padding never wins. On ties the first
    maximum in row-major window order is taken (and receives the gradient), as in
    PyTorch. ``return_indices`` also returns each maximum's flat index ``h * W + w``
    into its input plane.

    Rather than gathering every window, the maximum is kept running over the
    ``kH * kW`` kernel taps: tap ``(a, b)`` of all windows at once is one strided view
    of the input.

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
    kernel, steps, pads, dil, out = _pool_geometry(
        input, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d"
    )
    taps = _max_pool_taps(input, kernel, steps, pads, dil, out)
    values = _MaxPool2d.apply(input, taps, out)
    if not return_indices:
        return values
    return values, _first_max_indices(input.detach(), values.detach(), taps)


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
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"divisor must be not zero, got divisor_override={divisor_override}")
    kernel, steps, pads, dil, out = _pool_geometry(
        input, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d"
    )
    sums = _windows(input, kernel, steps, pads, dil, out, 0.0).sum(dim=(-2, -1))
    if divisor_override is not None:
        return sums / divisor_override
    # the divisor is separable: (window rows counted) x (window columns counted)
    counts = []
    for size, k, s, p, n in zip(input.shape[-2:], kernel, steps, pads, out, strict=True):
        start = torch.arange(n, device=input.device) * s - p
        end = torch.clamp(start + k, max=size + p)
        if not count_include_pad:
            start, end = start.clamp(min=0), end.clamp(max=size)
        counts.append((end - start).to(input.dtype))
    return sums / (counts[0].view(-1, 1) * counts[1].view(1, -1))


def _adaptive_size(
    input: Tensor, output_size: OutputSize, name: str, check_input: bool = True
) -> tuple[int, int]:
    if check_input:
        _check_pool_input(input, name)
    if output_size is None or is_int(output_size):
        sizes: Sequence[int | None] = (output_size, output_size)  # type: ignore[assignment]
    elif isinstance(output_size, Sequence) and not isinstance(output_size, str):
        sizes = tuple(output_size)
        if input.dim() <= len(sizes):
            raise ValueError(
                f"{name}: input dimension should be at least {len(sizes) + 1} for "
                f"output_size={output_size!r}, got input of size {list(input.shape)}"
            )
        if len(sizes) != 2:
            raise RuntimeError(
                f"{name}: output_size must be 2-dimensional, got output_size={output_size!r}"
            )
    else:
        sizes = ()
    if len(sizes) != 2 or not all(s is None or is_int(s) for s in sizes):
        raise TypeError(
            f"{name}: output_size must be an int, None or a pair of them, "
            f"got output_size={output_size!r}"
        )
    resolved = tuple(
        int(dim) if size is None else size
        for size, dim in zip(sizes, input.shape[-2:], strict=True)
    )
    if min(resolved) < 0:
        raise RuntimeError(
            f"{name}: elements of output_size must be greater than or equal to 0, "
            f"got output_size={output_size!r}"
        )
    return resolved[0], resolved[1]


def _bin_edges(in_size: int, out_size: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """Start and end of each adaptive bin: ``[floor(i*in/out), ceil((i+1)*in/out))``."""
    i = torch.arange(out_size, device=device)
    return (i * in_size) // out_size, ((i + 1) * in_size + out_size - 1) // out_size


def adaptive_avg_pool2d(input: Tensor, output_size: OutputSize) -> Tensor:
    """Average over adaptive bins, as ``torch.nn.functional.adaptive_avg_pool2d``.

    Output ``i`` averages input rows ``[floor(i*H/H_out), ceil((i+1)*H/H_out))``
    (likewise columns), so bins overlap when ``H`` is not a multiple of ``H_out``.
    Averaging over bins is linear, so it is written as ``A_h @ x @ A_w^T`` with
    ``A[i, j] = 1 / len(bin i)`` for ``j`` in bin ``i``.

    Example:
        >>> import torch
        >>> from refimpl.functional import adaptive_avg_pool2d
        >>> x = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])
        >>> adaptive_avg_pool2d(x, 1)
        tensor([[[2.5000]]])
    """
    if input.dim() < 2:
        raise IndexError(
            f"adaptive_avg_pool2d pools the last two dimensions, got input of size "
            f"{list(input.shape)}"
        )
    out_h, out_w = _adaptive_size(input, output_size, "adaptive_avg_pool2d", check_input=False)
    if (out_h, out_w) == (1, 1):
        # global average pooling; like torch, this one case takes any input of rank >= 2
        return input.mean(dim=(-2, -1), keepdim=True)
    _check_pool_input(input, "adaptive_avg_pool2d")

    def averaging_matrix(in_size: int, out_size: int) -> Tensor:
        start, end = _bin_edges(in_size, out_size, input.device)
        j = torch.arange(in_size, device=input.device)
        member = (j >= start.view(-1, 1)) & (j < end.view(-1, 1))  # (out, in)
        return member.to(input.dtype) / (end - start).view(-1, 1).to(input.dtype)

    rows = averaging_matrix(input.shape[-2], out_h)  # (H_out, H)
    cols = averaging_matrix(input.shape[-1], out_w)  # (W_out, W)
    return rows @ input @ cols.T


def _bin_members(in_size: int, out_size: int, device: torch.device) -> Tensor:
    """``(out, L)`` input indices of each bin; short bins repeat their last index."""
    start, end = _bin_edges(in_size, out_size, device)
    longest = int((end - start).max()) if out_size else 1
    offsets = torch.arange(longest, device=device)
    return torch.minimum(start.view(-1, 1) + offsets, end.view(-1, 1) - 1)


def adaptive_max_pool2d(
    input: Tensor, output_size: OutputSize, return_indices: bool = False
) -> Tensor | tuple[Tensor, Tensor]:
    """Maximum over adaptive bins, as ``torch.nn.functional.adaptive_max_pool2d``.

    Each bin's members are gathered with ``index_select`` into a fixed-length axis
    (a short bin repeats its last member, which cannot change its maximum), then
    reduced. Indices, if asked for, are flat ``h * W + w`` positions.

    Example:
        >>> import torch
        >>> from refimpl.functional import adaptive_max_pool2d
        >>> x = torch.tensor([[[1.0, 5.0, 2.0, 0.0, 3.0]]])
        >>> adaptive_max_pool2d(x, (1, 3))   # bins [0, 2), [1, 4), [3, 5)
        tensor([[[5., 5., 3.]]])
    """
    out_h, out_w = _adaptive_size(input, output_size, "adaptive_max_pool2d")
    height, width = input.shape[-2:]
    rows = _bin_members(height, out_h, input.device)  # (H_out, Lh)
    cols = _bin_members(width, out_w, input.device)  # (W_out, Lw)
    lead = input.shape[:-2]
    gathered = input.index_select(-2, rows.flatten()).index_select(-1, cols.flatten())
    gathered = gathered.reshape(*lead, out_h, rows.shape[1], out_w, cols.shape[1])
    gathered = gathered.transpose(-3, -2)  # (..., H_out, W_out, Lh, Lw)
    bin_area = rows.shape[1] * cols.shape[1]
    values, flat = gathered.reshape(*lead, out_h, out_w, bin_area).max(dim=-1)
    if not return_indices:
        return values
    # position (a, b) inside bin (i, j) back to input coordinates (rows[i, a], cols[j, b])
    a = torch.div(flat, cols.shape[1], rounding_mode="floor")
    b = flat.remainder(cols.shape[1])
    row_index = rows[torch.arange(out_h, device=input.device).view(-1, 1), a]
    col_index = cols[torch.arange(out_w, device=input.device).view(1, -1), b]
    return values, row_index * width + col_index
