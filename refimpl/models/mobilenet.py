"""MobileNetV2: inverted residual blocks of depthwise-separable convolutions."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from refimpl import nn

__all__ = ["InvertedResidual", "conv_bn", "make_divisible", "mobilenet_v2"]

# (expand_ratio t, output channels c, blocks n, stride of the first block s), one row per
# stage: Table 2 of the MobileNetV2 paper and torchvision's inverted_residual_setting
MOBILENET_V2_ARCH = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def make_divisible(value: float, divisor: int = 8) -> int:
    """``value`` rounded to the nearest multiple of ``divisor``, at least ``divisor``, and
    never more than 10% below ``value`` (then one ``divisor`` more).

    MobileNet's channel rule (torchvision's ``_make_divisible``): widths scaled by
    ``width_mult`` stay multiples of 8, which the hardware it targets prefers.

    Example:
        >>> from refimpl.models import make_divisible
        >>> make_divisible(32 * 0.5), make_divisible(24 * 0.75), make_divisible(16 * 0.35)
        (16, 24, 8)
    """
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def conv_bn(
    in_channels: int,
    out_channels: int,
    kernel_size: int = 3,
    stride: int = 1,
    groups: int = 1,
    activation: bool = True,
) -> nn.Sequential:
    """A convolution without bias (padded to keep the side at stride 1), batch norm and,
    unless ``activation=False``, ReLU6: torchvision's ``Conv2dNormActivation`` as
    MobileNetV2 uses it.

    Example:
        >>> from refimpl.models import conv_bn
        >>> [type(layer).__name__ for layer in conv_bn(8, 16)]
        ['Conv2d', 'BatchNorm2d', 'ReLU6']
    """
    layers: list[nn.Module] = [
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=(kernel_size - 1) // 2,
            groups=groups,
            bias=False,  # the batch norm's shift takes its place
        ),
        nn.BatchNorm2d(out_channels),
    ]
    if activation:
        layers.append(nn.ReLU6(inplace=True))
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    """MobileNetV2's block: expand with a 1x1 convolution, filter each channel with a 3x3
    depthwise convolution, project back with a 1x1 convolution and no activation.

    A ResNet bottleneck narrows, filters and widens; this block widens by
    ``expand_ratio`` (``expand``, skipped when the ratio is 1), filters every channel on
    its own (``depthwise``: ``groups`` equal to the channels) and narrows again
    (``project``). The projection has no ReLU6: the narrow output is a *linear
    bottleneck*, where a ReLU would zero information that few channels cannot spare.
    The input is added to the output when the block keeps both the resolution and the
    channels (``use_shortcut``).

    Example:
        >>> import torch
        >>> from refimpl.models import InvertedResidual
        >>> block = InvertedResidual(24, 24, stride=1, expand_ratio=6)
        >>> block.depthwise[0].groups, block.use_shortcut
        (144, True)
        >>> block(torch.zeros(2, 24, 8, 8)).shape
        torch.Size([2, 24, 8, 8])
    """

    def __init__(
        self, in_channels: int, out_channels: int, stride: int, expand_ratio: float
    ) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got stride={stride}")
        hidden = int(round(in_channels * expand_ratio))
        self.expand_ratio = expand_ratio
        self.use_shortcut = stride == 1 and in_channels == out_channels
        self.expand = conv_bn(in_channels, hidden, kernel_size=1) if expand_ratio != 1 else None
        self.depthwise = conv_bn(hidden, hidden, stride=stride, groups=hidden)
        self.project = conv_bn(hidden, out_channels, kernel_size=1, activation=False)

    def forward(self, x: Tensor) -> Tensor:
        y = x if self.expand is None else self.expand(x)
        y = self.depthwise(y)
        y = self.project(y)
        return x + y if self.use_shortcut else y


def mobilenet_v2(
    num_classes: int = 1000,
    width_mult: float = 1.0,
    *,
    arch: Sequence[tuple[float, int, int, int]] = MOBILENET_V2_ARCH,
    round_nearest: int = 8,
    dropout: float = 0.2,
    in_channels: int = 3,
) -> nn.Sequential:
    """MobileNetV2, as ``torchvision.models.mobilenet_v2()`` builds it.

    A 3x3 stride-2 ``conv_bn`` stem of 32 channels, one stage of
    [`InvertedResidual`][refimpl.models.InvertedResidual] blocks per
    ``(expand_ratio, channels, blocks, stride)`` row of ``arch`` (the first block of a
    stage takes the stride), a 1x1 ``conv_bn`` to 1280 channels, global average
    pooling, dropout and a dense layer. Widths are multiplied by ``width_mult`` and
    rounded with [`make_divisible`][refimpl.models.make_divisible] (the last width only
    grows). Children are named ``stem``, ``stage1`` ... ``stage7``, ``head`` and
    ``classifier``. Weights start as torchvision's do: convolutions He-normal over
    their outputs (``fan_out``), the dense layer ``N(0, 0.01)``, biases zero, batch
    norms at 1 and 0. ``in_channels`` (not a torchvision argument) takes grayscale
    inputs.

    Example:
        >>> import torch
        >>> from refimpl.models import mobilenet_v2
        >>> net = mobilenet_v2(num_classes=10)
        >>> net(torch.zeros(1, 3, 64, 64)).shape
        torch.Size([1, 10])
        >>> sum(p.numel() for p in mobilenet_v2().parameters())  # torchvision: 3,504,872
        3504872
    """
    width = make_divisible(32 * width_mult, round_nearest)
    last_width = make_divisible(1280 * max(1.0, width_mult), round_nearest)
    net = nn.Sequential()
    net.add_module("stem", conv_bn(in_channels, width, stride=2))
    for i, (expand_ratio, channels, blocks, stride) in enumerate(arch):
        out_width = make_divisible(channels * width_mult, round_nearest)
        stage = []
        for j in range(blocks):
            stage.append(InvertedResidual(width, out_width, stride if j == 0 else 1, expand_ratio))
            width = out_width
        net.add_module(f"stage{i + 1}", nn.Sequential(*stage))
    net.add_module("head", conv_bn(width, last_width, kernel_size=1))
    net.add_module(
        "classifier",
        nn.Sequential(
            nn.AdaptiveAvgPool2d((1, 1)),
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(last_width, num_classes),
        ),
    )
    _initialize(net)
    return net


def _initialize(net: nn.Module) -> None:
    """torchvision's MobileNetV2 initialization."""
    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            torch.nn.init.kaiming_normal_(module.weight, mode="fan_out")
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, 0, 0.01)
            torch.nn.init.zeros_(module.bias)
