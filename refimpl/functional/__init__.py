"""Functional forms of the reference layers, written from tensor primitives.

None of these calls the ``torch.nn.functional`` operation it reimplements; the
building blocks are indexing, ``Tensor.unfold`` views, matrix products and
reductions. Each mirrors the signature of its ``torch.nn.functional`` namesake;
``stochastic_depth`` mirrors ``torchvision.ops.stochastic_depth``.
"""

from .activation import dropout, gelu, hardswish, relu, relu6, stochastic_depth
from .conv import conv2d, conv2d_definition
from .fully_connected import linear
from .normalization import batch_norm, group_norm, layer_norm
from .padding import pad2d
from .pooling import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d

__all__ = [
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "avg_pool2d",
    "batch_norm",
    "conv2d",
    "conv2d_definition",
    "dropout",
    "gelu",
    "group_norm",
    "hardswish",
    "layer_norm",
    "linear",
    "max_pool2d",
    "pad2d",
    "relu",
    "relu6",
    "stochastic_depth",
]
