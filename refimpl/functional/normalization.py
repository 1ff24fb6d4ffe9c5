"""Batch, layer and group normalization: mean, biased variance, normalize, scale and shift."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from .._checks import (
    LOW_PRECISION,
    batch_norm_arguments,
    group_norm_arguments,
    layer_norm_arguments,
)
from .._dispatch import has_fast_kernel
from ._layout import in_layout_of

__all__ = ["batch_norm", "group_norm", "layer_norm"]


def _per_channel(t: Tensor, like: Tensor) -> Tensor:
    """A per-channel vector shaped ``(1, C, 1, ...)``, to broadcast over ``like``'s dims."""
    return t.reshape(1, -1, *([1] * (like.dim() - 2)))


def _float32_if_low_precision(input: Tensor) -> Tensor:
    """bfloat16 and float16 inputs are normalized in float32, as torch does."""
    return input.float() if input.dtype in LOW_PRECISION else input


@has_fast_kernel
def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each channel with batch or running statistics, as ``F.batch_norm``.

    ``y = (x - mean) / sqrt(var + eps) * weight + bias``, per channel (dim 1), the
    statistics taken over every other dimension (``N`` or ``N, H, W``).

    * ``training=True``: mean and the **biased** variance of this batch normalize it.
      If running buffers are given they are updated in place with
      ``running = (1 - momentum) * running + momentum * batch``, where the stored
      variance is the **unbiased** one (``n / (n - 1)`` times the biased).
    * ``training=False``: the running statistics normalize, nothing is updated.

    Example:
        >>> import torch
        >>> from refimpl.functional import batch_norm
        >>> x = torch.tensor([[1.0, 2.0], [3.0, 6.0]])
        >>> mean, var = torch.zeros(2), torch.ones(2)
        >>> batch_norm(x, mean, var, training=True, eps=1e-12)
        tensor([[-1., -1.],
                [ 1.,  1.]])
        >>> mean, var   # 0.1 of the batch mean [2, 4] and unbiased variance [2, 8]
        (tensor([0.2000, 0.4000]), tensor([1.1000, 1.7000]))
    """
    batch_norm_arguments(input, running_mean, running_var, weight, bias, training, eps)
    x = _float32_if_low_precision(input)
    if training:
        dims = [0, *range(2, x.dim())]  # every dim but the channels: N, H, W
        mean = x.mean(dim=dims)  # mu_B, one per channel
        var = (x - _per_channel(mean, x)).square().mean(dim=dims)  # sigma_B^2, biased: / n
        n = x.numel() // x.shape[1]  # values per channel
        if running_mean is not None and running_var is not None and n > 0:
            with torch.no_grad():  # running = (1 - momentum) * running + momentum * batch
                running_mean.lerp_(mean.to(running_mean.dtype), momentum)
                unbiased = var * n / (n - 1)  # the stored variance divides by n - 1
                running_var.lerp_(unbiased.to(running_var.dtype), momentum)
    else:
        assert running_mean is not None and running_var is not None  # batch_norm_arguments
        mean, var = running_mean, running_var
    x_hat = (x - _per_channel(mean, x)) / torch.sqrt(_per_channel(var, x) + eps)
    y = x_hat if weight is None else x_hat * _per_channel(weight, x)  # scale: gamma
    y = y if bias is None else y + _per_channel(bias, x)  # shift: beta
    return y.to(input.dtype)


def layer_norm(
    input: Tensor,
    normalized_shape: Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each example over its last ``len(normalized_shape)`` dims, as ``F.layer_norm``.

    Statistics are per example (biased variance), never shared across the batch,
    so train and eval behave the same and nothing is tracked. ``weight`` and
    ``bias`` have shape ``normalized_shape``: one scale and shift per *element*.

    Example:
        >>> import torch
        >>> from refimpl.functional import layer_norm
        >>> layer_norm(torch.tensor([[1.0, 3.0], [10.0, 30.0]]), [2], eps=0.0)
        tensor([[-1.,  1.],
                [-1.,  1.]])
    """
    shape = tuple(normalized_shape)
    layer_norm_arguments(input, shape, weight, bias)
    x = _float32_if_low_precision(input)
    dims = tuple(range(-len(shape), 0))  # the normalized dims, last of each example
    mean = x.mean(dim=dims, keepdim=True)  # one per example
    var = (x - mean).square().mean(dim=dims, keepdim=True)  # biased
    x_hat = (x - mean) / torch.sqrt(var + eps)
    y = x_hat if weight is None else x_hat * weight  # one scale per element
    y = y if bias is None else y + bias
    return y.to(input.dtype).contiguous()  # torch's result is contiguous in any input layout


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each example's channel groups, as ``F.group_norm``.

    Channels are split into ``num_groups`` groups of ``C / num_groups``; mean and
    biased variance are taken per (example, group) over the group's channels and
    all spatial positions. ``weight``/``bias`` are per channel. ``num_groups=1`` is
    layer norm over ``(C, H, W)``; ``num_groups=C`` is instance norm.

    Example:
        >>> import torch
        >>> from refimpl.functional import group_norm
        >>> x = torch.tensor([[1.0, 3.0, 10.0, 30.0]])   # (N=1, C=4)
        >>> group_norm(x, 2, eps=0.0)
        tensor([[-1.,  1., -1.,  1.]])
    """
    group_norm_arguments(input, num_groups, weight, bias)
    x = _float32_if_low_precision(input)
    n, group_size = x.shape[0], math.prod(x.shape[1:]) // num_groups
    grouped = x.reshape(n, num_groups, group_size)  # (N, G, C/G * H * W)
    mean = grouped.mean(dim=-1, keepdim=True)  # one per (example, group)
    var = (grouped - mean).square().mean(dim=-1, keepdim=True)  # biased
    x_hat = ((grouped - mean) / torch.sqrt(var + eps)).reshape(x.shape)
    y = x_hat if weight is None else x_hat * _per_channel(weight, x)  # one scale per channel
    y = y if bias is None else y + _per_channel(bias, x)
    return in_layout_of(y.to(input.dtype), input)
