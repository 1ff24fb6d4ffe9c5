"""Small networks: for 8x8 inputs (scikit-learn's digits), for the live training
experiments, and page-sized MobileNetV2 and ConvNeXt for the book's 96x96 inputs.

Like the chapter's models they are built from [`refimpl.nn`][]'s layers, and
[`refimpl.models.to_torch`][] gives their ``torch.nn`` twins. The digits models' input
channels are lazy; run one forward pass (or [`refimpl.training.train`][]) before
counting their parameters.
"""

from __future__ import annotations

import torch
from torch import Tensor

from refimpl import nn
from refimpl.training import materialize

from .classic import lenet
from .convnext_block import convnext
from .mobilenet import mobilenet_v2
from .residual import Residual

__all__ = [
    "DeepBlock",
    "convnext_96",
    "deep_cnn",
    "digits_cnn",
    "he_init",
    "lenet8",
    "mobilenet_v2_96",
]


def lenet8(
    num_classes: int = 10, *, batch_norm: bool = False, activation: str = "sigmoid"
) -> nn.Sequential:
    """[`lenet`][refimpl.models.lenet] scaled to 8x8 inputs: 3x3 kernels with padding 1.

    ``activation`` is ``"sigmoid"`` (the book's) or ``"relu"``.

    Example:
        >>> import torch
        >>> from refimpl.models.small import lenet8
        >>> lenet8(batch_norm=True)(torch.zeros(4, 1, 8, 8)).shape
        torch.Size([4, 10])
    """
    return lenet(
        num_classes, kernel_size=3, padding=1, batch_norm=batch_norm, activation=activation
    )


def he_init(model: nn.Module, example: Tensor, seed: int = 0) -> nn.Module:
    """Draw every convolution and dense weight with He initialization; zero their biases.

    He (Kaiming) initialization draws each weight from a normal distribution with
    variance ``2 / fan_in``, the scale that keeps the activations' variance from shrinking
    layer after layer in a ReLU network. PyTorch's default initialization is about 2.4
    times narrower, which leaves a deep plain ReLU network close to its starting point for
    many steps. Lazy layers are first materialized on ``example``. The weights come from a
    generator seeded with ``seed``. Returns the model.

    Example:
        >>> import torch
        >>> from refimpl.models.small import he_init, lenet8
        >>> net = he_init(lenet8(activation="relu"), torch.zeros(1, 1, 8, 8))
        >>> w = net[0].weight  # 6 filters of 1 x 3 x 3: fan_in 9
        >>> tuple(w.shape), bool(net[0].bias.any())
        ((6, 1, 3, 3), False)
    """
    materialize(model, example)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                torch.nn.init.kaiming_normal_(
                    module.weight, nonlinearity="relu", generator=generator
                )
                if module.bias is not None:
                    module.bias.zero_()
    return model


class DeepBlock(Residual):
    """D2L's [`Residual`][refimpl.models.Residual] block without a 1x1 shortcut; the sum optional.

    ``residual=True`` is ``Residual(channels)``: ``relu(F(x) + x)``, the sum before the
    last ReLU. ``residual=False`` drops only the ``+ x``: ``relu(F(x))``, two plain 3x3
    conv-BN layers with the same parameters.
    """

    def __init__(self, channels: int, *, residual: bool) -> None:
        super().__init__(channels)
        self.residual = residual

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x) if self.residual else self.relu(self.branch(x))


def deep_cnn(
    num_blocks: int = 5,
    channels: int = 16,
    num_classes: int = 10,
    *,
    residual: bool = False,
) -> nn.Sequential:
    """A stem (conv-BN-ReLU, 2x2 max pooling to 4x4), residual-optional blocks, a GAP head.

    The blocks are [`DeepBlock`][refimpl.models.small.DeepBlock]s.

    The network has ``2 * num_blocks + 2`` weight layers whatever ``residual`` is, and
    the same parameter shapes, so plain and residual versions differ only in the sums.

    Example:
        >>> import torch
        >>> from refimpl.models.small import deep_cnn
        >>> deep_cnn(3, residual=True)(torch.zeros(2, 1, 8, 8)).shape
        torch.Size([2, 10])
    """
    return nn.Sequential(
        nn.LazyConv2d(channels, kernel_size=3, padding=1),
        nn.LazyBatchNorm2d(),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),
        *[DeepBlock(channels, residual=residual) for _ in range(num_blocks)],
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.LazyLinear(num_classes),
    )


def digits_cnn(num_classes: int = 10, *, head: str = "gap", hidden: int = 256) -> nn.Sequential:
    """Two conv-BN-ReLU stages (32 channels, 8x8 then 4x4) and a NiN or a dense head.

    ``head="gap"`` ends NiN-style: a 1x1 convolution to ``num_classes`` channels and
    global average pooling. ``head="fc"`` flattens the 32x4x4 features into a dense
    layer of ``hidden`` ReLU units and then the output layer.

    Example:
        >>> import torch
        >>> from refimpl.models.small import digits_cnn
        >>> for head in ("gap", "fc"):
        ...     print(head, tuple(digits_cnn(head=head)(torch.zeros(2, 1, 8, 8)).shape))
        gap (2, 10)
        fc (2, 10)
    """
    body: list[nn.Module] = [
        nn.LazyConv2d(32, kernel_size=3, padding=1),
        nn.LazyBatchNorm2d(),
        nn.ReLU(),
        nn.LazyConv2d(32, kernel_size=3, padding=1),
        nn.LazyBatchNorm2d(),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=2, stride=2),
    ]
    tail: list[nn.Module]
    if head == "gap":
        tail = [
            nn.LazyConv2d(num_classes, kernel_size=1),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        ]
    elif head == "fc":
        tail = [
            nn.Flatten(),
            nn.LazyLinear(hidden),
            nn.ReLU(),
            nn.LazyLinear(num_classes),
        ]
    else:
        raise ValueError(f"head must be 'gap' or 'fc', got {head!r}")
    return nn.Sequential(*body, *tail)


def mobilenet_v2_96(num_classes: int = 10) -> nn.Sequential:
    """MobileNetV2 for the book's pages: 96x96 single-channel inputs and 10 classes.

    Torchvision's blocks and widths, with one input channel: the 32x reduction leaves a
    3x3 map before the pooling. See [`mobilenet_v2`][refimpl.models.mobilenet_v2].

    Example:
        >>> import torch
        >>> from refimpl.models.small import mobilenet_v2_96
        >>> mobilenet_v2_96().eval()(torch.zeros(1, 1, 96, 96)).shape
        torch.Size([1, 10])
    """
    return mobilenet_v2(num_classes, in_channels=1)


def convnext_96(num_classes: int = 10) -> nn.Sequential:
    """ConvNeXt-T at a third of its depth and width, for 96x96 single-channel inputs.

    Stages of 1, 1, 3 and 1 blocks (ConvNeXt-T's 3:3:9:3 over 3) of 32, 64, 128 and 256
    channels (its 96 to 768 over 3), stochastic depth up to 0.1, layer scale from
    ``1e-6``: ConvNeXt-T's design at about 1/24 of its parameters. See
    [`convnext`][refimpl.models.convnext].

    Example:
        >>> import torch
        >>> from refimpl.models.small import convnext_96
        >>> convnext_96()(torch.zeros(1, 1, 96, 96)).shape
        torch.Size([1, 10])
    """
    arch = ((1, 32), (1, 64), (3, 128), (1, 256))
    return convnext(arch, num_classes, stochastic_depth_prob=0.1, in_channels=1)
