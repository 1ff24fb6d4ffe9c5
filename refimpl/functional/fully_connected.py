"""Fully connected layer as one matrix product."""

from __future__ import annotations

import torch
from torch import Tensor

from .._checks import linear_arguments

__all__ = ["linear"]


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``y = x W^T + b`` over the last dimension, as ``torch.nn.functional.linear``.

    Example:
        >>> import torch
        >>> from refimpl.functional import linear
        >>> linear(torch.ones(2, 3), torch.ones(4, 3), torch.arange(4.0))
        tensor([[3., 4., 5., 6.],
                [3., 4., 5., 6.]])
    """
    linear_arguments(input, weight)
    out = torch.matmul(input, weight.T)
    return out if bias is None else out + bias
