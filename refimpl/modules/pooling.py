"""Pooling modules with torch's interface over `refimpl.functional.pooling`."""

from __future__ import annotations

from torch import Tensor, nn

from .. import functional as F
from .._checks import IntPair, OutputSize

__all__ = ["AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AvgPool2d", "MaxPool2d"]


class MaxPool2d(nn.Module):
    """Max pooling over ``kernel_size`` windows, interchangeable with ``torch.nn.MaxPool2d``.

    ``stride`` defaults to ``kernel_size``; padding (``-inf``) may be at most half the
    dilated kernel; ``ceil_mode`` keeps a last partial window unless it would start
    in the padding.

    Shape:
        ``(N, C, H, W)`` or ``(C, H, W)`` to ``(N, C, H_out, W_out)``, see
        [`pool_output_size`][refimpl.shapes.pool_output_size].

    Example:
        >>> import torch
        >>> from refimpl import MaxPool2d
        >>> pool = MaxPool2d(3, stride=2, padding=1)
        >>> pool
        MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)
        >>> pool(torch.randn(1, 64, 112, 112)).shape
        torch.Size([1, 64, 56, 56])
    """

    def __init__(
        self,
        kernel_size: IntPair,
        stride: IntPair | None = None,
        padding: IntPair = 0,
        dilation: IntPair = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()  # the arguments are checked at forward, where torch checks them
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return F.max_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )


class AvgPool2d(nn.Module):
    """Average pooling, interchangeable with ``torch.nn.AvgPool2d``.

    ``count_include_pad=True`` (the default) divides by the window's area including
    padded zeros; ``False`` by the number of real input elements it covers;
    ``divisor_override`` replaces the divisor.

    Example:
        >>> import torch
        >>> from refimpl import AvgPool2d
        >>> pool = AvgPool2d(2)
        >>> pool
        AvgPool2d(kernel_size=2, stride=2, padding=0)
        >>> pool(torch.arange(16.0).reshape(1, 4, 4))
        tensor([[[ 2.5000,  4.5000],
                 [10.5000, 12.5000]]])
    """

    def __init__(
        self,
        kernel_size: IntPair,
        stride: IntPair | None = None,
        padding: IntPair = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()  # the arguments are checked at forward, where torch checks them
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Tensor) -> Tensor:
        return F.avg_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )


class AdaptiveAvgPool2d(nn.Module):
    """Average pooling to a fixed ``output_size``, like ``torch.nn.AdaptiveAvgPool2d``.

    ``output_size`` is an int, a pair, or a pair with ``None`` meaning "keep the
    input's size". Bins follow [`adaptive_bins`][refimpl.shapes.adaptive_bins] and
    overlap when the sizes do not divide.

    Example:
        >>> import torch
        >>> from refimpl import AdaptiveAvgPool2d
        >>> X = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> AdaptiveAvgPool2d(1)(X.unsqueeze(0))
        tensor([[[2.5000]]])
    """

    def __init__(self, output_size: OutputSize) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def forward(self, input: Tensor) -> Tensor:
        return F.adaptive_avg_pool2d(input, self.output_size)


class AdaptiveMaxPool2d(nn.Module):
    """Max pooling to a fixed ``output_size``, like ``torch.nn.AdaptiveMaxPool2d``.

    Example:
        >>> import torch
        >>> from refimpl import AdaptiveMaxPool2d
        >>> AdaptiveMaxPool2d((1, 3))(torch.tensor([[[1.0, 5.0, 2.0, 0.0, 3.0]]]))
        tensor([[[5., 5., 3.]]])
    """

    def __init__(self, output_size: OutputSize, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)
