"""The architectures of D2L's chapter on modern CNNs, and MobileNetV2 and ConvNeXt-T as
torchvision builds them, from ``refimpl`` layers.

Each factory returns an ``nn.Sequential`` whose top-level children are the stages of
the book's ``net``, with the same layers and hyper-parameters and lazy input
channels, so [`layer_summary`][refimpl.models.layer_summary] over its children gives the book's
table. [`mobilenet_v2`][refimpl.models.mobilenet_v2] and
[`convnext_tiny`][refimpl.models.convnext_tiny] have torchvision's layers, widths and
parameter counts, with eager layers for 3-channel inputs, and children named by stage.
The code
reads as the book's: ``nn`` is [`refimpl.nn`][], torch's names for refimpl's layers.
[`to_torch`][refimpl.models.to_torch] converts a model into its twin built from ``torch.nn``'s
layers.
"""

from .classic import alexnet, lenet, lenet_bn, nin, nin_block, vgg, vgg11, vgg_block
from .convnext_block import ConvNeXtBlock, convnext, convnext_tiny
from .dense import DenseBlock, TransitionBlock, conv_block, densenet
from .inception import Inception, googlenet
from .mobilenet import InvertedResidual, conv_bn, make_divisible, mobilenet_v2
from .regnet import AnyNetStage, anynet, regnetx32
from .residual import Residual, ResNeXtBlock, resnet, resnet18, resnet_stem
from .summary import LayerRow, Summary, layer_macs, layer_summary
from .torch_twin import to_torch

__all__ = [
    "AnyNetStage",
    "ConvNeXtBlock",
    "DenseBlock",
    "Inception",
    "InvertedResidual",
    "LayerRow",
    "ResNeXtBlock",
    "Residual",
    "Summary",
    "TransitionBlock",
    "alexnet",
    "anynet",
    "conv_block",
    "conv_bn",
    "convnext",
    "convnext_tiny",
    "densenet",
    "googlenet",
    "layer_macs",
    "layer_summary",
    "lenet",
    "lenet_bn",
    "make_divisible",
    "mobilenet_v2",
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
