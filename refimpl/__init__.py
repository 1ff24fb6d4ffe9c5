"""Reference layers for modern convolutional networks, proven equal to ``torch.nn``.

Every layer is written from tensor primitives (padding, ``unfold`` views, matrix
products, reductions) and keeps PyTorch's interface: same constructor, parameter
and buffer names, initialization and ``repr``. ``refimpl.shapes`` holds the
output-size arithmetic in pure Python; ``refimpl.functional`` the stateless forms,
the reference that runs by default; ``refimpl.fast`` faster kernels for some of
them, used only when switched on (``refimpl.fast.kernels()``).

Example:
    >>> import torch
    >>> import refimpl
    >>> net = torch.nn.Sequential(refimpl.LazyConv2d(6, 5, padding=2), refimpl.ReLU(),
    ...                           refimpl.MaxPool2d(2), refimpl.Flatten(), refimpl.LazyLinear(10))
    >>> net(torch.zeros(1, 1, 28, 28)).shape
    torch.Size([1, 10])
"""

from . import fast, functional, shapes
from .modules import (
    GELU,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    GroupNorm,
    Hardswish,
    LayerNorm,
    LayerNorm2d,
    LayerScale,
    LazyBatchNorm1d,
    LazyBatchNorm2d,
    LazyConv2d,
    LazyLinear,
    Linear,
    MaxPool2d,
    ReLU,
    ReLU6,
    StochasticDepth,
)

__version__ = "0.1.0"

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
    "fast",
    "functional",
    "shapes",
]
