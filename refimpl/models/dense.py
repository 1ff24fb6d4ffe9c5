"""DenseNet: dense blocks that concatenate, transition blocks that shrink."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from refimpl import nn

from .residual import resnet_stem

__all__ = ["DenseBlock", "TransitionBlock", "conv_block", "densenet"]


def conv_block(num_channels: int) -> nn.Sequential:
    """Batch norm, ReLU, then a 3x3 convolution to ``num_channels`` (pre-activation order)."""
    return nn.Sequential(
        nn.LazyBatchNorm2d(),
        nn.ReLU(),
        nn.LazyConv2d(num_channels, kernel_size=3, padding=1),
    )


class DenseBlock(nn.Module):
    """``num_convs`` conv blocks; each one's input is every earlier output, concatenated.

    Each conv block adds ``growth_rate`` channels, so ``C`` input channels leave as
    ``C + num_convs * growth_rate``.

    Example:
        >>> import torch
        >>> from refimpl.models import DenseBlock
        >>> DenseBlock(2, 10)(torch.zeros(4, 3, 8, 8)).shape
        torch.Size([4, 23, 8, 8])
    """

    def __init__(self, num_convs: int, growth_rate: int) -> None:
        super().__init__()
        self.net = nn.Sequential(*(conv_block(growth_rate) for _ in range(num_convs)))

    def forward(self, x: Tensor) -> Tensor:
        for block in self.net:
            x = torch.cat((x, block(x)), dim=1)
        return x


class TransitionBlock(nn.Sequential):
    """Batch norm, ReLU, a 1x1 convolution to ``num_channels``, and a 2x2 average pool.

    Between dense blocks it halves the resolution and, in DenseNet, the channel count.

    Example:
        >>> import torch
        >>> from refimpl.models import TransitionBlock
        >>> TransitionBlock(10)(torch.zeros(4, 23, 8, 8)).shape
        torch.Size([4, 10, 4, 4])
    """

    def __init__(self, num_channels: int) -> None:
        super().__init__(
            nn.LazyBatchNorm2d(),
            nn.ReLU(),
            nn.LazyConv2d(num_channels, kernel_size=1),
            nn.AvgPool2d(kernel_size=2, stride=2),
        )


def densenet(
    num_channels: int = 64,
    growth_rate: int = 32,
    arch: Sequence[int] = (4, 4, 4, 4),
    num_classes: int = 10,
) -> nn.Sequential:
    """DenseNet as in D2L: a ResNet-like stem, dense blocks of ``arch[i]`` convolutions each,
    transition blocks halving the channels between them, and a pooled dense head.

    Example:
        >>> import torch
        >>> from refimpl.models import densenet
        >>> densenet()(torch.zeros(1, 1, 96, 96)).shape
        torch.Size([1, 10])
    """
    net = nn.Sequential(resnet_stem())
    for i, num_convs in enumerate(arch):
        net.add_module(f"dense_blk{i + 1}", DenseBlock(num_convs, growth_rate))
        num_channels += num_convs * growth_rate
        if i != len(arch) - 1:
            num_channels //= 2
            net.add_module(f"tran_blk{i + 1}", TransitionBlock(num_channels))
    net.add_module(
        "last",
        nn.Sequential(
            nn.LazyBatchNorm2d(),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d((1, 1)),
            nn.Flatten(),
            nn.LazyLinear(num_classes),
        ),
    )
    return net
