"""Argument checking for the functional forms and the modules, kept out of the math.

Every check raises the exception type PyTorch raises for the same mistake, with a
message that names the argument and shows its value. The functions that validate a
whole call (``conv2d_arguments``, ``pool2d_arguments`` and so on) return the
normalized hyper-parameters, so the ops in [`refimpl.functional`][] read as the
formulas on their pages.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from .shapes import effective_kernel_size, same_padding

IntPair = int | tuple[int, int]
OutputSize = int | None | Sequence[int | None]
Pads = tuple[int, int, int, int]  # (left, right, top, bottom), the order of pad2d
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")

# dtypes whose inputs may use float32 parameters and get float32 statistics, as in torch
LOW_PRECISION = (torch.bfloat16, torch.float16)


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def pair(value: int | Sequence[int], name: str) -> tuple[int, int]:
    """Turn ``int | (int, int)`` into ``(int, int)``, naming ``name`` in any error.

    A non-integer is a ``TypeError``; a sequence of the wrong length a
    ``RuntimeError``, the types torch raises for the same mistakes.
    """
    if is_int(value):
        return value, value  # type: ignore[return-value]
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != 2:
            raise RuntimeError(
                f"expected {name} to be a single integer value or a list of 2 values, "
                f"got {name}={value!r}"
            )
        if all(is_int(v) for v in value):
            return value[0], value[1]
    raise TypeError(f"{name} must be an int or a tuple of two ints, got {name}={value!r}")


def check_positive(
    name: str, value: tuple[int, int], error: type[Exception] = RuntimeError
) -> None:
    if min(value) <= 0:
        raise error(f"non-positive {name} is not supported, got {name}={value}")


def check_non_negative(
    name: str, value: tuple[int, int], error: type[Exception] = RuntimeError
) -> None:
    if min(value) < 0:
        raise error(f"negative {name} is not supported, got {name}={value}")


def check_same_dtype(input: Tensor, **tensors: Tensor | None) -> None:
    """Parameters and buffers must share the input's dtype, as torch's CPU kernels demand.

    Reduced-precision inputs (bfloat16, float16) may use float32 parameters.
    """
    for name, t in tensors.items():
        if t is None or t.dtype == input.dtype:
            continue
        if input.dtype in LOW_PRECISION and t.dtype == torch.float32:
            continue
        raise RuntimeError(
            f"mixed dtype: input is {input.dtype} but {name} is {t.dtype}; "
            "all inputs must share the same dtype"
        )


# --- padding ------------------------------------------------------------------------------


def pad2d_arguments(input: Tensor, padding: Pads, mode: str) -> None:
    if mode not in PADDING_MODES:
        raise ValueError(f"mode must be one of {PADDING_MODES}, but got mode={mode!r}")
    if len(padding) != 4:
        raise ValueError(f"padding must be (left, right, top, bottom), got padding={padding!r}")
    if min(padding) < 0:
        raise RuntimeError(f"negative padding is not supported, got padding={padding}")
    if not any(padding):
        return
    if input.dim() < 2:
        raise RuntimeError(
            f"pad2d needs at least 2 dimensions, got input of size {list(input.shape)}"
        )
    height, width = input.shape[-2:]
    if mode != "zeros" and (height == 0 or width == 0):
        raise RuntimeError(
            f"{mode} padding needs non-empty spatial dimensions, got input of size "
            f"{list(input.shape)}"
        )
    left, right, top, bottom = padding
    limit = {"reflect": (height - 1, width - 1), "circular": (height, width)}.get(mode)
    if limit is not None and (max(top, bottom) > limit[0] or max(left, right) > limit[1]):
        rule = "smaller than" if mode == "reflect" else "at most"
        raise RuntimeError(
            f"{mode} padding must be {rule} the padded dimension, got padding={padding} "
            f"for an input of size {list(input.shape)}"
        )


# --- convolution --------------------------------------------------------------------------


def resolve_conv_padding(
    padding: str | IntPair, kernel_size: tuple[int, int], dilation: tuple[int, int]
) -> Pads:
    """Per-side ``(left, right, top, bottom)`` padding for a ``padding`` argument.

    ``'same'`` pads ``dilation * (k - 1)`` in total, the odd one out at the
    right/bottom; ``'valid'`` pads nothing; an int or a pair pads each side.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding == "same":
            top, bottom = same_padding(kernel_size[0], dilation[0])
            left, right = same_padding(kernel_size[1], dilation[1])
            return left, right, top, bottom
        raise RuntimeError(
            f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
        )
    ph, pw = pair(padding, "padding")
    check_non_negative("padding", (ph, pw))
    return pw, pw, ph, ph


