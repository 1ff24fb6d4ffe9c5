"""Batch, layer and group normalization from mean/variance reductions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from .._utils import LOW_PRECISION, check_same_dtype

__all__ = ["batch_norm", "group_norm", "layer_norm"]


def _channel_view(t: Tensor, dims: int) -> Tensor:
    """A per-channel vector shaped ``(1, C, 1, ...)`` to broadcast over ``dims`` dims."""
    return t.reshape(1, -1, *([1] * (dims - 2)))


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

    * ``training=True`` (or no running statistics): mean and the **biased** variance
      of this batch normalize it. If running buffers are given they are updated in
      place with ``running = (1 - momentum) * running + momentum * batch``, where the
      stored variance is the **unbiased** one (``n / (n - 1)`` times the biased).
    * ``training=False``: the running statistics normalize, nothing is updated.

    Example:
        >>> import torch
        >>> from refimpl.functional import batch_norm
        >>> x = torch.tensor([[1.0, 2.0], [3.0, 6.0]])
        >>> mean, var = torch.zeros(2), torch.ones(2)
        >>> batch_norm(x, mean, var, training=True, eps=0.0)
        tensor([[-1., -1.],
                [ 1.,  1.]])
        >>> mean, var   # 0.1 of the batch mean [2, 4] and unbiased variance [2, 8]
        (tensor([0.2000, 0.4000]), tensor([1.1000, 1.7000]))
    """
    if input.dim() < 2:
        raise RuntimeError(
            "batch_norm expects an input of shape (N, C, ...), "
            f"got input of size {list(input.shape)}"
        )
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError(
            "running_mean and running_var must be defined in evaluation mode (training=False), "
            f"got running_mean={None if running_mean is None else 'tensor'}, "
            f"running_var={None if running_var is None else 'tensor'}"
        )
    check_same_dtype(
        input, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias
    )
    channels = input.shape[1]
    for name, buffer in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if buffer is not None and buffer.numel() != channels:
            raise RuntimeError(
                f"{name} should contain {channels} elements (one per channel of input "
                f"{list(input.shape)}) not {buffer.numel()}"
            )
    count = input.numel() // max(channels, 1)  # values per channel: N (* H * W)
    if training and count == 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {input.size()}"
        )
    recording = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (input, weight, bias)
    )
    if input.numel() == 0:  # an empty batch: nothing to measure, nothing to learn from
        mean, var = input.new_zeros(channels), input.new_ones(channels)
        y = _scale_shift(input - _channel_view(mean, input.dim()), var, weight, bias, eps)
    elif training or running_mean is None or running_var is None:
        if recording:
            y, mean, var = _BatchNormOfBatch.apply(input, weight, bias, eps)
        else:
            mean, centered, var = _batch_statistics(input)
            y = _scale_shift(centered, var, weight, bias, eps, in_place=True)
        if training and running_mean is not None and running_var is not None:
            with torch.no_grad():
                running_mean.lerp_(mean.to(running_mean.dtype), momentum)
                unbiased = var * (count / (count - 1))
                running_var.lerp_(unbiased.to(running_var.dtype), momentum)
    else:
        centered = input - _channel_view(running_mean, input.dim())
        y = _scale_shift(centered, running_var, weight, bias, eps, in_place=not recording)
    return y.to(input.dtype)  # float32 parameters keep a bfloat16/float16 input's dtype


