"""Normalization modules with torch's interface over `refimpl.functional.normalization`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import init
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedBuffer, UninitializedParameter

from .. import functional as F
from .._checks import batch_norm_batch_size, channels_of_nchw
from ._lazy import materialize

__all__ = [
    "BatchNorm1d",
    "BatchNorm2d",
    "GroupNorm",
    "LayerNorm",
    "LayerNorm2d",
    "LazyBatchNorm1d",
    "LazyBatchNorm2d",
]


class _BatchNorm(nn.Module):
    """Shared state and forward of [`BatchNorm1d`][refimpl.modules.BatchNorm1d] and
    [`BatchNorm2d`][refimpl.modules.BatchNorm2d].

    Parameters ``weight`` (gamma, starts at 1) and ``bias`` (beta, starts at 0);
    buffers ``running_mean`` (0), ``running_var`` (1) and ``num_batches_tracked``.
    """

    _version = 2  # as torch's, so torch reads num_batches_tracked from our state dicts
    running_mean: Tensor | None
    running_var: Tensor | None
    num_batches_tracked: Tensor | None

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        if num_features < 0:
            raise RuntimeError(
                f"num_features must be non-negative, got num_features={num_features}"
            )
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = nn.Parameter(torch.empty(num_features, **factory))
            if bias:
                self.bias = nn.Parameter(torch.empty(num_features, **factory))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **factory))
            self.register_buffer("running_var", torch.ones(num_features, **factory))
            self.register_buffer(
                "num_batches_tracked",
                torch.tensor(0, dtype=torch.long, device=device),
            )
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.running_mean is not None and self.running_var is not None:
            self.running_mean.zero_()
            self.running_var.fill_(1)
        if self.num_batches_tracked is not None:
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input: Tensor) -> None:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        if self.training:  # before touching num_batches_tracked: a bad batch changes no state
            batch_norm_batch_size(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            # momentum=None: cumulative average, the k-th batch weighs 1/k
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked)
        # batch statistics in training, or in eval when nothing was tracked
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization of ``(N, C)`` or ``(N, C, L)`` inputs, like ``torch.nn.BatchNorm1d``.

    Statistics are per feature ``C``, over the batch (and ``L``). Training normalizes
    with the batch's biased variance and stores the unbiased one in ``running_var``;
    eval normalizes with the running statistics. ``momentum`` weighs the *new* batch
    (``running = (1 - momentum) * running + momentum * batch``); ``None`` averages all
    batches seen so far.

    Example:
        >>> import torch
        >>> from refimpl import BatchNorm1d
        >>> bn = BatchNorm1d(200)
        >>> bn
        BatchNorm1d(200, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
        >>> bn(torch.randn(50, 200)).shape
        torch.Size([50, 200])
    """

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() not in (2, 3):
            raise ValueError(
                f"expected 2D or 3D input (got {input.dim()}D input of size {list(input.shape)})"
            )


class BatchNorm2d(_BatchNorm):
    """Batch normalization of ``(N, C, H, W)`` inputs, like ``torch.nn.BatchNorm2d``.

    One mean and variance per channel, over the ``N * H * W`` values of that channel.

    Example:
        >>> import torch
        >>> from refimpl import BatchNorm2d
        >>> BatchNorm2d(10)(torch.ones(10, 10, 20, 20)).shape
        torch.Size([10, 10, 20, 20])
    """

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() != 4:
            raise ValueError(
                f"expected 4D input (got {input.dim()}D input of size {list(input.shape)})"
            )


class _LazyBatchNorm(LazyModuleMixin, _BatchNorm):
    """Batch norm whose ``num_features`` is read from the first input's dim 1."""

    def __init__(
        self,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        factory = {"device": device, "dtype": dtype}
        # allocate nothing yet: features 0, no affine, no statistics; set for real below
        super().__init__(0, eps, momentum, False, False, bias=False, **factory)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter(**factory)  # type: ignore[assignment]
            if bias:
                self.bias = UninitializedParameter(**factory)  # type: ignore[assignment]
        if track_running_stats:
            self.running_mean = UninitializedBuffer(**factory)
            self.running_var = UninitializedBuffer(**factory)
            self.num_batches_tracked = torch.tensor(0, dtype=torch.long, device=factory["device"])

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor) -> None:
        """Read ``num_features`` from ``input.shape[1]`` and materialize everything."""
        if not self.has_uninitialized_params():
            return
        self._check_input_dim(input)
        self.num_features = input.shape[1]
        with torch.no_grad():
            if self.affine:
                materialize(self.weight, (self.num_features,))
                if self.bias is not None:
                    materialize(self.bias, (self.num_features,))
            if self.track_running_stats:
                materialize(self.running_mean, (self.num_features,))
                materialize(self.running_var, (self.num_features,))
            self.reset_parameters()


