"""A refimpl model's torch twin: the same model with every refimpl layer swapped for torch's."""

from __future__ import annotations

import copy
import inspect
from typing import Any

import torch
from torch import Tensor

from refimpl import modules

__all__ = ["to_torch"]


# The layers torch.nn lacks (torchvision's, for ConvNeXt), written from torch.nn's own
# layers and tensor methods as torchvision computes them, under refimpl's names.


class LayerNorm2d(torch.nn.LayerNorm):
    """``torch.nn.LayerNorm`` over the channels of ``(N, C, H, W)``: torchvision's form."""

    def forward(self, input: Tensor) -> Tensor:
        return super().forward(input.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class StochasticDepth(torch.nn.Module):
    """torchvision's stochastic depth, its mask drawn by ``torch.nn.Dropout``.

    Dropout of a tensor of ones shaped ``(N, 1, ...)`` (``'row'``) or ``(1, ...)``
    (``'batch'``) is torchvision's mask: 0, or ``1 / (1 - p)`` with probability
    ``1 - p``, drawn by the same ``bernoulli_`` call, so the same seed gives the same mask.
    """

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p = p
        self.mode = mode

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"

    def forward(self, input: Tensor) -> Tensor:
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"drop probability has to be between 0 and 1, but got {self.p}")
        if self.mode not in ("batch", "row"):
            raise ValueError(f"mode has to be either 'batch' or 'row', but got {self.mode}")
        if not self.training or self.p == 0.0:
            return input
        rows = input.shape[0] if self.mode == "row" else 1
        ones = input.new_ones((rows,) + (1,) * (input.dim() - 1))
        return input * torch.nn.Dropout(self.p)(ones)


class LayerScale(torch.nn.Module):
    """A learnable ``(C, 1, 1)`` gain, as torchvision's ``CNBlock`` applies ``layer_scale``."""

    def __init__(
        self, num_channels: int, init_value: float = 1e-6, device: Any = None, dtype: Any = None
    ) -> None:
        super().__init__()
        self.num_channels = num_channels
        self.init_value = init_value
        shape = (num_channels, 1, 1)
        self.gamma = torch.nn.Parameter(torch.full(shape, init_value, device=device, dtype=dtype))

    def extra_repr(self) -> str:
        return f"{self.num_channels}, init_value={self.init_value}"

    def forward(self, input: Tensor) -> Tensor:
        return self.gamma * input


TORCHVISION_LAYERS: dict[type[torch.nn.Module], type[torch.nn.Module]] = {
    modules.LayerNorm2d: LayerNorm2d,
    modules.StochasticDepth: StochasticDepth,
    modules.LayerScale: LayerScale,
}

# every refimpl layer, and its twin: the torch.nn class of the same name, or one above
TWINS: dict[type[torch.nn.Module], type[torch.nn.Module]] = {
    getattr(modules, name): getattr(torch.nn, name)
    for name in modules.__all__
    if hasattr(torch.nn, name)
} | TORCHVISION_LAYERS


