"""Fully connected layer as one matrix product."""

from __future__ import annotations

import torch
from torch import Tensor

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
    if input.dim() == 0 or input.shape[-1] != weight.shape[-1]:
        raise RuntimeError(
            f"input's last dimension must equal in_features={weight.shape[-1]}, but got "
            f"input of size {list(input.shape)} for weight of size {list(weight.shape)}"
        )
    out = torch.matmul(input, weight.T)
    return out if bias is None else out + bias
