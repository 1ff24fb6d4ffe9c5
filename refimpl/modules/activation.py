"""Activation modules, ``Dropout``, ``StochasticDepth`` and ``Flatten``."""

from __future__ import annotations

from torch import Tensor, nn

from .. import functional as F
from .._checks import stochastic_depth_arguments

__all__ = ["GELU", "Dropout", "Flatten", "Hardswish", "ReLU", "ReLU6", "StochasticDepth"]


class ReLU(nn.Module):
    """``max(x, 0)`` elementwise, interchangeable with ``torch.nn.ReLU``.

    Example:
        >>> import torch
        >>> from refimpl import ReLU
        >>> ReLU()(torch.tensor([-2.0, 0.5]))
        tensor([0.0000, 0.5000])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input, inplace=self.inplace)


class ReLU6(nn.Module):
    """``min(max(x, 0), 6)`` elementwise, interchangeable with ``torch.nn.ReLU6``.

    Shape:
        Any shape; the output has the input's shape.

    Example:
        >>> import torch
        >>> from refimpl import ReLU6
        >>> ReLU6()(torch.tensor([-2.0, 0.5, 7.0]))
        tensor([0.0000, 0.5000, 6.0000])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""

    def forward(self, input: Tensor) -> Tensor:
        return F.relu6(input, inplace=self.inplace)


class Hardswish(nn.Module):
    """``x * relu6(x + 3) / 6`` elementwise, interchangeable with ``torch.nn.Hardswish``.

    Shape:
        Any shape; the output has the input's shape.

    Example:
        >>> import torch
        >>> from refimpl import Hardswish
        >>> Hardswish()(torch.tensor([-1.0, 1.0]))
        tensor([-0.3333,  0.6667])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace  # torch's repr does not show it: no extra_repr

    def forward(self, input: Tensor) -> Tensor:
        return F.hardswish(input, inplace=self.inplace)


class GELU(nn.Module):
    """``x * Phi(x)`` elementwise, interchangeable with ``torch.nn.GELU``.

    ``approximate='none'`` uses the exact normal distribution function (erf),
    ``'tanh'`` its tanh approximation; another value fails at the first call, as in
    torch.

    Shape:
        Any shape; the output has the input's shape.

    Example:
        >>> import torch
        >>> from refimpl import GELU
        >>> GELU(approximate="tanh")
        GELU(approximate='tanh')
        >>> GELU()(torch.tensor([-1.0, 1.0]))
        tensor([-0.1587,  0.8413])
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, approximate=self.approximate)


class Dropout(nn.Module):
    """Zero elements with probability ``p`` in training, interchangeable with ``torch.nn.Dropout``.

    Survivors are scaled by ``1 / (1 - p)``; in eval mode the module is the identity.

    Example:
        >>> from refimpl import Dropout
        >>> Dropout(0.3)
        Dropout(p=0.3, inplace=False)
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got p={p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)


class StochasticDepth(nn.Module):
    """Drop whole examples of a residual branch, like torchvision's ``ops.StochasticDepth``.

    In training, ``mode='row'`` zeroes each example with probability ``p`` and
    ``mode='batch'`` the whole batch; survivors are scaled by ``1 / (1 - p)``. In eval
    mode, or with ``p = 0``, the module is the identity. torch.nn has no such layer;
    ConvNeXt puts one on every block's branch, before the sum with the shortcut.

    Shape:
        Input ``(N, *)``; the output has the input's shape.

    Example:
        >>> import torch
        >>> from refimpl import StochasticDepth
        >>> layer = StochasticDepth(0.25, "row")
        >>> layer
        StochasticDepth(p=0.25, mode=row)
        >>> x = torch.ones(4, 3, 2, 2)
        >>> layer.eval()(x) is x
        True
    """

    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        stochastic_depth_arguments(p, mode)
        self.p = p
        self.mode = mode

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode}"  # torchvision prints the mode unquoted

    def forward(self, input: Tensor) -> Tensor:
        return F.stochastic_depth(input, self.p, self.mode, self.training)


class Flatten(nn.Module):
    """Merge dims ``start_dim..end_dim`` into one, like ``torch.nn.Flatten``.

    Example:
        >>> import torch
        >>> from refimpl import Flatten
        >>> Flatten()(torch.zeros(2, 3, 4, 5)).shape
        torch.Size([2, 60])
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)
