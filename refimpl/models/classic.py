"""AlexNet, VGG, NiN and batch-normalized LeNet, as D2L's chapter on modern CNNs builds them."""

from __future__ import annotations

from collections.abc import Sequence

from refimpl import nn

__all__ = ["alexnet", "lenet", "lenet_bn", "nin", "nin_block", "vgg", "vgg11", "vgg_block"]

VGG11_ARCH = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))


def alexnet(num_classes: int = 10) -> nn.Sequential:
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
        nn.LazyConv2d(96, kernel_size=11, stride=4, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.LazyConv2d(256, kernel_size=5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.LazyConv2d(384, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.LazyConv2d(384, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.LazyConv2d(256, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Flatten(),
        nn.LazyLinear(4096),
        nn.ReLU(),
        nn.Dropout(p=0.5),
        nn.LazyLinear(4096),
        nn.ReLU(),
        nn.Dropout(p=0.5),
        nn.LazyLinear(num_classes),
    )


def vgg_block(num_convs: int, out_channels: int) -> nn.Sequential:
    """``num_convs`` 3x3 convolutions (padding 1, size kept) with ReLU, then a 2x2 max pool."""
    blocks: list[nn.Module] = []
    for _ in range(num_convs):
        blocks += [nn.LazyConv2d(out_channels, kernel_size=3, padding=1), nn.ReLU()]
    blocks.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*blocks)


def vgg(arch: Sequence[tuple[int, int]], num_classes: int = 10) -> nn.Sequential:
    """VGG from ``arch``, a sequence of ``(num_convs, out_channels)``, one VGG block each.

    Each block halves the resolution; the head is AlexNet's (two 4096-wide dense
    layers with dropout).
    """
    return nn.Sequential(
        *(vgg_block(num_convs, channels) for num_convs, channels in arch),
        nn.Flatten(),
        nn.LazyLinear(4096),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.LazyLinear(4096),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.LazyLinear(num_classes),
    )


def vgg11(num_classes: int = 10) -> nn.Sequential:
    """VGG-11: eight convolutions in five blocks, arch ``VGG11_ARCH``.

    ``((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))``: one or two convolutions per block.

    Example:
        >>> import torch
        >>> from refimpl.models import vgg11
        >>> vgg11()(torch.zeros(1, 1, 224, 224)).shape
        torch.Size([1, 10])
    """
    return vgg(VGG11_ARCH, num_classes)


def nin_block(out_channels: int, kernel_size: int, stride: int, padding: int) -> nn.Sequential:
    """A convolution followed by two 1x1 convolutions (per-pixel dense layers), each with ReLU."""
    return nn.Sequential(
        nn.LazyConv2d(out_channels, kernel_size, stride, padding),
        nn.ReLU(),
        nn.LazyConv2d(out_channels, kernel_size=1),
        nn.ReLU(),
        nn.LazyConv2d(out_channels, kernel_size=1),
        nn.ReLU(),
    )


def nin(num_classes: int = 10) -> nn.Sequential:
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
        nin_block(96, kernel_size=11, stride=4, padding=0),
        nn.MaxPool2d(3, stride=2),
        nin_block(256, kernel_size=5, stride=1, padding=2),
        nn.MaxPool2d(3, stride=2),
        nin_block(384, kernel_size=3, stride=1, padding=1),
        nn.MaxPool2d(3, stride=2),
        nn.Dropout(0.5),
        nin_block(num_classes, kernel_size=3, stride=1, padding=1),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
    )


def lenet(
    num_classes: int = 10,
    *,
    kernel_size: int = 5,
    padding: int = 0,
    batch_norm: bool = False,
    activation: str = "sigmoid",
) -> nn.Sequential:
    """LeNet with sigmoid activations, optionally batch-normalized.

    Two convolutions (6 and 16 channels, ``kernel_size`` and ``padding``), each followed
    by sigmoid and 2x2 average pooling, then dense layers of 120 and 84 sigmoid units
    and the output layer. With ``batch_norm`` a ``BatchNorm2d`` (after each convolution,
    per channel) or ``BatchNorm1d`` (after each hidden dense layer, per feature) sits
    between the affine layer and its sigmoid. ``activation="relu"`` puts ReLU in every
    place of the sigmoid (a modern variant; the book's LeNet is the default).

    Example:
        >>> import torch
        >>> from refimpl.models import lenet
        >>> lenet()(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    activations = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}
    if activation not in activations:
        raise ValueError(f"activation must be 'sigmoid' or 'relu', got {activation!r}")
    act = activations[activation]

    def norm(dims: int) -> list[nn.Module]:
        if not batch_norm:
            return []
        return [nn.LazyBatchNorm2d() if dims == 2 else nn.LazyBatchNorm1d()]

    return nn.Sequential(
        nn.LazyConv2d(6, kernel_size=kernel_size, padding=padding),
        *norm(2),
        act(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.LazyConv2d(16, kernel_size=kernel_size, padding=padding),
        *norm(2),
        act(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.LazyLinear(120),
        *norm(1),
        act(),
        nn.LazyLinear(84),
        *norm(1),
        act(),
        nn.LazyLinear(num_classes),
    )


def lenet_bn(num_classes: int = 10) -> nn.Sequential:
    """D2L's batch-normalized LeNet: [`lenet`][refimpl.models.lenet] with 5x5 kernels and
    ``batch_norm=True``.

    Example:
        >>> import torch
        >>> from refimpl.models import lenet_bn
        >>> lenet_bn()(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """
    return lenet(num_classes, batch_norm=True)