class LazyBatchNorm1d(_LazyBatchNorm, BatchNorm1d):
    """A [`BatchNorm1d`][refimpl.modules.BatchNorm1d] whose ``num_features`` is inferred from the
    first input.

    Example:
        >>> import torch
        >>> from refimpl import LazyBatchNorm1d
        >>> bn = LazyBatchNorm1d()
        >>> bn(torch.randn(50, 200)).shape
        torch.Size([50, 200])
        >>> bn
        BatchNorm1d(200, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyBatchNorm, BatchNorm2d):
    """A [`BatchNorm2d`][refimpl.modules.BatchNorm2d] whose ``num_features`` is inferred from the
    first input.

    Example:
        >>> import torch
        >>> from refimpl import LazyBatchNorm2d
        >>> bn = LazyBatchNorm2d()
        >>> bn(torch.ones(10, 10, 20, 20)).shape
        torch.Size([10, 10, 20, 20])
        >>> bn.running_mean.shape
        torch.Size([10])
    """

    cls_to_become = BatchNorm2d


class LayerNorm(nn.Module):
    """Layer normalization over the last dims, interchangeable with ``torch.nn.LayerNorm``.

    Each example is normalized by its own mean and (biased) variance over the last
    ``len(normalized_shape)`` dims: no batch statistics, no running buffers, the same
    in train and eval. ``weight``/``bias`` have shape ``normalized_shape``.

    Example:
        >>> import torch
        >>> from refimpl import LayerNorm
        >>> ln = LayerNorm([10, 20, 20])
        >>> ln
        LayerNorm((10, 20, 20), eps=1e-05, elementwise_affine=True, bias=True)
        >>> ln(torch.randn(4, 10, 20, 20)).shape
        torch.Size([4, 10, 20, 20])
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape = tuple(int(s) for s in shape)
        if any(s < 0 for s in self.normalized_shape):
            raise RuntimeError(
                f"normalized_shape must be non-negative, got normalized_shape={normalized_shape}"
            )
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = nn.Parameter(torch.empty(self.normalized_shape, **factory))
            if bias:
                self.bias = nn.Parameter(torch.empty(self.normalized_shape, **factory))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)


class LayerNorm2d(LayerNorm):
    """Layer normalization over the channels of each pixel of an ``(N, C, H, W)`` input.

    ConvNeXt's normalization, as torchvision's ``models.convnext.LayerNorm2d``: the input
    is viewed channels-last, ``(N, H, W, C)``, each pixel's ``C`` values are normalized
    by their own mean and biased variance, scaled and shifted by ``weight`` and ``bias``
    of shape ``(C,)``, and the result is viewed as ``(N, C, H, W)`` again. Equal to
    ``torch.nn.LayerNorm(C)`` between two permutes. Unlike ``GroupNorm(1, C)``, which
    takes one mean per example over ``(C, H, W)``, it takes one per pixel.

    Shape:
        Input and output ``(N, C, H, W)`` with ``C = normalized_shape``; the output is
        stored channels-last, as the permuted result of torch's form is.

    Example:
        >>> import torch
        >>> from refimpl import LayerNorm2d
        >>> norm = LayerNorm2d(3, eps=1e-6)
        >>> norm
        LayerNorm2d((3,), eps=1e-06, elementwise_affine=True, bias=True)
        >>> y = norm(torch.randn(2, 3, 4, 4))
        >>> y.shape, abs(y[0, :, 1, 2].mean().item()) < 1e-6  # the channels of one pixel
        (torch.Size([2, 3, 4, 4]), True)
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(normalized_shape, eps, elementwise_affine, bias, device, dtype)
        if len(self.normalized_shape) != 1:
            raise ValueError(
                "LayerNorm2d normalizes over the channels only: normalized_shape must be "
                f"one number, C, got normalized_shape={normalized_shape!r}"
            )

    def forward(self, input: Tensor) -> Tensor:
        channels_of_nchw(input, self.normalized_shape[0], "LayerNorm2d")
        x = input.permute(0, 2, 3, 1)  # (N, H, W, C): layer_norm normalizes the last dim
        y = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return y.permute(0, 3, 1, 2)  # (N, C, H, W)


class GroupNorm(nn.Module):
    """Group normalization, interchangeable with ``torch.nn.GroupNorm``.

    Statistics per (example, group of ``num_channels / num_groups`` channels);
    affine parameters per channel.

    Example:
        >>> import torch
        >>> from refimpl import GroupNorm
        >>> gn = GroupNorm(2, 6)
        >>> gn
        GroupNorm(2, 6, eps=1e-05, affine=True, bias=True)
        >>> gn(torch.randn(4, 6, 5, 5)).shape
        torch.Size([4, 6, 5, 5])
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        if num_groups <= 0:
            raise ValueError(f"num_groups must be a positive integer, got num_groups={num_groups}")
        if num_channels % num_groups != 0:
            raise ValueError(
                f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            )
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        if affine:
            self.weight = nn.Parameter(torch.empty(num_channels, **factory))
            if bias:
                self.bias = nn.Parameter(torch.empty(num_channels, **factory))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )

    def forward(self, input: Tensor) -> Tensor:
        if input.dim() >= 2 and input.shape[1] != self.num_channels:
            raise RuntimeError(
                f"Expected input with {self.num_channels} channels (dim 1), "
                f"but got input of shape {list(input.shape)}"
            )
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)
