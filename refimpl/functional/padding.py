"""Spatial padding of the last two dimensions, built from indexing and slicing."""

from __future__ import annotations

import torch
from torch import Tensor

from .._checks import PADDING_MODES, Pads, pad2d_arguments

__all__ = ["PADDING_MODES", "pad2d"]


def pad2d(input: Tensor, padding: Pads, mode: str = "zeros", value: float = 0.0) -> Tensor:
    """Pad the last two dimensions by ``(left, right, top, bottom)``.

    ``mode`` is one of ``'zeros'`` (fill with ``value``), ``'reflect'`` (mirror
    without repeating the edge), ``'replicate'`` (repeat the edge) or ``'circular'``
    (wrap around), the four ``padding_mode`` values of ``Conv2d``.

    Example:
        >>> import torch
        >>> from refimpl.functional import pad2d
        >>> row = torch.tensor([[[1.0, 2.0, 3.0]]])
        >>> pad2d(row, (2, 2, 0, 0), mode="reflect")
        tensor([[[3., 2., 1., 2., 3., 2., 1.]]])
        >>> pad2d(row, (2, 2, 0, 0), mode="circular")
        tensor([[[2., 3., 1., 2., 3., 1., 2.]]])
    """
    pad2d_arguments(input, padding, mode)
    if not any(padding):
        return input
    left, right, top, bottom = padding
    height, width = input.shape[-2:]
    if mode == "zeros":  # a canvas of `value`, the input written into its middle
        out = input.new_full(
            (*input.shape[:-2], top + height + bottom, left + width + right), value
        )
        out[..., top : top + height, left : left + width] = input
        return out
    # every other mode copies input pixels: one source row per padded row, likewise columns
    rows = _source_index(height, top, bottom, mode, input.device)
    cols = _source_index(width, left, right, mode, input.device)
    return input.index_select(-2, rows).index_select(-1, cols)


def _source_index(size: int, before: int, after: int, mode: str, device: torch.device) -> Tensor:
    """For each position of the padded axis, the input position whose value it copies."""
    position = torch.arange(-before, size + after, device=device)
    if mode == "replicate":
        return position.clamp(0, size - 1)
    if mode == "circular":
        return position.remainder(size)
    # reflect: mirror about the first and last element without repeating them
    last = size - 1
    return last - (last - position.abs()).abs()
