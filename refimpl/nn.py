"""``torch.nn``'s names for refimpl's layers, so model code reads as the book writes it.

``from refimpl import nn`` and then ``nn.LazyConv2d(...)``, ``nn.ReLU()``,
``nn.Sequential(...)``: every layer here is refimpl's own (the classes of
[`refimpl.modules`][], under the same names as in ``torch.nn``). Three of them have no
``torch.nn`` namesake: ``LayerNorm2d``, ``StochasticDepth`` and ``LayerScale``, the
layers torchvision's ConvNeXt adds (named as torchvision and timm name them). What
refimpl does not reimplement comes from ``torch.nn`` itself and is named here on purpose:

- the containers ``Module``, ``Sequential`` and ``ModuleList``, which hold layers and
  compute nothing themselves;
- ``Sigmoid``, the activation of the book's LeNet (refimpl reimplements ReLU, ReLU6,
  Hardswish and GELU, not Sigmoid).

A name that is in neither group, ``nn.Conv1d`` say, is missing here rather than silently
torch's. [`refimpl.models.to_torch`][] goes the other way: it turns a model built from
these layers into the same model built from ``torch.nn``'s.

Example:
    >>> import torch
    >>> from refimpl import nn
    >>> net = nn.Sequential(nn.LazyConv2d(6, kernel_size=5, padding=2), nn.Sigmoid(),
    ...                     nn.AvgPool2d(kernel_size=2), nn.Flatten(), nn.LazyLinear(10))
    >>> type(net[0]).__module__, type(net[1]).__module__
    ('refimpl.modules.conv', 'torch.nn.modules.activation')
    >>> net(torch.zeros(1, 1, 28, 28)).shape
    torch.Size([1, 10])
"""

from torch.nn import Module, ModuleList, Sequential, Sigmoid

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

FROM_TORCH = ("Module", "ModuleList", "Sequential", "Sigmoid")
"""The names taken from ``torch.nn`` unchanged: refimpl has no version of its own."""

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
    "Module",
    "ModuleList",
    "ReLU",
    "ReLU6",
    "Sequential",
    "Sigmoid",
    "StochasticDepth",
]
