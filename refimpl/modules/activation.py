"""``ReLU``, ``Dropout`` and ``Flatten`` modules."""

from __future__ import annotations

from torch import Tensor, nn

from .. import functional as F

__all__ = ["Dropout", "Flatten", "ReLU"]


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
