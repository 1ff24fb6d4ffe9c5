"""AlexNet, VGG, NiN and batch-normalized LeNet, as D2L's chapter on modern CNNs builds them."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from ._layers import DEFAULT, Layers

__all__ = ["alexnet", "lenet_bn", "nin", "nin_block", "vgg", "vgg11", "vgg_block"]

VGG11_ARCH = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))


def alexnet(num_classes: int = 10, *, layers: Layers = DEFAULT) -> nn.Sequential:
    """AlexNet for 224x224 single-channel inputs: five convolutions, three dense layers.

    As in D2L, the first convolution pads by 1, so a 224x224 input becomes 54x54
    (the original paper's 227 -> 55). Every child of the returned ``Sequential`` is
    one layer.

    Example:
        >>> import torch
        >>> from refimpl.models import alexnet
        >>> alexnet()(torch.zeros(1, 1, 224, 224)).shape
        torch.Size([1, 10])
    """
    return nn.Sequential(
        layers.LazyConv2d(96, kernel_size=11, stride=4, padding=1),
        layers.ReLU(),
        layers.MaxPool2d(kernel_size=3, stride=2),
        layers.LazyConv2d(256, kernel_size=5, padding=2),
        layers.ReLU(),
        layers.MaxPool2d(kernel_size=3, stride=2),
        layers.LazyConv2d(384, kernel_size=3, padding=1),
        layers.ReLU(),
        layers.LazyConv2d(384, kernel_size=3, padding=1),
        layers.ReLU(),
        layers.LazyConv2d(256, kernel_size=3, padding=1),
        layers.ReLU(),
        layers.MaxPool2d(kernel_size=3, stride=2),
        layers.Flatten(),
        layers.LazyLinear(4096),
        layers.ReLU(),
        layers.Dropout(p=0.5),
        layers.LazyLinear(4096),
        layers.ReLU(),
        layers.Dropout(p=0.5),
        layers.LazyLinear(num_classes),
    )


def vgg_block(num_convs: int, out_channels: int, *, layers: Layers = DEFAULT) -> nn.Sequential:
    """``num_convs`` 3x3 convolutions (padding 1, size kept) with ReLU, then a 2x2 max pool."""
    blocks: list[nn.Module] = []
    for _ in range(num_convs):
        blocks += [layers.LazyConv2d(out_channels, kernel_size=3, padding=1), layers.ReLU()]
    blocks.append(layers.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*blocks)


def vgg(
    arch: Sequence[tuple[int, int]], num_classes: int = 10, *, layers: Layers = DEFAULT
) -> nn.Sequential:
    """VGG from ``arch``, a sequence of ``(num_convs, out_channels)``, one VGG block each.

    Each block halves the resolution; the head is AlexNet's (two 4096-wide dense
    layers with dropout).
    """
    return nn.Sequential(
        *(vgg_block(num_convs, channels, layers=layers) for num_convs, channels in arch),
        layers.Flatten(),
        layers.LazyLinear(4096),
        layers.ReLU(),
        layers.Dropout(0.5),
        layers.LazyLinear(4096),
        layers.ReLU(),
        layers.Dropout(0.5),
        layers.LazyLinear(num_classes),
    )


def vgg11(num_classes: int = 10, *, layers: Layers = DEFAULT) -> nn.Sequential:
    """VGG-11: eight convolutions in five blocks, arch ``VGG11_ARCH``.

    ``((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))``: one or two convolutions per block.

    Example:
        >>> import torch
        >>> from refimpl.models import vgg11
        >>> vgg11()(torch.zeros(1, 1, 224, 224)).shape
        torch.Size([1, 10])
    """
    return vgg(VGG11_ARCH, num_classes, layers=layers)


def nin_block(
    out_channels: int, kernel_size: int, stride: int, padding: int, *, layers: Layers = DEFAULT
) -> nn.Sequential:
    """A convolution followed by two 1x1 convolutions (per-pixel dense layers), each with ReLU."""
    return nn.Sequential(
        layers.LazyConv2d(out_channels, kernel_size, stride, padding),
        layers.ReLU(),
        layers.LazyConv2d(out_channels, kernel_size=1),
        layers.ReLU(),
        layers.LazyConv2d(out_channels, kernel_size=1),
        layers.ReLU(),
    )


def nin(num_classes: int = 10, *, layers: Layers = DEFAULT) -> nn.Sequential:
    """Network in Network: NiN blocks and max pools, then global average pooling as the head.

    The last NiN block has ``num_classes`` channels; averaging each over the image gives
    the logits, so there is no fully connected layer at all.

    Example:
        >>> import torch
        >>> from refimpl.models import nin
        >>> nin()(torch.zeros(1, 1, 224, 224)).shape
        torch.Size([1, 10])
    """
    return nn.Sequential(
        nin_block(96, kernel_size=11, stride=4, padding=0, layers=layers),
        layers.MaxPool2d(3, stride=2),
        nin_block(256, kernel_size=5, stride=1, padding=2, layers=layers),
        layers.MaxPool2d(3, stride=2),
        nin_block(384, kernel_size=3, stride=1, padding=1, layers=layers),
        layers.MaxPool2d(3, stride=2),
        layers.Dropout(0.5),
        nin_block(num_classes, kernel_size=3, stride=1, padding=1, layers=layers),
        layers.AdaptiveAvgPool2d((1, 1)),
        layers.Flatten(),
    )


def lenet_bn(num_classes: int = 10, *, layers: Layers = DEFAULT) -> nn.Sequential:
    """LeNet with batch normalization after every convolution and hidden dense layer.

    Batch norm sits between each affine layer and its sigmoid: ``BatchNorm2d`` after
    the convolutions (per channel), ``BatchNorm1d`` after the dense layers (per feature).

    Example:
        >>> import torch
        >>> from refimpl.models import lenet_bn
        >>> lenet_bn()(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """
    return nn.Sequential(
        layers.LazyConv2d(6, kernel_size=5),
        layers.LazyBatchNorm2d(),
        nn.Sigmoid(),
        layers.AvgPool2d(kernel_size=2, stride=2),
        layers.LazyConv2d(16, kernel_size=5),
        layers.LazyBatchNorm2d(),
        nn.Sigmoid(),
        layers.AvgPool2d(kernel_size=2, stride=2),
        layers.Flatten(),
        layers.LazyLinear(120),
        layers.LazyBatchNorm1d(),
        nn.Sigmoid(),
        layers.LazyLinear(84),
        layers.LazyBatchNorm1d(),
        nn.Sigmoid(),
        layers.LazyLinear(num_classes),
    )
