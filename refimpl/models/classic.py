"""AlexNet, VGG, NiN and batch-normalized LeNet, as D2L's chapter on modern CNNs builds them."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from ._layers import DEFAULT, Layers

__all__ = ["alexnet", "lenet", "lenet_bn", "nin", "nin_block", "vgg", "vgg11", "vgg_block"]

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


def lenet(
    num_classes: int = 10,
    *,
    kernel_size: int = 5,
    padding: int = 0,
    batch_norm: bool = False,
    layers: Layers = DEFAULT,
) -> nn.Sequential:
    """LeNet with sigmoid activations, optionally batch-normalized.

    Two convolutions (6 and 16 channels, ``kernel_size`` and ``padding``), each followed
    by sigmoid and 2x2 average pooling, then dense layers of 120 and 84 sigmoid units
    and the output layer. With ``batch_norm`` a ``BatchNorm2d`` (after each convolution,
    per channel) or ``BatchNorm1d`` (after each hidden dense layer, per feature) sits
    between the affine layer and its sigmoid.

    Example:
        >>> import torch
        >>> from refimpl.models import lenet
        >>> lenet()(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    def norm(dims: int) -> list[nn.Module]:
        if not batch_norm:
            return []
        return [layers.LazyBatchNorm2d() if dims == 2 else layers.LazyBatchNorm1d()]

    return nn.Sequential(
        layers.LazyConv2d(6, kernel_size=kernel_size, padding=padding),
        *norm(2),
        nn.Sigmoid(),
        layers.AvgPool2d(kernel_size=2, stride=2),
        layers.LazyConv2d(16, kernel_size=kernel_size, padding=padding),
        *norm(2),
        nn.Sigmoid(),
        layers.AvgPool2d(kernel_size=2, stride=2),
        layers.Flatten(),
        layers.LazyLinear(120),
        *norm(1),
        nn.Sigmoid(),
        layers.LazyLinear(84),
        *norm(1),
        nn.Sigmoid(),
        layers.LazyLinear(num_classes),
    )


def lenet_bn(num_classes: int = 10, *, layers: Layers = DEFAULT) -> nn.Sequential:
    """D2L's batch-normalized LeNet: :func:`lenet` with 5x5 kernels and ``batch_norm=True``.

    Example:
        >>> import torch
        >>> from refimpl.models import lenet_bn
        >>> lenet_bn()(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """
    return lenet(num_classes, batch_norm=True, layers=layers)
