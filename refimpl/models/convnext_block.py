"""The ConvNeXt block, ConvNeXt networks and ConvNeXt-T."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from refimpl import nn

__all__ = ["ConvNeXtBlock", "convnext", "convnext_tiny"]

# (blocks, channels) per stage: ConvNeXt-T's 3:3:9:3 blocks and widths 96 to 768
CONVNEXT_TINY_ARCH = ((3, 96), (3, 192), (9, 384), (3, 768))


class ConvNeXtBlock(nn.Module):
    """ConvNeXt's block (torchvision's ``CNBlock``): ``x + drop(gamma * branch(x))``.

    The branch is a 7x7 depthwise convolution (with bias), then, per pixel, layer norm
    over the channels (``eps=1e-6``), a dense layer to ``4 * channels``, GELU and a
    dense layer back, applied channels-last as ``(N, H, W, C)`` tensors, as torchvision
    and the paper's code do. Its output is scaled per channel by a
    [`LayerScale`][refimpl.modules.LayerScale] that starts at ``layer_scale`` and dropped
    per example by [`StochasticDepth`][refimpl.modules.StochasticDepth] with probability
    ``stochastic_depth_prob`` in training, before the sum with the input. One norm, one
    activation, no batch statistics.

    Example:
        >>> import torch
        >>> from refimpl.models import ConvNeXtBlock
        >>> block = ConvNeXtBlock(8, stochastic_depth_prob=0.1)
        >>> block.depthwise.groups, block.expand.out_features
        (8, 32)
        >>> block(torch.zeros(2, 8, 5, 5)).shape
        torch.Size([2, 8, 5, 5])
    """

    def __init__(
        self, channels: int, layer_scale: float = 1e-6, stochastic_depth_prob: float = 0.0
    ) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(channels, channels, kernel_size=7, padding=3, groups=channels)
        self.norm = nn.LayerNorm(channels, eps=1e-6)
        self.expand = nn.Linear(channels, 4 * channels)
        self.gelu = nn.GELU()
        self.project = nn.Linear(4 * channels, channels)
        self.layer_scale = nn.LayerScale(channels, layer_scale)
        self.stochastic_depth = nn.StochasticDepth(stochastic_depth_prob, "row")

    def forward(self, x: Tensor) -> Tensor:
        y = self.depthwise(x)  # (N, C, H, W)
        y = y.permute(0, 2, 3, 1)  # (N, H, W, C): each pixel's channels last
        y = self.norm(y)  # over the C channels of each pixel
        y = self.expand(y)  # (N, H, W, 4C)
        y = self.gelu(y)
        y = self.project(y)  # (N, H, W, C)
        y = self.layer_scale(y.permute(0, 3, 1, 2))  # (N, C, H, W), times gamma per channel
        return x + self.stochastic_depth(y)


def convnext(
    arch: Sequence[tuple[int, int]],
    num_classes: int = 1000,
    *,
    stochastic_depth_prob: float = 0.0,
    layer_scale: float = 1e-6,
    in_channels: int = 3,
) -> nn.Sequential:
    """A ConvNeXt with one stage of [`ConvNeXtBlock`][refimpl.models.ConvNeXtBlock]s per
    ``(blocks, channels)`` entry of ``arch``, as torchvision's ``ConvNeXt`` builds it.

    The stem is a 4x4 stride-4 convolution ("patchify") and a
    [`LayerNorm2d`][refimpl.modules.LayerNorm2d]; between stages a ``LayerNorm2d`` and a
    2x2 stride-2 convolution halve the side and widen the channels; the head pools
    globally, normalizes with a ``LayerNorm2d`` and ends in a dense layer. Every norm
    has ``eps=1e-6``. The stochastic depth rate grows linearly with the block's index
    over the whole network, from 0 for the first block to ``stochastic_depth_prob``
    for the last. Children are named ``stem``, ``stage1``, ``downsample2``,
    ``stage2``, ... and ``head``. Weights start as torchvision's do: convolutions and
    dense layers truncated normal with standard deviation 0.02, biases zero.
    ``in_channels`` (not a torchvision argument) takes grayscale inputs.

    Example:
        >>> import torch
        >>> from refimpl.models import convnext
        >>> net = convnext([(1, 16), (1, 32)], num_classes=10, stochastic_depth_prob=0.1)
        >>> [name for name, _ in net.named_children()]
        ['stem', 'stage1', 'downsample2', 'stage2', 'head']
        >>> net(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """
    total_blocks = sum(blocks for blocks, _ in arch)
    width = arch[0][1]
    net = nn.Sequential()
    net.add_module(
        "stem",
        nn.Sequential(
            nn.Conv2d(in_channels, width, kernel_size=4, stride=4),
            nn.LayerNorm2d(width, eps=1e-6),
        ),
    )
    index = 0  # of the block in the whole network, for its stochastic depth rate
    for i, (blocks, channels) in enumerate(arch):
        if i > 0:
            net.add_module(
                f"downsample{i + 1}",
                nn.Sequential(
                    nn.LayerNorm2d(width, eps=1e-6),
                    nn.Conv2d(width, channels, kernel_size=2, stride=2),
                ),
            )
        stage = []
        for _ in range(blocks):
            rate = stochastic_depth_prob * index / max(total_blocks - 1, 1)
            stage.append(ConvNeXtBlock(channels, layer_scale, rate))
            index += 1
        net.add_module(f"stage{i + 1}", nn.Sequential(*stage))
        width = channels
    net.add_module(
        "head",
        nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.LayerNorm2d(width, eps=1e-6),
            nn.Flatten(),
            nn.Linear(width, num_classes),
        ),
    )
    _initialize(net)
    return net


def convnext_tiny(
    num_classes: int = 1000,
    *,
    stochastic_depth_prob: float = 0.1,
    layer_scale: float = 1e-6,
    in_channels: int = 3,
) -> nn.Sequential:
    """ConvNeXt-T, as ``torchvision.models.convnext_tiny()`` builds it.

    Stages of 3, 3, 9 and 3 blocks of 96, 192, 384 and 768 channels; stochastic depth
    rising to 0.1 over the 18 blocks; layer scale starting at ``1e-6``. See
    [`convnext`][refimpl.models.convnext].

    Example:
        >>> import torch
        >>> from refimpl.models import convnext_tiny
        >>> with torch.device("meta"):  # shapes only: nothing allocated, nothing drawn
        ...     net = convnext_tiny()
        >>> sum(p.numel() for p in net.parameters())  # torchvision: 28,589,128
        28589128
    """
    return convnext(
        CONVNEXT_TINY_ARCH,
        num_classes,
        stochastic_depth_prob=stochastic_depth_prob,
        layer_scale=layer_scale,
        in_channels=in_channels,
    )


def _initialize(net: nn.Module) -> None:
    """torchvision's ConvNeXt initialization."""
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            torch.nn.init.trunc_normal_(module.weight, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
