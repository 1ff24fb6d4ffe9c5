"""Architecture stage diagrams and small line plots."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from .. import nn
from ..models.convnext_block import ConvNeXtBlock
from ..models.dense import DenseBlock
from ..models.mobilenet import InvertedResidual
from ..models.residual import Residual, ResNeXtBlock
from ..models.summary import Summary
from .svg import FAINT, INK, MUTED, PRIMARY, SERIES, figure_id, line, rect, svg, text

BOX_H, GAP = 34, 14


def architecture_figure(summary: Summary, title: str, model: nn.Module | None = None) -> str:
    """One box per row of a [`Summary`][refimpl.models.Summary], top to bottom, with the
    stage's output shape and parameter count, and the input shape on top.

    Given the ``model`` the summary was made from, each box names what the stage holds
    ("3x3 conv 192, ReLU, 3x3 max pool" or "Inception x2, 3x3 max pool") instead of its
    class ("Sequential").

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
        kind = row.kind if model is None else stage_contents(model.get_submodule(row.name))
        body.append(text(x0 + 10, y + 14, f"{row.name}: {kind}", size=12, anchor="start"))
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


def _layer_name(module: nn.Module) -> str:
    """A stage's layer in a few words, its sizes read from the module."""
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return f"{kh}x{kw} conv {module.out_channels}"
    if isinstance(module, nn.Linear):
        return f"dense {module.out_features}"
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        k = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
        return f"{k}x{k} {'max' if isinstance(module, nn.MaxPool2d) else 'avg'} pool"
    if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        return "global avg pool" if isinstance(module, nn.AdaptiveAvgPool2d) else "global max pool"
    if isinstance(module, Residual):
        return "residual block" + (", 1x1 shortcut" if module.conv3 is not None else "")
    if isinstance(module, ResNeXtBlock):
        return f"ResNeXt block ({module.conv2.groups} groups)"
    if isinstance(module, DenseBlock):
        return f"dense block: {len(module.net)} conv blocks"
    if isinstance(module, InvertedResidual):
        return f"inverted residual (t={module.expand_ratio:g})"
    if isinstance(module, ConvNeXtBlock):
        return "ConvNeXt block"
    names = {
        nn.BatchNorm1d: "BN",
        nn.BatchNorm2d: "BN",
        nn.LayerNorm2d: "LN",
        nn.Flatten: "flatten",
    }
    for kind, name in names.items():
        if isinstance(module, kind):
            return name
    return type(module).__name__.removeprefix("Lazy")


def stage_contents(stage: nn.Module, limit: int = 52) -> str:
    """What a stage holds, in order, repeats counted: ``"Residual x2"``; cut at ``limit``."""
    children = list(stage.children()) if isinstance(stage, nn.Sequential) else [stage]
    runs: list[tuple[str, int]] = []
    for child in children:
        name = _layer_name(child)
        if runs and runs[-1][0] == name:
            runs[-1] = (name, runs[-1][1] + 1)
        else:
            runs.append((name, 1))
    label = ", ".join(f"{name} x{count}" if count > 1 else name for name, count in runs)
    return label if len(label) <= limit else label[: limit - 1].rstrip(", ") + "…"


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