def _batch_statistics(input: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Per channel: the mean, the input minus it, and the biased variance.

    Two passes: the mean, then the mean squared deviation from it. Not
    ``E[x^2] - E[x]^2``, which cancels catastrophically when ``|mean| >> std``.
    A bfloat16 or float16 input gets float32 statistics (and a float32 ``centered``),
    as torch computes them.
    """
    dims = [0, *range(2, input.dim())]
    mean = input.mean(dim=dims, dtype=torch.float32 if input.dtype in LOW_PRECISION else None)
    centered = input - _channel_view(mean, input.dim())
    return mean, centered, _mean_square(centered, input.numel() // input.shape[1])


def _scale_shift(
    centered: Tensor,
    var: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    eps: float,
    in_place: bool = False,
) -> Tensor:
    """``centered / sqrt(var + eps) * weight + bias``, per channel.

    ``in_place`` writes the result over ``centered``, for when nothing else reads it: a
    second buffer the size of the input is a fresh allocation that the OS page-faults
    in on every call, which measured slower than the arithmetic itself.
    """
    scale = torch.rsqrt(var + eps)
    if weight is not None:
        scale = scale * weight
    scale = _channel_view(scale, centered.dim())
    y = centered.mul_(scale) if in_place else centered * scale
    if bias is not None:
        shift = _channel_view(bias, centered.dim())
        y = y.add_(shift) if in_place else y + shift
    return y


class _BatchNormOfBatch(torch.autograd.Function):
    """Batch norm with the batch's own statistics, and the closed-form backward.

    Autograd's backward through mean, subtraction, norm, ``rsqrt`` and the products
    takes a dozen passes over the input. Per channel, with ``x_hat = (x - mean) * r``
    (``r = 1/sqrt(var + eps)``), ``g`` the output gradient and ``n`` values per channel:

    * ``dbias = sum(g)``, ``dweight = sum(g * x_hat)``;
    * ``dx = weight * r * (g - sum(g) / n - x_hat * sum(g * x_hat) / n)``: the mean and
      the variance depend on every input, hence the two correction terms.

    Returns ``(y, mean, var)``; the statistics are for the running buffers and carry no
    gradient. For a double backward the composed formula is differentiated instead.
    """

    @staticmethod
    def forward(
        ctx: Any, input: Tensor, weight: Tensor | None, bias: Tensor | None, eps: float
    ) -> tuple[Tensor, Tensor, Tensor]:
        mean, centered, var = _batch_statistics(input)
        y = _scale_shift(centered, var, weight, bias, eps, in_place=True)
        ctx.eps = eps
        ctx.save_for_backward(input, weight, bias, mean, torch.rsqrt(var + eps))
        ctx.mark_non_differentiable(mean, var)
        return y, mean, var

    @staticmethod
    def backward(
        ctx: Any, grad: Tensor, _mean: Tensor | None, _var: Tensor | None
    ) -> tuple[Tensor | None, Tensor | None, Tensor | None, None]:
        input, weight, bias, mean, invstd = ctx.saved_tensors
        need_input, need_weight, need_bias = ctx.needs_input_grad[:3]
        if torch.is_grad_enabled():  # create_graph=True: a graph of the backward is wanted
            return _batch_norm_double_backward(ctx, grad)
        dims = [0, *range(2, input.dim())]
        count = input.numel() // input.shape[1]
        dtype = input.dtype
        if dtype in LOW_PRECISION:  # sum in float32, as torch does
            input, grad, mean, invstd = (t.float() for t in (input, grad, mean, invstd))
        centered = input - _channel_view(mean, input.dim())
        grad_sum = grad.sum(dim=dims)
        # sum(g * x_hat) / r, per channel: a dot product per (example, channel) first,
        # measured 2.5x faster than summing the elementwise product over three dims
        per_example = (input.shape[0], input.shape[1], -1)  # (N, C, everything else)
        dot = torch.linalg.vecdot(grad.reshape(per_example), centered.reshape(per_example))
        dot = dot.sum(dim=0)
        grad_input = grad_weight = grad_bias = None
        if need_weight:
            grad_weight = (dot * invstd).to(weight.dtype)
        if need_bias:
            grad_bias = grad_sum.to(bias.dtype)
        if need_input:
            gain = invstd if weight is None else invstd * weight  # dy/dx, statistics held
            # dx = gain * g - gain * sum(g) / n - (x - mean) * gain * r^2 * dot / n
            grad_input = centered.mul_(
                _channel_view(-gain * invstd.square() * dot / count, input.dim())
            )
            grad_input = grad_input.add_(_channel_view(-gain * grad_sum / count, input.dim()))
            grad_input = grad_input.addcmul_(grad, _channel_view(gain, input.dim()))
            grad_input = grad_input.to(dtype)
        return grad_input, grad_weight, grad_bias, None


def _batch_norm_double_backward(
    ctx: Any, grad: Tensor
) -> tuple[Tensor | None, Tensor | None, Tensor | None, None]:
    """The gradients as a differentiable graph: the composed formula, differentiated."""
    input, weight, bias = ctx.saved_tensors[:3]
    with torch.enable_grad():
        _, centered, var = _batch_statistics(input)
        y = _scale_shift(centered, var, weight, bias, ctx.eps)
    wanted = [t for t, need in zip((input, weight, bias), ctx.needs_input_grad[:3]) if need]
    found = iter(torch.autograd.grad(y, wanted, grad, create_graph=True))
    grads = [next(found) if need else None for need in ctx.needs_input_grad[:3]]
    return grads[0], grads[1], grads[2], None


def _mean_square(centered: Tensor, count: int) -> Tensor:
    """Per channel, the mean of ``centered ** 2`` over every dim but 1.

    Taken as squared vector norms over the spatial dims, then summed over the batch:
    a reduction with no temporary the size of the input (``centered.square()`` would be
    one).
    """
    spatial = tuple(range(2, centered.dim()))
    if spatial:
        squares = torch.linalg.vector_norm(centered, dim=spatial).square()  # (N, C)
    else:
        squares = centered.square()  # (N, C): nothing spatial to reduce
    return squares.sum(dim=0) / count


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
    if len(shape) == 0 or input.dim() < len(shape) or tuple(input.shape[-len(shape) :]) != shape:
        raise RuntimeError(
            f"Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size {list(input.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(
                f"Expected {name} of shape {list(shape)}, got {name} of shape {list(t.shape)}"
            )
    check_same_dtype(input, weight=weight, bias=bias)
    dims = tuple(range(-len(shape), 0))
    var, mean = torch.var_mean(input, dim=dims, correction=0, keepdim=True)
    y = (input - mean) * torch.rsqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y.to(input.dtype)  # float32 parameters keep a bfloat16/float16 input's dtype


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
    if input.dim() < 2:
        raise RuntimeError(
            f"Expected at least 2 dimensions for input tensor but received {input.dim()}"
        )
    n, channels = input.shape[:2]
    if num_groups <= 0 or channels % num_groups:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got "
            f"input of shape {list(input.shape)} and num_groups={num_groups}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != channels:
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in "
                f"input, but got {name} of shape {list(t.shape)} and input of shape "
                f"{list(input.shape)}"
            )
    check_same_dtype(input, weight=weight, bias=bias)
    spatial = math.prod(input.shape[2:])
    if n * (channels // num_groups) * spatial == 1:
        # torch refuses this one case (a single value per group and nothing to batch with)
        raise ValueError(
            "Expected more than 1 value per channel when training, got input size "
            f"{list(input.shape)} with num_groups={num_groups}"
        )
    grouped = input.reshape(n, num_groups, channels // num_groups * spatial)  # (N, G, C/G * HW)
    var, mean = torch.var_mean(grouped, dim=-1, correction=0, keepdim=True)
    y = ((grouped - mean) * torch.rsqrt(var + eps)).reshape(input.shape)
    if weight is not None:
        y = y * _channel_view(weight, input.dim())
    if bias is not None:
        y = y + _channel_view(bias, input.dim())
    return y.to(input.dtype)  # float32 parameters keep a bfloat16/float16 input's dtype
