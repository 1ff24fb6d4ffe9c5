"""The architectures of D2L's chapter on modern CNNs, built from ``refimpl`` layers.

Each factory returns an ``nn.Sequential`` whose top-level children are the stages of
the book's ``net``, with the same layers and hyper-parameters and lazy input
channels, so [`layer_summary`][refimpl.models.layer_summary] over its children gives the book's
table. The code
reads as the book's: ``nn`` is [`refimpl.nn`][], torch's names for refimpl's layers.
[`to_torch`][refimpl.models.to_torch] converts a model into its twin built from ``torch.nn``'s
layers.
"""

from .classic import alexnet, lenet, lenet_bn, nin, nin_block, vgg, vgg11, vgg_block
from .dense import DenseBlock, TransitionBlock, conv_block, densenet
from .inception import Inception, googlenet
from .regnet import AnyNetStage, anynet, regnetx32
from .residual import Residual, ResNeXtBlock, resnet, resnet18, resnet_stem
from .summary import LayerRow, Summary, layer_macs, layer_summary
from .torch_twin import to_torch

__all__ = [
    "AnyNetStage",
    "DenseBlock",
    "Inception",
    "LayerRow",
    "ResNeXtBlock",
    "Residual",
    "Summary",
    "TransitionBlock",
    "alexnet",
    "anynet",
    "conv_block",
    "densenet",
    "googlenet",
    "layer_macs",
    "layer_summary",
    "lenet",
    "lenet_bn",
    "nin",
    "nin_block",
    "regnetx32",
    "resnet",
    "resnet18",
    "resnet_stem",
    "to_torch",
    "vgg",
    "vgg11",
    "vgg_block",
]
