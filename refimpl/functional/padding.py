"""Spatial padding of the last two dimensions, built from indexing and slicing."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["PADDING_MODES", "pad2d"]

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


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


def pad2d(
    input: Tensor,
    padding: tuple[int, int, int, int],
    mode: str = "zeros",
    value: float = 0.0,
) -> Tensor:
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
    if mode not in PADDING_MODES:
        raise ValueError(f"mode must be one of {PADDING_MODES}, but got mode={mode!r}")
    if len(padding) != 4:
        raise ValueError(f"padding must be (left, right, top, bottom), got padding={padding!r}")
    if min(padding) < 0:
        raise RuntimeError(f"negative padding is not supported, got padding={padding}")
    left, right, top, bottom = padding
    if not any(padding):
        return input
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
    if mode == "zeros":
        out = input.new_full(
            (*input.shape[:-2], height + top + bottom, width + left + right), value
        )
        out[..., top : top + height, left : left + width] = input
        return out
    limit = {"reflect": (height - 1, width - 1), "circular": (height, width)}.get(mode)
    if limit is not None and (max(top, bottom) > limit[0] or max(left, right) > limit[1]):
        rule = "smaller than" if mode == "reflect" else "at most"
        raise RuntimeError(
            f"{mode} padding must be {rule} the padded dimension, got padding={padding} "
            f"for an input of size {list(input.shape)}"
        )
    rows = _source_index(height, top, bottom, mode, input.device)
    cols = _source_index(width, left, right, mode, input.device)
    return input.index_select(-2, rows).index_select(-1, cols)