def conv2d_arguments(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None,
    stride: IntPair,
    padding: str | IntPair,
    dilation: IntPair,
    groups: int,
) -> tuple[tuple[int, int], Pads, tuple[int, int]]:
    """Validate a convolution call; return stride, per-side padding and dilation."""
    if input.dim() not in (3, 4):
        raise RuntimeError(
            "Expected 3D (unbatched) or 4D (batched) input to conv2d, "
            f"but got input of size: {list(input.shape)}"
        )
    if weight.dim() != 4:
        raise RuntimeError(
            f"Expected a 4D weight (out_channels, in_channels // groups, kH, kW), "
            f"but got weight of size: {list(weight.shape)}"
        )
    if groups <= 0:
        raise RuntimeError(f"non-positive groups is not supported, got groups={groups}")
    channels = input.shape[-3]
    if channels != weight.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(input.shape)} to have {weight.shape[1] * groups} channels, "
            f"but got {channels} channels instead"
        )
    if weight.shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at "
            f"dimension 0, but got weight of size {list(weight.shape)}"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(
            f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional "
            f"with {weight.shape[0]} elements, but got bias of size {list(bias.shape)}"
        )
    check_same_dtype(input, weight=weight, bias=bias)
    stride_hw = pair(stride, "stride")
    dilation_hw = pair(dilation, "dilation")
    check_positive("stride", stride_hw)
    check_positive("dilation", dilation_hw)
    kernel = (weight.shape[2], weight.shape[3])
    check_positive("kernel_size", kernel)
    if isinstance(padding, str) and padding == "same" and stride_hw != (1, 1):
        raise RuntimeError(
            f"padding='same' is not supported for strided convolutions, got stride={stride}"
        )
    pads = resolve_conv_padding(padding, kernel, dilation_hw)
    height = input.shape[-2] + pads[2] + pads[3]
    width = input.shape[-1] + pads[0] + pads[1]
    span_h = effective_kernel_size(kernel[0], dilation_hw[0])
    span_w = effective_kernel_size(kernel[1], dilation_hw[1])
    if span_h > height or span_w > width:
        raise RuntimeError(
            f"Calculated padded input size per channel: ({height} x {width}). "
            f"Kernel size: ({span_h} x {span_w}). Kernel size can't be greater than "
            "actual input size"
        )
    return stride_hw, pads, dilation_hw


# --- pooling ------------------------------------------------------------------------------


def pool_input(input: Tensor, name: str) -> None:
    if input.dim() not in (3, 4) or input.shape[-2] == 0 or input.shape[-1] == 0:
        # torch's avg_pool2d indexes dim -3 before checking: a 1D/2D input is an IndexError
        error = IndexError if name == "avg_pool2d" and input.dim() < 3 else RuntimeError
        raise error(
            f"{name}: expected a non-empty 3D (C, H, W) or 4D (N, C, H, W) input, "
            f"but got input of size: {list(input.shape)}"
        )


