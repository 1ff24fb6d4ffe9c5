"""Architecture stage diagrams and small line plots."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from ..models.summary import Summary
from .svg import FAINT, INK, MUTED, PRIMARY, SERIES, figure_id, line, rect, svg, text

BOX_H, GAP = 34, 14


def architecture_figure(summary: Summary, title: str) -> str:
    """One box per row of a [`Summary`][refimpl.models.Summary], top to bottom, with the
    stage's output shape and parameter count, and the input shape on top.

    Example:
        >>> from refimpl.figures import architecture_figure
        >>> from refimpl.models import layer_summary, regnetx32
        >>> table = layer_summary(regnetx32(), (1, 1, 96, 96))
        >>> architecture_figure(table, "RegNetX-32").count('data-role="stage"')
        4
    """
    ident = figure_id("arch", title, summary.input_shape, [r.output_shape for r in summary.rows])
    width, x0 = 420, 20
    y = 10
    body = [
        text(width / 2, y + 14, "input " + " x ".join(map(str, summary.input_shape[1:])), size=12)
    ]
    y += 24
    for row in summary.rows:
        body.append(line(width / 2, y, width / 2, y + GAP, stroke=MUTED, stroke_width="1.5"))
        y += GAP
        body.append(
            rect(
                x0, y, width - 2 * x0, BOX_H, fill=FAINT, stroke=PRIMARY, rx="6", data_role="stage"
            )
        )
        body.append(text(x0 + 10, y + 14, f"{row.name}: {row.kind}", size=12, anchor="start"))
        shape = " x ".join(map(str, row.output_shape[1:]))
        body.append(
            text(
                x0 + 10,
                y + 28,
                f"{shape}   ({row.params:,} parameters)",
                size=11,
                anchor="start",
                fill_opacity="0.75",
            )
        )
        y += BOX_H
    description = (
        f"{len(summary.rows)} stages from input {summary.input_shape} to output "
        f"{summary.rows[-1].output_shape}; {summary.total_params:,} parameters in all."
    )
    return svg(body, width, y + 10, title, description, ident)


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering ``[low, high]``."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    return [start + i * step for i in range(int(math.ceil((high - start) / step)) + 1)]


def line_plot(
    series: Mapping[str, Sequence[float]],
    x_label: str,
    y_label: str,
    title: str,
    x_values: Sequence[float] | None = None,
) -> str:
    """A line per series over a shared x axis, with ticks and a legend.

    Example:
        >>> from refimpl.figures import line_plot
        >>> svg = line_plot({"a": [0, 1, 4], "b": [1, 1, 1]}, "step", "value", "Two lines")
        >>> svg.count("<polyline")
        2
    """
    length = max(len(v) for v in series.values())
    xs = list(x_values) if x_values is not None else list(range(length))
    all_y = [y for values in series.values() for y in values]
    y_ticks = _ticks(min(all_y), max(all_y))
    x_ticks = _ticks(min(xs), max(xs))
    left, top, plot_w, plot_h = 58, 30, 420, 220
    x_lo, x_hi, y_lo, y_hi = x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1]

    def px(x: float) -> float:
        return left + (x - x_lo) / (x_hi - x_lo) * plot_w

    def py(y: float) -> float:
        return top + plot_h - (y - y_lo) / (y_hi - y_lo) * plot_h

    ident = figure_id("plot", title, tuple((k, tuple(v)) for k, v in series.items()), tuple(xs))
    body = [text(left + plot_w / 2, 18, title, size=13)]
    for t in y_ticks:
        body.append(line(left, py(t), left + plot_w, py(t), stroke=MUTED, stroke_width="0.5"))
        body.append(text(left - 6, py(t) + 4, f"{t:g}", size=10, anchor="end"))
    for t in x_ticks:
        body.append(text(px(t), top + plot_h + 16, f"{t:g}", size=10))
    body.append(line(left, top + plot_h, left + plot_w, top + plot_h, stroke=INK))
    body.append(line(left, top, left, top + plot_h, stroke=INK))
    body.append(text(left + plot_w / 2, top + plot_h + 34, x_label, size=11))
    body.append(
        text(
            14, top + plot_h / 2, y_label, size=11, transform=f"rotate(-90 14 {top + plot_h / 2:g})"
        )
    )
    for k, (name, values) in enumerate(series.items()):
        colour = SERIES[k % len(SERIES)]
        points = " ".join(f"{px(x):.2f},{py(y):.2f}" for x, y in zip(xs, values))
        body.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        ly = top + 8 + k * 16
        body.append(
            line(left + plot_w + 12, ly, left + plot_w + 30, ly, stroke=colour, stroke_width="2")
        )
        body.append(text(left + plot_w + 34, ly + 4, name, size=11, anchor="start"))
    legend_width = 12 + 8 * max(len(name) for name in series) + 30
    description = f"{y_label} against {x_label} for " + ", ".join(series) + "."
    return svg(body, left + plot_w + legend_width, top + plot_h + 44, title, description, ident)
