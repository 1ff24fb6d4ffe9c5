"""2-D convolution (cross-correlation): padding, ``unfold`` windows and one matrix product."""

from __future__ import annotations

import torch
from torch import Tensor

from .._checks import IntPair, conv2d_arguments
from .._dispatch import has_fast_kernel
from ..shapes import conv_output_size, effective_kernel_size
from ._layout import in_layout_of
from .padding import pad2d

__all__ = ["conv2d", "conv2d_definition"]


@has_fast_kernel
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
    the zero-padded input with one filter. The windows are a strided *view* of the
    padded input (``Tensor.unfold``); laid out as a matrix with one column per output
    pixel (im2col), the filters times that matrix is every dot product at once.
    Autograd differentiates it. [`conv2d_definition`][refimpl.functional.conv2d_definition] is the
    same operation
    written one output pixel at a time.

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
    (sh, sw), pads, (dh, dw) = conv2d_arguments(
        input, weight, bias, stride, padding, dilation, groups
    )
    x = pad2d(input if input.dim() == 4 else input.unsqueeze(0), pads)  # (N, C_in, Hp, Wp)
    out_channels, group_channels, kh, kw = weight.shape
    # every window, a view: (N, C_in, H_out, W_out, kH, kW), H_out = floor((Hp - span) / s) + 1
    windows = x.unfold(2, effective_kernel_size(kh, dh), sh)
    windows = windows.unfold(3, effective_kernel_size(kw, dw), sw)[..., ::dh, ::dw]
    n, _, out_h, out_w = windows.shape[:4]
    # im2col, per image and group: one row per (input channel, tap), one column per pixel
    columns = windows.reshape(n, groups, group_channels, out_h, out_w, kh, kw)
    columns = columns.permute(0, 1, 2, 5, 6, 3, 4)  # (N, G, C_in/G, kH, kW, H_out, W_out)
    columns = columns.reshape(n, groups, group_channels * kh * kw, out_h * out_w)
    filters = weight.reshape(groups, out_channels // groups, group_channels * kh * kw)
    out = filters @ columns  # (N, G, C_out/G, H_out*W_out): every window · every filter
    out = out.reshape(n, out_channels, out_h, out_w)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return in_layout_of(out, input, weight) if input.dim() == 4 else out.squeeze(0)


def conv2d_definition(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntPair = 1,
    padding: str | IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> Tensor:
    """The definition of [`conv2d`][refimpl.functional.conv2d], one output pixel at a time (for
    teaching and tests).

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
    (sh, sw), pads, (dh, dw) = conv2d_arguments(
        input, weight, bias, stride, padding, dilation, groups
    )
    out_channels, group_channels, kh, kw = weight.shape
    out_h = conv_output_size(input.shape[-2], kh, sh, pads[2:], dh)  # pads: (l, r, t, b)
    out_w = conv_output_size(input.shape[-1], kw, sw, pads[:2], dw)
    x = pad2d(input.unsqueeze(0) if input.dim() == 3 else input, pads)
    n = x.shape[0]
    filters = weight.reshape(1, groups, out_channels // groups, group_channels, kh, kw)
    rows = []
    for i in range(out_h):
        row = []
        for j in range(out_w):
            # the window of output pixel (i, j): every dH-th row from i*sH, every dW-th column
            patch = x[:, :, i * sh :: dh, j * sw :: dw][:, :, :kh, :kw]  # (N, C_in, kH, kW)
            patch = patch.reshape(n, groups, 1, group_channels, kh, kw)
            row.append((patch * filters).sum(dim=(3, 4, 5)).reshape(n, out_channels))
        rows.append(torch.stack(row, dim=-1))
    out = torch.stack(rows, dim=-2)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out.squeeze(0) if input.dim() == 3 else out