def to_torch(model: torch.nn.Module) -> torch.nn.Module:
    """A copy of ``model`` in which every refimpl layer is the ``torch.nn`` layer of its name.

    The three layers that ``torch.nn`` lacks become the twins defined in this module,
    written from ``torch.nn``'s layers as torchvision computes them: ``LayerNorm2d`` is
    ``torch.nn.LayerNorm`` between two permutes, ``StochasticDepth`` multiplies by a mask
    that ``torch.nn.Dropout`` draws, and ``LayerScale`` multiplies by its ``gamma``.

    Each layer's twin gets the same constructor arguments, read from the layer (so
    ``repr`` prints the same), its training flag, and a copy of its state, loaded with
    ``load_state_dict(strict=True)``: parameters and buffers are equal, and so are the
    outputs and gradients. A lazy layer that has not seen an input yet becomes torch's
    lazy class (``LazyConv2d`` stays ``LazyConv2d``), which infers its shapes on its own
    first forward; with the same seed it then draws the same weights.

    Everything else is a container: ``nn.Sequential`` and blocks such as
    [`Residual`][refimpl.models.Residual] are deep-copied with their class, each refimpl
    layer inside replaced by its twin, so the twin runs the same ``forward`` code (a
    layer used twice stays one layer). A container's ``forward`` that called
    [`refimpl.functional`][] itself would still call it in the twin; the chapter's
    blocks call only their layers and ``torch.cat``. ``torch.nn`` modules (``Sigmoid``)
    are copied as they are. ``model`` itself is left unchanged.

    Raises:
        TypeError: for a module this cannot convert, named in the message: a subclass of a
            refimpl layer (its ``forward`` may differ from torch's), or a module outside
            ``torch.nn`` that holds parameters or buffers of its own.

    Example:
        >>> import torch
        >>> from refimpl import models
        >>> net = models.resnet18()
        >>> x = torch.randn(2, 1, 32, 32)
        >>> net.eval()(x).shape  # the first forward materializes the lazy layers
        torch.Size([2, 10])
        >>> twin = models.to_torch(net)
        >>> type(net.b2[0].conv1), type(twin.b2[0].conv1)
        (<class 'refimpl.modules.conv.Conv2d'>, <class 'torch.nn.modules.conv.Conv2d'>)
        >>> type(twin.b2[0]) is models.Residual, repr(twin) == repr(net)
        (True, True)
        >>> torch.testing.assert_close(twin(x), net(x), rtol=1e-4, atol=1e-5)
    """
    twins: dict[int, Any] = {}  # deepcopy's memo: each refimpl layer is copied as its twin
    for module in model.modules():
        kind = type(module)
        name = f"{kind.__module__}.{kind.__qualname__}"
        if kind in TWINS:
            twins[id(module)] = _twin_layer(module, TWINS[kind])
        elif isinstance(module, tuple(TWINS)):
            raise TypeError(
                f"cannot convert {name} to torch.nn: it subclasses a refimpl layer, and its "
                "own forward may differ from the torch.nn layer of that name"
            )
        elif _owns_state(module) and not (
            kind.__module__.startswith("torch.nn.") or kind in TORCHVISION_LAYERS.values()
        ):
            raise TypeError(
                f"cannot convert {name} to torch.nn: it holds parameters or buffers of its "
                "own and is not a refimpl layer"
            )
    return copy.deepcopy(model, twins)


def _owns_state(module: torch.nn.Module) -> bool:
    """Whether ``module`` registers a parameter or buffer itself (not in a child)."""
    own = (*module.parameters(recurse=False), *module.buffers(recurse=False))
    return len(own) > 0


def constructor_arguments(layer: torch.nn.Module, cls: type[torch.nn.Module]) -> dict[str, Any]:
    """The arguments that build a ``cls`` with ``layer``'s settings (``device``/``dtype`` aside).

    Each of ``cls``'s constructor parameters is read from the attribute of the same name,
    as torch's and refimpl's layers both store them; ``bias`` is whether ``layer`` has one.
    """
    arguments: dict[str, Any] = {}
    for name in list(inspect.signature(cls.__init__).parameters)[1:]:
        if name in ("device", "dtype"):
            continue
        if name == "bias":  # an argument (add a bias?) that the layer keeps as a tensor
            arguments[name] = getattr(layer, "bias", None) is not None
        else:
            arguments[name] = getattr(layer, name)
    return arguments


def _twin_layer(layer: torch.nn.Module, torch_class: type[torch.nn.Module]) -> torch.nn.Module:
    """The ``torch_class`` layer built with ``layer``'s arguments and holding its state."""
    arguments = constructor_arguments(layer, torch_class)
    floats = [t for t in (*layer.parameters(), *layer.buffers()) if t.is_floating_point()]
    if floats:  # build it on the layer's device, in its dtype
        arguments.update(device=floats[0].device, dtype=floats[0].dtype)
    twin = torch_class(**arguments)
    # an uninitialized parameter loads into torch's lazy layer as one: it stays unshaped
    twin.load_state_dict(layer.state_dict(), strict=True)
    frozen = {name for name, p in layer.named_parameters() if not p.requires_grad}
    for name, p in twin.named_parameters():
        p.requires_grad = name not in frozen  # an attribute: lazy placeholders refuse the method
    return twin.train(layer.training)
