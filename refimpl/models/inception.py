"""GoogLeNet: a stem, then stages of Inception blocks, then global average pooling."""

from __future__ import annotations

import torch
from torch import Tensor

from refimpl import nn

__all__ = ["Inception", "googlenet"]


class Inception(nn.Module):
    """Four parallel paths concatenated along channels; spatial size is kept.

    1. a 1x1 convolution with ``c1`` outputs;
    2. a 1x1 convolution to ``c2[0]`` channels, then a 3x3 one to ``c2[1]``;
    3. a 1x1 convolution to ``c3[0]`` channels, then a 5x5 one to ``c3[1]``;
    4. a 3x3 max pool (stride 1), then a 1x1 convolution to ``c4``.

    The output has ``c1 + c2[1] + c3[1] + c4`` channels. Every convolution is
    followed by ReLU.

    Example:
        >>> import torch
        >>> from refimpl.models import Inception
        >>> Inception(64, (96, 128), (16, 32), 32)(torch.zeros(1, 192, 12, 12)).shape
        torch.Size([1, 256, 12, 12])
    """

    def __init__(self, c1: int, c2: tuple[int, int], c3: tuple[int, int], c4: int) -> None:
        super().__init__()
        self.b1_1 = nn.LazyConv2d(c1, kernel_size=1)
        self.b2_1 = nn.LazyConv2d(c2[0], kernel_size=1)
        self.b2_2 = nn.LazyConv2d(c2[1], kernel_size=3, padding=1)
        self.b3_1 = nn.LazyConv2d(c3[0], kernel_size=1)
        self.b3_2 = nn.LazyConv2d(c3[1], kernel_size=5, padding=2)
        self.b4_1 = nn.MaxPool2d(kernel_size=3, stride=1, padding=1)
        self.b4_2 = nn.LazyConv2d(c4, kernel_size=1)
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        relu = self.relu
        b1 = relu(self.b1_1(x))
        b2 = relu(self.b2_2(relu(self.b2_1(x))))
        b3 = relu(self.b3_2(relu(self.b3_1(x))))
        b4 = relu(self.b4_2(self.b4_1(x)))
        return torch.cat((b1, b2, b3, b4), dim=1)


def googlenet(num_classes: int = 10) -> nn.Sequential:
    """GoogLeNet as in D2L: five stages ``b1``..``b5`` (nine Inception blocks), then a dense layer.

    Example:
        >>> import torch
        >>> from refimpl.models import googlenet
        >>> googlenet()(torch.zeros(1, 1, 96, 96)).shape
        torch.Size([1, 10])
    """
    b1 = nn.Sequential(
        nn.LazyConv2d(64, kernel_size=7, stride=2, padding=3),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    )
    b2 = nn.Sequential(
        nn.LazyConv2d(64, kernel_size=1),
        nn.ReLU(),
        nn.LazyConv2d(192, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    )
    b3 = nn.Sequential(
        Inception(64, (96, 128), (16, 32), 32),
        Inception(128, (128, 192), (32, 96), 64),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    )
    b4 = nn.Sequential(
        Inception(192, (96, 208), (16, 48), 64),
        Inception(160, (112, 224), (24, 64), 64),
        Inception(128, (128, 256), (24, 64), 64),
        Inception(112, (144, 288), (32, 64), 64),
        Inception(256, (160, 320), (32, 128), 128),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    )
    b5 = nn.Sequential(
        Inception(256, (160, 320), (32, 128), 128),
        Inception(384, (192, 384), (48, 128), 128),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
    )
    return nn.Sequential(b1, b2, b3, b4, b5, nn.LazyLinear(num_classes))
