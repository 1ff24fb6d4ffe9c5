"""``torch.nn.Module`` layers with PyTorch's interface over [`refimpl.functional`][]."""

from .activation import GELU, Dropout, Flatten, Hardswish, ReLU, ReLU6, StochasticDepth
from .conv import Conv2d, LazyConv2d
from .linear import LazyLinear, Linear
from .normalization import (
    BatchNorm1d,
    BatchNorm2d,
    GroupNorm,
    LayerNorm,
    LayerNorm2d,
    LazyBatchNorm1d,
    LazyBatchNorm2d,
)
from .pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d
from .scale import LayerScale

__all__ = [
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "Dropout",
    "Flatten",
    "GELU",
    "GroupNorm",
    "Hardswish",
    "LayerNorm",
    "LayerNorm2d",
    "LayerScale",
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
    "LazyConv2d",
    "LazyLinear",
    "Linear",
    "MaxPool2d",
    "ReLU",
    "ReLU6",
    "StochasticDepth",
]