def pool_arguments(
    kernel_size: IntPair,
    stride: IntPair | None,
    padding: IntPair,
    dilation: IntPair,
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Validate pooling hyper-parameters; return ``(kernel, stride, padding, dilation)`` pairs.

    ``stride=None`` means "same as the kernel". Padding may be at most half of the
    kernel size (PyTorch 2.13 checks the undilated ``kernel_size``, also when dilated),
    so no window lies entirely in the padding.
    """
    kernel = pair(kernel_size, "kernel_size")
    check_positive("kernel_size", kernel)
    steps = kernel if stride is None else pair(stride, "stride")
    check_positive("stride", steps)
    pads = pair(padding, "padding")
    check_non_negative("padding", pads)
    dil = pair(dilation, "dilation")
    check_positive("dilation", dil)
    if any(p > k // 2 for p, k in zip(pads, kernel, strict=True)):
        raise RuntimeError(
            f"pad should be at most half of kernel size, but got padding={padding} "
            f"and kernel_size={kernel_size}"
        )
    return kernel, steps, pads, dil


def pool2d_arguments(
    input: Tensor,
    kernel_size: IntPair,
    stride: IntPair | None,
    padding: IntPair,
    dilation: IntPair,
    name: str,
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Validate a pooling call; return ``(kernel, stride, padding, dilation)`` pairs."""
    pool_input(input, name)
    kernel, steps, pads, dil = pool_arguments(kernel_size, stride, padding, dilation)
    height, width = input.shape[-2:]
    span_h, span_w = (effective_kernel_size(k, d) for k, d in zip(kernel, dil, strict=True))
    if span_h > height + 2 * pads[0] or span_w > width + 2 * pads[1]:
        raise RuntimeError(
            f"{name}: kernel_size={kernel_size} (dilation={dilation}) does not fit in the "
            f"padded input of size ({height + 2 * pads[0]} x {width + 2 * pads[1]}) of input "
            f"{list(input.shape)}: output size is too small"
        )
    return kernel, steps, pads, dil


def avg_pool2d_divisor(divisor_override: int | None) -> None:
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"divisor must be not zero, got divisor_override={divisor_override}")


def adaptive_output_size(input: Tensor, output_size: OutputSize, name: str) -> tuple[int, int]:
    """Validate an adaptive pooling call; return ``(H_out, W_out)`` (``None`` keeps a size).

    ``adaptive_avg_pool2d`` to ``(1, 1)`` takes any input of rank >= 2, as in torch;
    every other call needs a non-empty 3D or 4D input.
    """
    if name == "adaptive_avg_pool2d" and input.dim() < 2:
        raise IndexError(
            f"adaptive_avg_pool2d pools the last two dimensions, got input of size "
            f"{list(input.shape)}"
        )
    if output_size is None or is_int(output_size):
        sizes: Sequence[int | None] = (output_size, output_size)  # type: ignore[assignment]
    elif isinstance(output_size, Sequence) and not isinstance(output_size, str):
        sizes = tuple(output_size)
        if input.dim() <= len(sizes):
            raise ValueError(
                f"{name}: input dimension should be at least {len(sizes) + 1} for "
                f"output_size={output_size!r}, got input of size {list(input.shape)}"
            )
        if len(sizes) != 2:
            raise RuntimeError(
                f"{name}: output_size must be 2-dimensional, got output_size={output_size!r}"
            )
    else:
        sizes = ()
    if len(sizes) != 2 or not all(s is None or is_int(s) for s in sizes):
        raise TypeError(
            f"{name}: output_size must be an int, None or a pair of them, "
            f"got output_size={output_size!r}"
        )
    resolved = tuple(
        int(dim) if size is None else size
        for size, dim in zip(sizes, input.shape[-2:], strict=True)
    )
    if min(resolved) < 0:
        raise RuntimeError(
            f"{name}: elements of output_size must be greater than or equal to 0, "
            f"got output_size={output_size!r}"
        )
    if not (name == "adaptive_avg_pool2d" and resolved == (1, 1)):
        pool_input(input, name)
    return resolved[0], resolved[1]


