"""``Linear`` and ``LazyLinear`` with torch's interface over [`refimpl.functional.linear`][]."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import init
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedParameter

from .. import functional as F
from ._lazy import materialize

__all__ = ["LazyLinear", "Linear"]


class Linear(nn.Module):
    """Fully connected layer ``y = x W^T + b``, interchangeable with ``torch.nn.Linear``.

    Shape:
        Input ``(*, in_features)``; output ``(*, out_features)``. ``weight`` is
        ``(out_features, in_features)``.

    Example:
        >>> import torch
        >>> from refimpl import Linear
        >>> layer = Linear(20, 30)
        >>> layer
        Linear(in_features=20, out_features=30, bias=True)
        >>> layer(torch.randn(128, 20)).shape
        torch.Size([128, 30])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        if in_features < 0 or out_features < 0:
            raise RuntimeError(
                "in_features and out_features must be non-negative, got "
                f"in_features={in_features} and out_features={out_features}"
            )
        self.in_features = in_features
        self.out_features = out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features, **factory))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_features, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: both weight and bias end up ``U(-1/sqrt(in), 1/sqrt(in))``."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)


class LazyLinear(LazyModuleMixin, Linear):
    """A [`Linear`][refimpl.modules.Linear] whose ``in_features`` is inferred from the first
    input's last dim.

    Example:
        >>> import torch
        >>> from refimpl import LazyLinear
        >>> layer = LazyLinear(10)
        >>> layer
        LazyLinear(in_features=0, out_features=10, bias=True)
        >>> layer(torch.randn(4, 7)).shape
        torch.Size([4, 10])
        >>> layer
        Linear(in_features=7, out_features=10, bias=True)
    """

    cls_to_become = Linear

    def __init__(
        self, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None
    ) -> None:
        factory = {"device": device, "dtype": dtype}
        super().__init__(0, 0, False, **factory)
        self.weight = UninitializedParameter(**factory)  # type: ignore[assignment]
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(**factory)  # type: ignore[assignment]

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor) -> None:
        """Read ``in_features`` from ``input.shape[-1]`` and materialize the parameters."""
        if not self.has_uninitialized_params():
            return
        if input.dim() == 0:
            raise RuntimeError(
                f"LazyLinear needs an input with at least 1 dimension, got {input!r}"
            )
        with torch.no_grad():
            self.in_features = input.shape[-1]
            materialize(self.weight, (self.out_features, self.in_features))
            if self.bias is not None:
                materialize(self.bias, (self.out_features,))
            self.reset_parameters()
