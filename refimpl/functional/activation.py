"""ReLU and dropout from comparisons and masks."""

from __future__ import annotations

import torch
from torch import Tensor

from .._checks import dropout_probability
from .._dispatch import has_fast_kernel

__all__ = ["dropout", "relu"]


@has_fast_kernel
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)`` elementwise, as ``torch.nn.functional.relu``.

    NaN passes through (``NaN <= 0`` is false), and the gradient passes where the
    output is the input, so it is 0 at exactly ``x = 0``: both as in PyTorch.

    Example:
        >>> import torch
        >>> from refimpl.functional import relu
        >>> relu(torch.tensor([-1.0, 0.0, 2.0]))
        tensor([0., 0., 2.])
    """
    if inplace:
        return input.masked_fill_(input <= 0, 0)
    return torch.where(input <= 0, 0, input)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    The scaling keeps every element's expected value, so evaluation (``training=False``)
    is the identity. The mask is drawn as PyTorch draws it on the CPU, so with the
    same seed the same elements are dropped.

    Example:
        >>> import torch
        >>> from refimpl.functional import dropout
        >>> dropout(torch.ones(6), p=0.5, training=False)
        tensor([1., 1., 1., 1., 1., 1.])
        >>> x = torch.ones(1000)
        >>> _ = torch.manual_seed(0)
        >>> y = dropout(x, p=0.5)
        >>> sorted(set(y.tolist()))      # dropped, or kept and doubled
        [0.0, 2.0]
        >>> _ = torch.manual_seed(0)
        >>> torch.equal(y, torch.nn.functional.dropout(x, p=0.5))
        True
    """
    dropout_probability(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input.mul_(0) if inplace else input * 0
    keep = torch.empty_like(input).bernoulli_(1 - p).div_(1 - p)  # 0 or 1 / (1 - p)
    return input.mul_(keep) if inplace else input * keep
