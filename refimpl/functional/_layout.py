"""Where results live in memory: channels-last inputs give channels-last results, as in torch."""

from __future__ import annotations

import torch
from torch import Tensor


def is_channels_last(t: Tensor) -> bool:
    """Whether ``t`` is a 4-D tensor stored channels-last (and not also plain contiguous).

    Both layouts hold at once when ``C == 1`` or ``H * W == 1``; torch then keeps the
    plain one, and so does this.
    """
    return (
        t.dim() == 4
        and t.is_contiguous(memory_format=torch.channels_last)
        and not t.is_contiguous()
    )


def in_layout_of(out: Tensor, *sources: Tensor) -> Tensor:
    """``out`` stored channels-last if one of ``sources`` is: the same values, reordered in memory.

    torch's convolution, pooling and normalization kernels return a channels-last result
    for a channels-last input (or, for a convolution, weight); the formulas here build
    their results in whatever order their views give, so the layout is set at the end.
    """
    if out.dim() == 4 and any(is_channels_last(s) for s in sources):
        return out.contiguous(memory_format=torch.channels_last)
    return out
