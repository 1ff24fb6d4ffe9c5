"""RegNet's AnyNet design space and RegNetX-32."""

from __future__ import annotations

from collections.abc import Sequence

from refimpl import nn

from .residual import ResNeXtBlock

__all__ = ["AnyNetStage", "anynet", "regnetx32"]


class AnyNetStage(nn.Sequential):
    """``depth`` ResNeXt blocks of ``num_channels``; the first halves the resolution.

    AnyNet describes a stage by its *group width* (channels per group), so the
    cardinality of each block is ``bottleneck / group_width``.

    Example:
        >>> from refimpl.models import AnyNetStage
        >>> stage = AnyNetStage(2, 80, group_width=16, bot_mul=1)
        >>> tuple(block.conv2.groups for block in stage)
        (5, 5)
    """

    def __init__(self, depth: int, num_channels: int, group_width: int, bot_mul: float) -> None:
        bottleneck = int(round(num_channels * bot_mul))
        if bottleneck % group_width:
            raise ValueError(
                f"bottleneck channels {bottleneck} must be divisible by group_width={group_width}"
            )
        cardinality = bottleneck // group_width
        super().__init__(
            *(
                ResNeXtBlock(
                    num_channels,
                    cardinality,
                    bot_mul,
                    use_1x1conv=i == 0,
                    strides=2 if i == 0 else 1,
                )
                for i in range(depth)
            )
        )


def anynet(
    arch: Sequence[tuple[int, int, int, float]], stem_channels: int, num_classes: int = 10
) -> nn.Sequential:
    """AnyNet: a 3x3 stride-2 stem, one stage per ``(depth, channels, group_width, bot_mul)``, head.

    Children are named ``0`` (stem), ``stage1``, ``stage2``, ... and ``head``.
    """
    net = nn.Sequential(
        nn.Sequential(
            nn.LazyConv2d(stem_channels, kernel_size=3, stride=2, padding=1),
            nn.LazyBatchNorm2d(),
            nn.ReLU(),
        )
    )
    for i, stage in enumerate(arch):
        net.add_module(f"stage{i + 1}", AnyNetStage(*stage))
    net.add_module(
        "head",
        nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.LazyLinear(num_classes)),
    )
    return net


def regnetx32(num_classes: int = 10) -> nn.Sequential:
    """RegNetX-32 as D2L builds it: stem width 32, stages of depth 4 and 6 with 32 and 80
    channels, group width 16, bottleneck ratio 1.

    Example:
        >>> import torch
        >>> from refimpl.models import regnetx32
        >>> regnetx32()(torch.zeros(1, 1, 96, 96)).shape
        torch.Size([1, 10])
    """
    stem_channels, group_width, bot_mul = 32, 16, 1
    depths, channels = (4, 6), (32, 80)
    arch = [(d, c, group_width, bot_mul) for d, c in zip(depths, channels, strict=True)]
    return anynet(arch, stem_channels, num_classes)
