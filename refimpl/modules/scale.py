"""``LayerScale``: a learnable gain per channel, for the residual branch of a ConvNeXt block."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import init

__all__ = ["LayerScale"]


class LayerScale(nn.Module):
    """Multiply each channel by its own learnable ``gamma``, which starts small.

    ConvNeXt scales the output of every block's branch by ``gamma`` of shape
    ``(C, 1, 1)`` before adding it to the shortcut (torchvision's ``CNBlock`` holds it
    as its ``layer_scale`` parameter). Starting at ``init_value = 1e-6``, every block
    begins close to the identity, ``x + 1e-6 * f(x)``, and the training grows each
    channel's branch as far as it helps. torch.nn has no such layer.

    Shape:
        Input ``(N, C, H, W)`` or ``(C, H, W)`` with ``C = num_channels``; the output has
        the input's shape. ``gamma`` is ``(C, 1, 1)``.

    Example:
        >>> import torch
        >>> from refimpl import LayerScale
        >>> scale = LayerScale(3)
        >>> scale
        LayerScale(3, init_value=1e-06)
        >>> scale(torch.ones(1, 3, 2, 2))[0, :, 0, 0]
        tensor([1.0000e-06, 1.0000e-06, 1.0000e-06], grad_fn=<SelectBackward0>)
    """

    def __init__(
        self, num_channels: int, init_value: float = 1e-6, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        if num_channels < 0:
            raise RuntimeError(
                f"num_channels must be non-negative, got num_channels={num_channels}"
            )
        self.num_channels = num_channels
        self.init_value = init_value
        self.gamma = nn.Parameter(torch.empty(num_channels, 1, 1, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.gamma, self.init_value)

    def extra_repr(self) -> str:
        return f"{self.num_channels}, init_value={self.init_value}"

    def forward(self, input: Tensor) -> Tensor:
        if input.dim() not in (3, 4) or input.shape[-3] != self.num_channels:
            raise RuntimeError(
                f"LayerScale expects an input of shape (N, {self.num_channels}, H, W) or "
                f"({self.num_channels}, H, W), but got input of size {list(input.shape)}"
            )
        return input * self.gamma  # (C, 1, 1) broadcasts over the batch and the pixels
