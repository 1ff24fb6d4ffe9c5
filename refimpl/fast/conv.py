"""Fast 2-D convolution: blocked im2col on oneDNN's GEMM, with a backward written for it.

The same operation as [`refimpl.functional.conv2d`][], and the same arguments; only
the order of floating-point additions differs. Tested equal to the reference and to
``torch.nn.functional.conv2d`` (``tests/test_fast_kernels.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from .._checks import IntPair, conv2d_arguments
from ..functional._layout import in_layout_of
from ..functional.padding import pad2d
from ..shapes import conv_output_size, effective_kernel_size
from .gemm import matmul

__all__ = ["conv2d"]


# Columns are built for a block of whole images at a time, at most this many bytes (a
# loop over memory-sized blocks, one image per block only when one image is that big). One
# im2col matrix for a whole batch is large (58 MB for ResNet-18's 64-channel 3x3 layer at
# 56x56, batch 8): a fresh allocation of that size is mmap'd and page-faulted in on every
# call, which measured slower than the matrix product itself. Blocks of a few MB are reused
# by the allocator and are still in cache when the product reads them.
_BLOCK_BYTES = 8 * 2**20


# With stride 1 the input gradient is a convolution of grad_out, but that convolution
# needs the weight flipped and transposed, two passes over it. Once the weight outgrows
# the input about tenfold (ResNet-18's 512-channel layers on small maps) those passes
# measured slower than folding ``grad_out^T @ filters`` back tap by tap.
_AS_CONV_MAX_WEIGHT_RATIO = 10


@dataclass(frozen=True)
class _Geometry:
    """Everything about one convolution call but the tensors."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    pads: tuple[int, int, int, int]  # (left, right, top, bottom)
    groups: int
    group_channels: int  # C_in / groups, the channels one filter sees
    out: tuple[int, int]  # (H_out, W_out)

    def pad(self, x: Tensor) -> Tensor:
        """``x`` with the convolution's zero padding (``x`` itself when there is none)."""
        return pad2d(x, self.pads) if any(self.pads) else x

    def windows(self, padded: Tensor) -> Tensor:
        """Every window of ``padded`` as a view, ``(N, C, H_out, W_out, kH, kW)``."""
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        windows = padded.unfold(2, effective_kernel_size(kh, dh), sh)
        windows = windows.unfold(3, effective_kernel_size(kw, dw), sw)
        return windows[:, :, : self.out[0], : self.out[1], ::dh, ::dw]  # every d-th tap

    def columns(self, padded: Tensor) -> Tensor:
        """The im2col matrix of a block of images, ``(G, C/G*kH*kW, N*H_out*W_out)``.

        One column per output pixel, one row per (channel, tap): the order of a
        filter's weights in ``weight.reshape(C_out, -1)``, so the filters need no copy.
        Along a row, consecutive output pixels of one image row read consecutive
        input pixels (stride 1), so the copy moves runs, not single floats.
        """
        n = padded.shape[0]
        windows = self.windows(padded).permute(1, 4, 5, 0, 2, 3)  # (C, kH, kW, N, Ho, Wo)
        patch = self.group_channels * self.kernel[0] * self.kernel[1]
        return windows.reshape(self.groups, patch, n * self.out[0] * self.out[1])  # the copy

    def transposed_pads(self) -> tuple[int, int, int, int]:
        """Per-side padding of ``grad_out`` that makes the input gradient a convolution.

        A tap reaches ``d*(k - 1)`` pixels past its window's first one, so an input
        pixel is seen by output pixels up to that far before it; padding ``grad_out``
        by that reach, less the forward's own padding, lines them up (stride 1 only).
        A negative value means the forward padded more than the kernel reaches.
        """
        (kh, kw), (dh, dw) = self.kernel, self.dilation
        left, right, top, bottom = self.pads
        reach_h, reach_w = effective_kernel_size(kh, dh) - 1, effective_kernel_size(kw, dw) - 1
        return reach_w - left, reach_w - right, reach_h - top, reach_h - bottom

    def image_blocks(self, n: int, itemsize: int) -> list[tuple[int, int]]:
        """``[start, stop)`` ranges of images whose columns fit in ``_BLOCK_BYTES``."""
        per_image = self.out[0] * self.out[1] * self.kernel[0] * self.kernel[1]
        per_image *= self.groups * self.group_channels * itemsize
        step = max(1, _BLOCK_BYTES // max(per_image, 1))
        return [(start, min(start + step, n)) for start in range(0, n, step)]


def _by_group(t: Tensor, groups: int) -> Tensor:
    """``(N, C, H, W)`` to ``(G, C/G, N*H*W)``: per group, one column per pixel.

    A view when ``N == 1``; a copy of whole image rows otherwise.
    """
    return t.flatten(2).transpose(0, 1).reshape(groups, t.shape[1] // groups, -1)


class _Im2colConv2d(torch.autograd.Function):
    """Convolution as filters @ columns, with a backward written for it.

    Per group, the ``(C_out/G, C/G*kH*kW)`` filter matrix times the block's
    ``(C/G*kH*kW, block*Ho*Wo)`` columns is the output, channels first as torch lays
    it out. Autograd's own backward through ``unfold`` + ``reshape`` + ``matmul`` would
    build the gradient of the whole column matrix and scatter it back element by
    element. Here ``grad_weight`` is ``grad_out @ columns^T``, and ``grad_input`` is
    itself a convolution of ``grad_out`` (stride 1) or ``filters^T @ grad_out`` folded
    back onto the input tap by tap. The backward is made of differentiable operations
    on the saved input and weight, so double backward works.
    """

    @staticmethod
    def forward(
        ctx: Any, input: Tensor, weight: Tensor, bias: Tensor | None, geometry: _Geometry
    ) -> Tensor:
        ctx.geometry = geometry
        ctx.has_bias = bias is not None
        ctx.save_for_backward(input, weight)
        n, out_channels = input.shape[0], weight.shape[0]
        out_h, out_w = geometry.out
        padded = geometry.pad(input)
        filters = weight.reshape(geometry.groups, out_channels // geometry.groups, -1)
        # torch's layout, so that .view() on the output, or a dropout mask drawn in
        # memory order, behave as after torch.nn.Conv2d
        out = input.new_empty(n, out_channels, out_h, out_w)
        for start, stop in geometry.image_blocks(n, input.element_size()):
            columns = geometry.columns(padded[start:stop])  # (G, C/G*kH*kW, block*Ho*Wo)
            product = matmul(filters, columns)  # (G, C_out/G, block*Ho*Wo)
            product = product.view(out_channels, stop - start, out_h, out_w).transpose(0, 1)
            if bias is None:
                out[start:stop].copy_(product)
            else:  # the bias added in the same pass
                torch.add(product, bias.view(1, -1, 1, 1), out=out[start:stop])
        return out

    @staticmethod
    def backward(
        ctx: Any, grad_out: Tensor
    ) -> tuple[Tensor | None, Tensor | None, Tensor | None, None]:
        input, weight = ctx.saved_tensors
        geometry: _Geometry = ctx.geometry
        need_input, need_weight, need_bias = ctx.needs_input_grad[:3]
        grad_input = grad_weight = grad_bias = None
        if need_bias and ctx.has_bias:
            grad_bias = grad_out.sum(dim=(0, 2, 3))
        if need_weight:
            grad_weight = _weight_gradient(input, grad_out, geometry, weight.shape)
        if need_input:
            as_conv = geometry.stride == (1, 1) and min(geometry.transposed_pads()) >= 0
            if as_conv and weight.numel() <= _AS_CONV_MAX_WEIGHT_RATIO * input.numel():
                grad_input = _input_gradient_as_conv(grad_out, weight, geometry, input.shape)
            else:
                grad_input = _input_gradient_by_taps(grad_out, weight, geometry, input.shape)
        return grad_input, grad_weight, grad_bias, None


def _weight_gradient(
    input: Tensor, grad_out: Tensor, geometry: _Geometry, weight_shape: torch.Size
) -> Tensor:
    """``dL/dfilters = grad_out @ columns^T``, summed over blocks of images.

    Per group, ``grad_out`` seen as ``(C_out/G, block*Ho*Wo)`` times the transposed
    ``(C/G*kH*kW, block*Ho*Wo)`` columns of the same block.
    """
    padded = geometry.pad(input)
    out_channels = weight_shape[0]
    patch = geometry.group_channels * geometry.kernel[0] * geometry.kernel[1]
    # zeros for an empty batch, which has no block at all
    grad_filters = input.new_zeros(geometry.groups, out_channels // geometry.groups, patch)
    for start, stop in geometry.image_blocks(input.shape[0], input.element_size()):
        grads = _by_group(grad_out[start:stop], geometry.groups)  # (G, C_out/G, block*Ho*Wo)
        grad_filters = grad_filters + matmul(grads, geometry.columns(padded[start:stop]).mT)
    return grad_filters.reshape(weight_shape)


def _input_gradient_as_conv(
    grad_out: Tensor, weight: Tensor, geometry: _Geometry, input_shape: torch.Size
) -> Tensor:
    """With stride 1, ``dL/dinput`` is itself a convolution, computed by the forward's path.

    Input pixel ``y`` received ``weight[o, c, a, b]`` times itself in output pixel
    ``y - a*d + pad``; so ``dL/dinput`` is ``grad_out`` correlated with the kernel
    flipped in both directions, input and output channels swapped within each group,
    and padded ``d*(k - 1) - pad`` on each side (see `_Geometry.transposed_pads`).
    """
    groups, group_channels = geometry.groups, geometry.group_channels
    out_channels, _, kh, kw = weight.shape
    per_group = out_channels // groups
    # (G, C/G, C_out/G, kH*kW), then the taps reversed: the flip of a contiguous
    # tensor along its last dim measured fastest (a gather or a 4-D flip took 1.5-6x)
    taps = weight.reshape(groups, per_group, group_channels, kh * kw).transpose(1, 2)
    swapped = taps.contiguous().flip(-1).view(groups * group_channels, per_group, kh, kw)
    transposed = _Geometry(
        geometry.kernel,
        (1, 1),
        geometry.dilation,
        geometry.transposed_pads(),
        groups,
        per_group,
        (input_shape[2], input_shape[3]),
    )
    return _Im2colConv2d.apply(grad_out, swapped, None, transposed)


def _input_gradient_by_taps(
    grad_out: Tensor, weight: Tensor, geometry: _Geometry, input_shape: torch.Size
) -> Tensor:
    """``dL/dinput``: ``grad_out^T @ filters``, folded back onto the input tap by tap.

    Row ``(n, i, j)`` of the product holds, for every (channel, tap), what output pixel
    ``(n, i, j)`` sends back to the input pixel under that tap. Each kernel tap's
    windows do not overlap, so one strided ``+=`` per tap is exact.
    """
    groups, group_channels = geometry.groups, geometry.group_channels
    kh, kw = geometry.kernel
    left, right, top, bottom = geometry.pads
    n, channels, height, width = input_shape
    filters = weight.reshape(groups, weight.shape[0] // groups, -1)  # (G, C_out/G, C/G*kH*kW)
    grad_padded = grad_out.new_zeros(n, channels, height + top + bottom, width + left + right)
    for start, stop in geometry.image_blocks(n, grad_out.element_size()):
        block = stop - start
        grads = _by_group(grad_out[start:stop], groups)  # (G, C_out/G, block*Ho*Wo)
        rows = matmul(grads.mT, filters)  # (G, block*Ho*Wo, C/G*kH*kW)
        rows = rows.view(groups, block, *geometry.out, group_channels, kh, kw)
        rows = rows.permute(1, 0, 4, 2, 3, 5, 6)  # (block, G, C/G, Ho, Wo, kH, kW), a view
        # (block, G, C/G, Ho, Wo, kH, kW), a view into grad_padded
        windows = geometry.windows(grad_padded[start:stop]).unflatten(1, (groups, group_channels))
        for a in range(kh):
            for b in range(kw):
                windows[..., a, b] += rows[..., a, b]
    return grad_padded[:, :, top : top + height, left : left + width]


def _depthwise_conv2d(
    input: Tensor, weight: Tensor, bias: Tensor | None, geometry: _Geometry
) -> Tensor:
    """``groups == C_in``: each output channel sees one input channel.

    A filter then has only ``kH * kW`` taps, too few for a matrix product to pay off;
    the output is a multiply-accumulate of the ``kH * kW`` shifted views of the padded
    input, each scaled by its tap's per-channel weight (a loop over taps, not pixels).
    """
    n, channels = input.shape[:2]
    (kh, kw), (sh, sw), (dh, dw) = geometry.kernel, geometry.stride, geometry.dilation
    out_h, out_w = geometry.out
    x = pad2d(input, geometry.pads).unsqueeze(2)  # (N, C, 1, Hp, Wp)
    taps = weight.reshape(1, channels, -1, kh, kw)  # (1, C, C_out/C, kH, kW)
    out = x.new_zeros(n, channels, taps.shape[2], out_h, out_w)
    for a in range(kh):
        for b in range(kw):
            shifted = x[..., a * dh :: sh, b * dw :: sw][..., :out_h, :out_w]  # (N, C, 1, Ho, Wo)
            out.addcmul_(shifted, taps[..., a : a + 1, b : b + 1])
    out = out.reshape(n, weight.shape[0], out_h, out_w)
    return out if bias is None else out + bias.view(1, -1, 1, 1)


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntPair = 1,
    padding: str | IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> Tensor:
    """[`refimpl.functional.conv2d`][], fast: the same arguments, result and errors.

    The im2col columns are built for blocks of images that fit in a few MB, and
    multiplied on oneDNN's GEMM on a CPU in float32 (`refimpl.fast.gemm`);
    the backward is matrix products too (`_Im2colConv2d`). Depthwise
    convolutions (``groups == C_in``) are a multiply-accumulate over kernel taps.

    Example:
        >>> import torch
        >>> from refimpl import fast, functional
        >>> x, w = torch.randn(2, 4, 9, 9), torch.randn(6, 2, 3, 3)
        >>> ours = fast.conv2d(x, w, stride=2, padding=1, groups=2)
        >>> reference = functional.conv2d.reference(x, w, stride=2, padding=1, groups=2)
        >>> torch.allclose(ours, reference, atol=1e-5)
        True
    """
    stride_hw, pads, dilation_hw = conv2d_arguments(
        input, weight, bias, stride, padding, dilation, groups
    )
    x = input.unsqueeze(0) if input.dim() == 3 else input
    kh, kw = weight.shape[2:]
    out_h = conv_output_size(x.shape[2], kh, stride_hw[0], pads[2:], dilation_hw[0])
    out_w = conv_output_size(x.shape[3], kw, stride_hw[1], pads[:2], dilation_hw[1])
    geometry = _Geometry(
        (kh, kw), stride_hw, dilation_hw, pads, groups, weight.shape[1], (out_h, out_w)
    )
    if groups > 1 and weight.shape[1] == 1:
        out = _depthwise_conv2d(x, weight, bias, geometry)
    else:
        out = _Im2colConv2d.apply(x, weight, bias, geometry)
    return out.squeeze(0) if input.dim() == 3 else in_layout_of(out, input, weight)
