"""Activations (ReLU, ReLU6, hardswish, GELU) from comparisons and elementwise math, and
the random masks of dropout and stochastic depth."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .._checks import (
    dropout_probability,
    floating_input,
    gelu_approximate,
    stochastic_depth_arguments,
)
from .._dispatch import has_fast_kernel

__all__ = ["dropout", "gelu", "hardswish", "relu", "relu6", "stochastic_depth"]


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


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)`` elementwise, as ``torch.nn.functional.relu6``.

    MobileNetV2's activation: a ReLU capped at 6, which keeps activations in a range
    that low-precision arithmetic represents well. As in PyTorch (where it is
    ``hardtanh(x, 0, 6)``), the gradient is 1 strictly between 0 and 6 and 0 at both
    ends, and NaN passes through with gradient 1 (neither comparison holds for NaN).

    Example:
        >>> import torch
        >>> from refimpl.functional import relu6
        >>> relu6(torch.tensor([-1.0, 3.0, 8.0]))
        tensor([0., 3., 6.])
    """
    if inplace:
        return input.masked_fill_(input <= 0, 0).masked_fill_(input >= 6, 6)
    return torch.where(input <= 0, 0, torch.where(input >= 6, 6, input))


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * relu6(x + 3) / 6`` elementwise, as ``torch.nn.functional.hardswish``.

    ``x`` times a hard sigmoid: a gate that is 0 up to ``x = -3``, rises linearly to 1
    at ``x = 3`` and stays 1. The gate is written in pieces so that the gradient is
    PyTorch's: 0 for ``x <= -3``, ``x / 3 + 1 / 2`` between, 1 for ``x >= 3`` and for NaN
    (NaN fails both comparisons and takes the last piece).

    Example:
        >>> import torch
        >>> from refimpl.functional import hardswish
        >>> hardswish(torch.tensor([-4.0, 0.0, 1.5, 4.0]))
        tensor([-0.0000,  0.0000,  1.1250,  4.0000])
    """
    floating_input(input, "hardswish")
    x = input.clone() if inplace else input  # autograd needs the values an in-place write replaces
    gate = torch.where(x <= -3, 0, torch.where(x < 3, (x + 3) / 6, 1))
    return input.copy_(x * gate) if inplace else x * gate


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """The Gaussian error linear unit ``x * Phi(x)``, as ``torch.nn.functional.gelu``.

    ``Phi`` is the standard normal distribution function: each input is weighted by the
    probability that a standard normal variable lies below it. ``approximate='none'``
    computes it exactly, ``Phi(x) = (1 + erf(x / sqrt(2))) / 2``; ``approximate='tanh'``
    uses the tanh approximation ``(1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3))) / 2``.
    Any other value is a ``RuntimeError`` when the function runs, as in PyTorch.

    Example:
        >>> import torch
        >>> from refimpl.functional import gelu
        >>> x = torch.tensor([-1.0, 0.0, 1.0])
        >>> gelu(x)
        tensor([-0.1587,  0.0000,  0.8413])
        >>> gelu(x, approximate="tanh")
        tensor([-0.1588,  0.0000,  0.8412])
    """
    gelu_approximate(approximate)
    floating_input(input, "gelu")
    if approximate == "tanh":
        inner = math.sqrt(2 / math.pi) * (input + 0.044715 * input.pow(3))
        return 0.5 * input * (1 + torch.tanh(inner))
    return input * 0.5 * (1 + torch.erf(input * math.sqrt(0.5)))  # x * Phi(x), exactly


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


def stochastic_depth(input: Tensor, p: float, mode: str, training: bool = True) -> Tensor:
    """Zero a whole residual branch with probability ``p``, as torchvision's ``stochastic_depth``.

    Dropout for entire examples: ``mode='row'`` draws one keep-or-drop per example (dim
    0), ``mode='batch'`` one for the whole batch. Survivors are scaled by
    ``1 / (1 - p)``, so the expected output is the input and evaluation
    (``training=False``) and ``p = 0`` return ``input`` itself. ``p = 1`` drops
    everything (no scaling: nothing survives to scale). Applied to a residual branch
    ``f(x)`` before ``x + f(x)``, a dropped example skips the block: the network it
    trains is randomly shallower. The mask is drawn as torchvision draws it, so the
    same seed drops the same examples.

    Example:
        >>> import torch
        >>> from refimpl.functional import stochastic_depth
        >>> x = torch.ones(6, 2)
        >>> _ = torch.manual_seed(0)
        >>> stochastic_depth(x, p=0.5, mode="row")   # rows dropped or doubled
        tensor([[0., 0.],
                [0., 0.],
                [2., 2.],
                [0., 0.],
                [0., 0.],
                [0., 0.]])
        >>> stochastic_depth(x, p=0.5, mode="row", training=False) is x
        True
    """
    stochastic_depth_arguments(p, mode)
    if not training or p == 0.0:
        return input
    survival = 1.0 - p
    if mode == "row":
        size = [input.shape[0]] + [1] * (input.dim() - 1)  # (N, 1, 1, ...): one per example
    else:
        size = [1] * input.dim()  # one for the batch
    keep = torch.empty(size, dtype=input.dtype, device=input.device).bernoulli_(survival)
    if survival > 0.0:
        keep.div_(survival)  # 0 or 1 / (1 - p)
    return input * keep
