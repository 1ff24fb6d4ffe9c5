"""2-D convolution (cross-correlation) from padding, ``unfold`` and matrix products."""

from __future__ import annotations

import torch
from torch import Tensor

from .._utils import IntPair, check_non_negative, check_positive, check_same_dtype, pair
from ..shapes import same_padding
from .padding import pad2d

__all__ = ["conv2d", "conv2d_definition", "resolve_conv_padding"]


def resolve_conv_padding(
    padding: str | IntPair, kernel_size: tuple[int, int], dilation: tuple[int, int]
) -> tuple[int, int, int, int]:
    """Per-side ``(left, right, top, bottom)`` padding for a ``padding`` argument.

    ``'same'`` pads ``dilation * (k - 1)`` in total, the odd one out at the
    right/bottom; ``'valid'`` pads nothing; an int or a pair pads each side.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding == "same":
            top, bottom = same_padding(kernel_size[0], dilation[0])
            left, right = same_padding(kernel_size[1], dilation[1])
            return left, right, top, bottom
        raise RuntimeError(
            f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
        )
    ph, pw = pair(padding, "padding")
    check_non_negative("padding", (ph, pw))
    return pw, pw, ph, ph


def _conv_arguments(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: IntPair,
    padding: str | IntPair,
    dilation: IntPair,
    groups: int,
) -> tuple[tuple[int, int], tuple[int, int, int, int], tuple[int, int]]:
    """Validate a convolution call; return stride, per-side padding and dilation."""
    if input.dim() not in (3, 4):
        raise RuntimeError(
            "Expected 3D (unbatched) or 4D (batched) input to conv2d, "
            f"but got input of size: {list(input.shape)}"
        )
    if weight.dim() != 4:
        raise RuntimeError(
            f"Expected a 4D weight (out_channels, in_channels // groups, kH, kW), "
            f"but got weight of size: {list(weight.shape)}"
        )
    if groups <= 0:
        raise RuntimeError(f"non-positive groups is not supported, got groups={groups}")
    channels = input.shape[-3]
    if channels != weight.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(input.shape)} to have {weight.shape[1] * groups} channels, "
            f"but got {channels} channels instead"
        )
    if weight.shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at "
            f"dimension 0, but got weight of size {list(weight.shape)}"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(
            f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional "
            f"with {weight.shape[0]} elements, but got bias of size {list(bias.shape)}"
        )
    check_same_dtype(input, weight=weight, bias=bias)
    stride_hw = pair(stride, "stride")
    dilation_hw = pair(dilation, "dilation")
    check_positive("stride", stride_hw)
    check_positive("dilation", dilation_hw)
    kernel = (weight.shape[2], weight.shape[3])
    check_positive("kernel_size", kernel)
    if isinstance(padding, str) and padding == "same" and stride_hw != (1, 1):
        raise RuntimeError(
            f"padding='same' is not supported for strided convolutions, got stride={stride}"
        )
    pads = resolve_conv_padding(padding, kernel, dilation_hw)
    height = input.shape[-2] + pads[2] + pads[3]
    width = input.shape[-1] + pads[0] + pads[1]
    span_h = dilation_hw[0] * (kernel[0] - 1) + 1
    span_w = dilation_hw[1] * (kernel[1] - 1) + 1
    if span_h > height or span_w > width:
        raise RuntimeError(
            f"Calculated padded input size per channel: ({height} x {width}). "
            f"Kernel size: ({span_h} x {span_w}). Kernel size can't be greater than "
            "actual input size"
        )
    return stride_hw, pads, dilation_hw


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntPair = 1,
    padding: str | IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> Tensor:
    """2-D cross-correlation of ``input`` with ``weight``, as ``torch.nn.functional.conv2d``.

    Every output pixel is the dot product of one ``(C_in / groups, kH, kW)`` window of
    the padded input with one filter. The windows are a strided *view* of the input
    (``Tensor.unfold``), gathered once into a matrix and multiplied by the filters.

    Args:
        input: ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``.
        weight: ``(C_out, C_in / groups, kH, kW)``.
        bias: ``(C_out,)`` or ``None``.
        stride: step between windows, int or ``(sH, sW)``.
        padding: zeros added on *each* side, int or ``(pH, pW)``, or ``'same'``/``'valid'``.
        dilation: spacing between kernel taps, int or ``(dH, dW)``.
        groups: input and output channels split into this many independent groups.

    Shape:
        ``H_out = floor((H + 2 * pH - dH * (kH - 1) - 1) / sH) + 1``, likewise ``W_out``.

    Example:
        >>> import torch
        >>> from refimpl.functional import conv2d
        >>> x = torch.arange(9.0).reshape(1, 1, 3, 3)
        >>> conv2d(x, torch.ones(1, 1, 2, 2))
        tensor([[[[ 8., 12.],
                  [20., 24.]]]])
    """
    stride_hw, pads, dilation_hw = _conv_arguments(
        input, weight, bias, stride, padding, dilation, groups
    )
    out_channels, group_channels, kh, kw = weight.shape
    x = pad2d(input.unsqueeze(0) if input.dim() == 3 else input, pads)
    n = x.shape[0]
    span_h = dilation_hw[0] * (kh - 1) + 1
    span_w = dilation_hw[1] * (kw - 1) + 1
    # every window as a view: (N, C_in, H_out, W_out, kH, kW); dilation keeps every d-th tap
    windows = x.unfold(2, span_h, stride_hw[0]).unfold(3, span_w, stride_hw[1])
    windows = windows[..., :: dilation_hw[0], :: dilation_hw[1]]
    out_h, out_w = windows.shape[2:4]
    out_per_group = out_channels // groups
    # the one copy: (G, N*H_out*W_out, C_in/G*kH*kW), window entries ordered like a filter
    windows = windows.reshape(n, groups, group_channels, out_h, out_w, kh, kw)
    patch = group_channels * kh * kw
    columns = windows.permute(1, 0, 3, 4, 2, 5, 6).reshape(groups, n * out_h * out_w, patch)
    filters = weight.reshape(groups, out_per_group, patch)  # (G, C_out/G, C_in/G*kH*kW)
    out = torch.bmm(columns, filters.transpose(1, 2))  # (G, N*H_out*W_out, C_out/G)
    if bias is not None:
        out = out + bias.reshape(groups, 1, out_per_group)
    # back to (N, C_out, H_out, W_out): a channels-last view, no further copy
    out = out.reshape(groups, n, out_h, out_w, out_per_group).permute(1, 0, 4, 2, 3)
    out = out.reshape(n, out_channels, out_h, out_w)
    return out.squeeze(0) if input.dim() == 3 else out


def conv2d_definition(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntPair = 1,
    padding: str | IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> Tensor:
    """The definition of :func:`conv2d`, one output pixel at a time (for teaching and tests).

    ``out[n, o, i, j] = bias[o] + sum over c, a, b of
    x[n, g*C/G + c, i*sH + a*dH, j*sW + b*dW] * weight[o, c, a, b]``, with ``x`` the
    zero-padded input and ``g`` the group of output channel ``o``. Slow by design:
    a Python loop over output positions. Use it on small inputs only.

    Example:
        >>> import torch
        >>> from refimpl.functional import conv2d, conv2d_definition
        >>> x, w = torch.randn(1, 2, 5, 5), torch.randn(4, 1, 3, 3)
        >>> torch.allclose(conv2d_definition(x, w, groups=2), conv2d(x, w, groups=2), atol=1e-6)
        True
    """
    (sh, sw), pads, (dh, dw) = _conv_arguments(
        input, weight, bias, stride, padding, dilation, groups
    )
    out_channels, group_channels, kh, kw = weight.shape
    x = pad2d(input.unsqueeze(0) if input.dim() == 3 else input, pads)
    n, _, height, width = x.shape
    out_h = (height - dh * (kh - 1) - 1) // sh + 1
    out_w = (width - dw * (kw - 1) - 1) // sw + 1
    rows = []
    for i in range(out_h):
        row = []
        for j in range(out_w):
            patch = x[
                :,
                :,
                i * sh : i * sh + dh * (kh - 1) + 1 : dh,
                j * sw : j * sw + dw * (kw - 1) + 1 : dw,
            ]  # (N, C_in, kH, kW)
            patch = patch.reshape(n, groups, 1, group_channels, kh, kw)
            filters = weight.reshape(1, groups, out_channels // groups, group_channels, kh, kw)
            row.append((patch * filters).sum(dim=(3, 4, 5)).reshape(n, out_channels))
        rows.append(torch.stack(row, dim=-1))
    out = torch.stack(rows, dim=-2)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out.squeeze(0) if input.dim() == 3 else out
