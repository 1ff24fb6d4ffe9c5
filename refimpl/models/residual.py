"""ResNet's residual block, ResNet-18, and the ResNeXt block."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from refimpl import nn

__all__ = ["ResNeXtBlock", "Residual", "resnet", "resnet18", "resnet_stem"]

RESNET18_ARCH = ((2, 64), (2, 128), (2, 256), (2, 512))


class Residual(nn.Module):
    """Two 3x3 convolutions with batch norm, added to the input: ``relu(F(x) + x)``.

    With ``use_1x1conv`` the shortcut is a 1x1 convolution (with the block's
    ``strides``), so the sum works when the block changes channels or resolution.

    Example:
        >>> import torch
        >>> from refimpl.models import Residual
        >>> Residual(6, use_1x1conv=True, strides=2)(torch.zeros(4, 3, 6, 6)).shape
        torch.Size([4, 6, 3, 3])
    """

    def __init__(self, num_channels: int, use_1x1conv: bool = False, strides: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1)
        self.conv3 = (
            nn.LazyConv2d(num_channels, kernel_size=1, stride=strides) if use_1x1conv else None
        )
        self.bn1 = nn.LazyBatchNorm2d()
        self.bn2 = nn.LazyBatchNorm2d()
        self.relu = nn.ReLU()

    def branch(self, x: Tensor) -> Tensor:
        """``F(x)``: the two conv-BN layers, with a ReLU between them."""
        return self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))

    def forward(self, x: Tensor) -> Tensor:
        y = self.branch(x)  # first: lazy layers take their shapes, and seeds, in this order
        shortcut = x if self.conv3 is None else self.conv3(x)
        return self.relu(y + shortcut)


def resnet_stem(num_channels: int = 64) -> nn.Sequential:
    """The stem ResNet and DenseNet share: a 7x7 stride-2 convolution, batch norm, ReLU and a
    3x3 stride-2 max pool, dividing the resolution by 4.

    Example:
        >>> import torch
        >>> from refimpl.models import resnet_stem
        >>> resnet_stem()(torch.zeros(1, 1, 96, 96)).shape
        torch.Size([1, 64, 24, 24])
    """
    return nn.Sequential(
        nn.LazyConv2d(num_channels, kernel_size=7, stride=2, padding=3),
        nn.LazyBatchNorm2d(),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    )


def resnet(arch: Sequence[tuple[int, int]], num_classes: int = 10) -> nn.Sequential:
    """A ResNet: stem, one stage of ``(num_residuals, num_channels)`` per ``arch`` entry, head.

    Every stage but the first halves the resolution in its first block (stride 2 and
    a 1x1 shortcut). Children are named ``0`` (stem), ``b2``, ``b3``, ... and ``last``.
    """
    net = nn.Sequential(resnet_stem())
    for i, (num_residuals, num_channels) in enumerate(arch):
        first_stage = i == 0
        blocks = [
            Residual(num_channels, use_1x1conv=True, strides=2)
            if j == 0 and not first_stage
            else Residual(num_channels)
            for j in range(num_residuals)
        ]
        net.add_module(f"b{i + 2}", nn.Sequential(*blocks))
    net.add_module(
        "last",
        nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.LazyLinear(num_classes)),
    )
    return net


def resnet18(num_classes: int = 10) -> nn.Sequential:
    """ResNet-18: a 7x7 stem, four stages of two residual blocks, global pooling, a dense layer.

    Example:
        >>> import torch
        >>> from refimpl.models import resnet18
        >>> resnet18()(torch.zeros(1, 1, 96, 96)).shape
        torch.Size([1, 10])
    """
    return resnet(RESNET18_ARCH, num_classes)


class ResNeXtBlock(nn.Module):
    """A bottleneck residual block whose 3x3 convolution is split into ``cardinality`` groups.

    1x1 convolution down to ``round(num_channels * bot_mul)`` bottleneck channels, a
    3x3 convolution with ``groups=cardinality`` (``cardinality`` parallel paths of
    ``bottleneck / cardinality`` channels each), and a 1x1 convolution back up to
    ``num_channels``, each with batch norm; the shortcut is a 1x1 convolution with batch
    norm when ``use_1x1conv``.

    ``cardinality`` is the number of groups. (D2L's code names this argument
    ``groups`` but passes ``bottleneck // groups`` to the convolution, so there it acts
    as a group *width*.)

    Example:
        >>> import torch
        >>> from refimpl.models import ResNeXtBlock
        >>> block = ResNeXtBlock(32, cardinality=4, bot_mul=1, use_1x1conv=True, strides=2)
        >>> block.conv2.groups
        4
        >>> block(torch.zeros(2, 16, 8, 8)).shape
        torch.Size([2, 32, 4, 4])
    """

    def __init__(
        self,
        num_channels: int,
        cardinality: int,
        bot_mul: float,
        use_1x1conv: bool = False,
        strides: int = 1,
    ) -> None:
        super().__init__()
        bottleneck = int(round(num_channels * bot_mul))
        if cardinality <= 0 or bottleneck % cardinality:
            raise ValueError(
                f"the bottleneck's {bottleneck} channels (num_channels={num_channels} * "
                f"bot_mul={bot_mul}) must be divisible by cardinality={cardinality}"
            )
        self.conv1 = nn.LazyConv2d(bottleneck, kernel_size=1)
        self.conv2 = nn.LazyConv2d(
            bottleneck, kernel_size=3, stride=strides, padding=1, groups=cardinality
        )
        self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1)
        self.bn1 = nn.LazyBatchNorm2d()
        self.bn2 = nn.LazyBatchNorm2d()
        self.bn3 = nn.LazyBatchNorm2d()
        self.conv4 = (
            nn.LazyConv2d(num_channels, kernel_size=1, stride=strides) if use_1x1conv else None
        )
        self.bn4 = nn.LazyBatchNorm2d() if use_1x1conv else None
        self.relu = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        if self.conv4 is not None and self.bn4 is not None:
            x = self.bn4(self.conv4(x))
        return self.relu(y + x)
