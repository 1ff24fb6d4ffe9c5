"""Adaptive pooling's bins over one axis, as [`refimpl.shapes.adaptive_bins`][] computes them."""

from __future__ import annotations

from .. import shapes
from .svg import FAINT, MUTED, SERIES, figure_id, rect, svg, text

CELL = 28
ROW = 22


def adaptive_bins_figure(in_size: int, out_size: int) -> str:
    """Input cells on top, one bar per output below, spanning the input cells it pools.

    Each bar sits on its own row, so overlapping bins (``in_size`` not a multiple of
    ``out_size``) show as bars that share columns.

    Example:
        >>> from refimpl.figures import adaptive_bins_figure
        >>> adaptive_bins_figure(5, 3).count('data-role="bin"')
        3
    """
    bins = shapes.adaptive_bins(in_size, out_size)
    ident = figure_id("adaptive", in_size, out_size)
    x0, y0 = 70, 28
    body = [text(x0 + in_size * CELL / 2, 16, f"input of length {in_size}")]
    for c in range(in_size):
        body.append(
            rect(x0 + c * CELL, y0, CELL, CELL, fill=FAINT, stroke=MUTED, data_role="input")
        )
        body.append(text(x0 + c * CELL + CELL / 2, y0 + CELL / 2 + 4, str(c), size=11))
    for i, (start, end) in enumerate(bins):
        y = y0 + CELL + 10 + i * ROW
        colour = SERIES[i % len(SERIES)]
        body.append(text(x0 - 8, y + ROW / 2 + 3, f"out {i}", size=11, anchor="end"))
        body.append(
            rect(
                x0 + start * CELL + 1,
                y + 2,
                (end - start) * CELL - 2,
                ROW - 4,
                fill=colour,
                fill_opacity="0.8",
                rx="4",
                data_role="bin",
                data_start=start,
                data_end=end,
            )
        )
        body.append(
            text(x0 + (start + end) * CELL / 2, y + ROW / 2 + 4, f"[{start}, {end})", size=11)
        )
    width = x0 + in_size * CELL + 20
    height = y0 + CELL + 16 + out_size * ROW
    overlapping = any(b[0] < a[1] for a, b in zip(bins, bins[1:]))
    title = f"Adaptive pooling bins from {in_size} inputs to {out_size} outputs"
    description = (
        "Bins: "
        + ", ".join(f"[{s}, {e})" for s, e in bins)
        + ("; neighbouring bins overlap." if overlapping else "; the bins tile the input.")
    )
    return svg(body, width, height, title, description, ident)
