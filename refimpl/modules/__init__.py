"""``torch.nn.Module`` layers with PyTorch's interface over [`refimpl.functional`][]."""

from .activation import Dropout, Flatten, ReLU
from .conv import Conv2d, LazyConv2d
from .linear import LazyLinear, Linear
from .normalization import (
    BatchNorm1d,
    BatchNorm2d,
    GroupNorm,
    LayerNorm,
    LazyBatchNorm1d,
    LazyBatchNorm2d,
)
from .pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d

__all__ = [
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "Dropout",
    "Flatten",
    "GroupNorm",
    "LayerNorm",
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyConv2d",
    "LazyLinear",
    "Linear",
    "MaxPool2d",
    "ReLU",
]
