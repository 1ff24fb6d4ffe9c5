"""Fast batch normalization: single-buffer statistics and the closed-form backward.

The same operation as [`refimpl.functional.batch_norm`][], and the same arguments,
results, running statistics and gradients. Tested equal to the reference and to
``torch.nn.functional.batch_norm`` (``tests/test_fast_kernels.py``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .._checks import LOW_PRECISION, batch_norm_arguments

__all__ = ["batch_norm"]


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
    """[`refimpl.functional.batch_norm`][], fast: the same arguments, results and updates.

    In training the batch statistics are taken in one buffer the size of the input,
    and the backward is the closed form (`_BatchNormOfBatch`) instead of
    autograd's dozen passes through mean, variance and the products.

    Example:
        >>> import torch
        >>> from refimpl import fast
        >>> x = torch.tensor([[1.0, 2.0], [3.0, 6.0]])
        >>> fast.batch_norm(x, torch.zeros(2), torch.ones(2), training=True, eps=1e-12)
        tensor([[-1., -1.],
                [ 1.,  1.]])
    """
    batch_norm_arguments(input, running_mean, running_var, weight, bias, training, eps)
    channels = input.shape[1]
    count = input.numel() // max(channels, 1)  # values per channel: N (* H * W)
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
