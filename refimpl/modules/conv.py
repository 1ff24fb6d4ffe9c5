"""``Conv2d`` and ``LazyConv2d`` with torch's interface over [`refimpl.functional.conv2d`][]."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import init
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedParameter

from .. import functional as F
from .._checks import (
    PADDING_MODES,
    IntPair,
    check_non_negative,
    check_positive,
    pair,
    resolve_conv_padding,
)
from ._lazy import materialize

__all__ = ["Conv2d", "LazyConv2d"]


class Conv2d(nn.Module):
    """2-D convolution layer, interchangeable with ``torch.nn.Conv2d``.

    Same constructor, parameters (``weight`` of shape
    ``(out_channels, in_channels // groups, kH, kW)``, optional ``bias``),
    initialization and ``repr`` as PyTorch, so state dicts load both ways.

    Args:
        in_channels: channels of the input.
        out_channels: channels produced (number of filters).
        kernel_size: ``kH = kW`` as an int, or ``(kH, kW)``.
        stride: step between windows, int or pair.
        padding: per-side padding (int or pair), or ``'same'`` / ``'valid'``.
        dilation: spacing between kernel taps, int or pair.
        groups: split channels into this many independent convolutions; both
            channel counts must be divisible by it. ``groups == in_channels`` is a
            depthwise convolution.
        bias: add a learnable per-channel bias.
        padding_mode: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.

    Shape:
        Input ``(N, C_in, H, W)`` or ``(C_in, H, W)``; output ``(N, C_out, H_out, W_out)``
        with ``H_out = floor((H + 2 * pH - dH * (kH - 1) - 1) / sH) + 1``.

    Example:
        >>> import torch
        >>> from refimpl import Conv2d
        >>> conv = Conv2d(3, 8, kernel_size=3, padding=1, groups=1)
        >>> conv
        Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
        >>> conv(torch.randn(2, 3, 32, 32)).shape
        torch.Size([2, 8, 32, 32])
        >>> conv.weight.shape
        torch.Size([8, 3, 3, 3])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntPair,
        stride: IntPair = 1,
        padding: str | IntPair = 0,
        dilation: IntPair = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"groups must be a positive integer, got groups={groups!r}")
        if in_channels % groups:
            raise ValueError(
                f"in_channels must be divisible by groups, got in_channels={in_channels} "
                f"and groups={groups}"
            )
        if out_channels % groups:
            raise ValueError(
                f"out_channels must be divisible by groups, got out_channels={out_channels} "
                f"and groups={groups}"
            )
        if padding_mode not in PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {set(PADDING_MODES)}, "
                f"but got padding_mode={padding_mode!r}"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")
        self.dilation = pair(dilation, "dilation")
        # torch raises these at the first forward; raising now (same type) loses less work
        check_positive("kernel_size", self.kernel_size)
        check_positive("stride", self.stride)
        check_positive("dilation", self.dilation)
        self.padding: str | tuple[int, int]
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
                )
            if padding == "same" and self.stride != (1, 1):
                raise ValueError(
                    "padding='same' is not supported for strided convolutions, "
                    f"got stride={stride!r}"
                )
            self.padding = padding
        else:
            self.padding = pair(padding, "padding")
            check_non_negative("padding", self.padding)
        self.groups = groups
        self.padding_mode = padding_mode
        self.weight = nn.Parameter(
            torch.empty(out_channels, in_channels // groups, *self.kernel_size, **factory)
        )
        if bias:
            self.bias = nn.Parameter(torch.empty(out_channels, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: ``kaiming_uniform_(a=sqrt(5))`` weight, uniform bias.

        Both amount to ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` with
        ``fan_in = in_channels / groups * kH * kW``.
        """
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * self.weight.shape[2] * self.weight.shape[3]
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
            f", stride={self.stride}"
        )
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text

    def forward(self, input: Tensor) -> Tensor:
        if self.padding_mode == "zeros":
            return F.conv2d(
                input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
            )
        # non-zero padding modes pad first, then convolve without padding
        if input.dim() not in (3, 4):
            raise NotImplementedError(
                f"padding_mode={self.padding_mode!r} needs a 3D (unbatched) or 4D (batched) "
                f"input, but got input of size: {list(input.shape)}"
            )
        pads = resolve_conv_padding(self.padding, self.kernel_size, self.dilation)
        padded = F.pad2d(input, pads, mode=self.padding_mode)
        return F.conv2d(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class LazyConv2d(LazyModuleMixin, Conv2d):
    """A [`Conv2d`][refimpl.modules.Conv2d] whose ``in_channels`` is inferred from the first input.

    Until the first forward, ``weight`` and ``bias`` are uninitialized parameters and
    ``in_channels`` is 0; the first call materializes them, initializes them as
    [`Conv2d`][refimpl.modules.Conv2d] does, and turns the module into a
    [`Conv2d`][refimpl.modules.Conv2d].

    Example:
        >>> import torch
        >>> from refimpl import LazyConv2d
        >>> conv = LazyConv2d(16, kernel_size=3)
        >>> conv
        LazyConv2d(0, 16, kernel_size=(3, 3), stride=(1, 1))
        >>> conv(torch.randn(1, 3, 8, 8)).shape
        torch.Size([1, 16, 6, 6])
        >>> conv
        Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1))
    """

    cls_to_become = Conv2d

    def __init__(
        self,
        out_channels: int,
        kernel_size: IntPair,
        stride: IntPair = 1,
        padding: str | IntPair = 0,
        dilation: IntPair = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        factory = {"device": device, "dtype": dtype}
        # channels 0 and bias=False allocate nothing; the real parameters come below
        super().__init__(
            0, 0, kernel_size, stride, padding, dilation, groups, False, padding_mode, **factory
        )
        if out_channels % groups:
            # torch notices only when the first forward convolves: a RuntimeError
            raise RuntimeError(
                f"out_channels must be divisible by groups, got out_channels={out_channels} "
                f"and groups={groups}"
            )
        self.out_channels = out_channels
        self.weight = UninitializedParameter(**factory)  # type: ignore[assignment]
        if bias:
            self.bias = UninitializedParameter(**factory)  # type: ignore[assignment]

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor) -> None:
        """Read ``in_channels`` from ``input`` (dim ``-3``) and materialize the parameters."""
        if not self.has_uninitialized_params():
            return
        if input.dim() not in (3, 4):
            raise RuntimeError(
                "Expected 3D (unbatched) or 4D (batched) input to conv2d, "
                f"but got input of size: {list(input.shape)}"
            )
        self.in_channels = input.shape[-3]
        if self.in_channels % self.groups:
            raise ValueError(
                f"in_channels must be divisible by groups, got in_channels={self.in_channels} "
                f"(from input of size {list(input.shape)}) and groups={self.groups}"
            )
        with torch.no_grad():
            materialize(
                self.weight, (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
            )
            if self.bias is not None:
                materialize(self.bias, (self.out_channels,))
            self.reset_parameters()