# --- normalization ------------------------------------------------------------------------


def batch_norm_batch_size(input: Tensor) -> None:
    """Training needs more than one value per channel (``N * H * W > 1``), as in torch."""
    if math.prod((input.shape[0], *input.shape[2:])) == 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {input.size()}"
        )


def batch_norm_arguments(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None,
    bias: Tensor | None,
    training: bool,
    eps: float,
) -> None:
    """Validate a batch-norm call, in torch's order: batch size and ``eps``, then shapes."""
    if input.dim() < 2:
        raise RuntimeError(
            "batch_norm expects an input of shape (N, C, ...), "
            f"got input of size {list(input.shape)}"
        )
    channels = input.shape[1]
    if training:
        batch_norm_batch_size(input)
    # eps = 0 divides by zero where a channel is constant: torch refuses it when batch
    # statistics normalize, and refuses only a negative eps for the running statistics
    if training and eps <= 0:
        raise ValueError(f"batch_norm eps must be positive during training, got eps={eps}")
    if eps < 0:
        raise ValueError(f"batch_norm eps must be non-negative, got eps={eps}")
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError(
            "running_mean and running_var must be defined in evaluation mode (training=False), "
            f"got running_mean={None if running_mean is None else 'tensor'}, "
            f"running_var={None if running_var is None else 'tensor'}"
        )
    check_same_dtype(
        input, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias
    )
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


def layer_norm_arguments(
    input: Tensor, shape: tuple[int, ...], weight: Tensor | None, bias: Tensor | None
) -> None:
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


def group_norm_arguments(
    input: Tensor, num_groups: int, weight: Tensor | None, bias: Tensor | None
) -> None:
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
    if input.numel() == num_groups:  # one value per group: N * C/G * H * W == 1 per group
        # torch refuses this one case (a single value per group and nothing to batch with)
        raise ValueError(
            "Expected more than 1 value per channel when training, got input size "
            f"{list(input.shape)} with num_groups={num_groups}"
        )


# --- the rest -----------------------------------------------------------------------------


def linear_arguments(input: Tensor, weight: Tensor) -> None:
    if input.dim() == 0 or input.shape[-1] != weight.shape[-1]:
        raise RuntimeError(
            f"input's last dimension must equal in_features={weight.shape[-1]}, but got "
            f"input of size {list(input.shape)} for weight of size {list(weight.shape)}"
        )


def dropout_probability(p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got p={p}")


def floating_input(input: Tensor, name: str) -> None:
    """An op with only floating-point kernels in torch (hardswish, gelu)."""
    if not input.is_floating_point():
        raise NotImplementedError(
            f"{name} is not implemented for integer or complex input, got input of dtype "
            f"{input.dtype}"
        )


def gelu_approximate(approximate: str) -> None:
    """``'none'`` (the erf form) or ``'tanh'``; torch checks it when the layer runs."""
    if not isinstance(approximate, str):
        raise TypeError(f"gelu(): approximate must be a str, got approximate={approximate!r}")
    if approximate not in ("none", "tanh"):
        raise RuntimeError(
            f"approximate argument must be either 'none' or 'tanh', got approximate={approximate!r}"
        )


def stochastic_depth_arguments(p: float, mode: str) -> None:
    """torchvision's checks, in its order: the probability, then the mode."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got p={p}")
    if mode not in ("batch", "row"):
        raise ValueError(f"mode has to be either 'batch' or 'row', but got mode={mode!r}")


def channels_of_nchw(input: Tensor, channels: int, name: str) -> None:
    """A layer over the channel axis of ``(N, C, H, W)`` inputs with ``C == channels``."""
    if input.dim() != 4 or input.shape[1] != channels:
        raise RuntimeError(
            f"{name} expects an input of shape (N, {channels}, H, W), "
            f"but got input of size {list(input.shape)}"
        )
