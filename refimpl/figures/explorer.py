"""Markup of the interactive shape explorers: labelled controls, readouts, a static figure.

``docs/javascripts/explorer.js`` brings the controls to life in the browser. Without
scripts the controls stay hidden and the static figure, drawn here from
[`refimpl.shapes`][] for the default settings, is what the reader sees.
"""

from __future__ import annotations

import html

from .. import shapes
from .conv import conv_figure
from .pooling import adaptive_bins_figure
from .svg import figure

__all__ = ["explorer"]


def _number(name: str, label: str, value: int, low: int, high: int) -> str:
    ident = f"explorer-{{kind}}-{name}"
    return (
        f'<label for="{ident}">{label}</label>'
        f'<input id="{ident}" name="{name}" type="number" min="{low}" max="{high}" '
        f'value="{value}" inputmode="numeric">'
    )


def _padding_mode() -> str:
    options = (
        ("side", "per side (PyTorch padding=p)"),
        ("total", "in total (D2L's p)"),
        ("same", "'same'"),
        ("valid", "'valid'"),
    )
    choices = "".join(f'<option value="{v}">{html.escape(t)}</option>' for v, t in options)
    return (
        '<label for="explorer-{kind}-mode">Padding given</label>'
        f'<select id="explorer-{{kind}}-mode" name="mode">{choices}</select>'
    )


def _checkbox(name: str, label: str) -> str:
    ident = f"explorer-{{kind}}-{name}"
    return f'<label for="{ident}">{label}</label><input id="{ident}" name="{name}" type="checkbox">'


def _slider() -> str:
    return (
        '<label for="explorer-{kind}-step">Window shown</label>'
        '<input id="explorer-{kind}-step" name="step" type="range" min="0" max="0" value="0">'
    )


def _readouts(kind: str) -> str:
    rows = [("Output shape", "shape")]
    if kind == "adaptive":
        rows += [("Bins", "bins"), ("Rule", "formula")]
    else:
        rows += [("Formula", "formula"), ("Padding", "sides"), ("Window", "window")]
    cells = "".join(
        f'<dt>{label}</dt><dd><output data-out="{name}"></output></dd>' for label, name in rows
    )
    return (
        f'<dl class="explorer__readout" data-needs-script hidden aria-live="polite">{cells}</dl>'
        '<p class="explorer__error" data-out="error" role="status"></p>'
    )


def explorer(kind: str) -> str:
    """HTML for the ``'conv'``, ``'pool'`` (MaxPool2d) or ``'adaptive'`` explorer.

    Example:
        >>> from refimpl.figures.explorer import explorer
        >>> markup = explorer("conv")
        >>> markup.count("<label"), 'data-explorer="conv"' in markup
        (7, True)
    """
    if kind == "conv":
        n, k, p, s, d = 5, 3, 1, 1, 1
        controls = [
            _number("n", "Input size n", n, 1, 16),
            _number("k", "Kernel size k", k, 1, 7),
            _padding_mode(),
            _number("p", "Padding p", p, 0, 8),
            _number("s", "Stride s", s, 1, 4),
            _number("d", "Dilation d", d, 1, 3),
            _slider(),
        ]
        out = shapes.conv_output_size(n, k, s, p, d)
        static = figure(
            conv_figure(n, k, stride=s, padding=p, dilation=d),
            f"Conv2d, {n}x{n} input, kernel {k}, padding {p}, stride {s}: {out}x{out} outputs.",
        )
        title = "Convolution settings"
    elif kind == "pool":
        n, k, p, s, d = 5, 2, 0, 2, 1
        controls = [
            _number("n", "Input size n", n, 1, 16),
            _number("k", "Kernel size k", k, 1, 7),
            _number("p", "Padding p (per side)", p, 0, 4),
            _number("s", "Stride s", s, 1, 4),
            _number("d", "Dilation d", d, 1, 3),
            _checkbox("ceil", "ceil_mode"),
            _slider(),
        ]
        out = shapes.pool_output_size(n, k, s, p, d)
        static = figure(
            conv_figure(n, k, stride=s, padding=p, dilation=d),
            f"MaxPool2d({k}) windows over a {n}x{n} input: {out}x{out} outputs.",
        )
        title = "MaxPool2d settings"
    elif kind == "adaptive":
        n, o = 5, 3
        controls = [
            _number("n", "Input size", n, 1, 24),
            _number("out", "Output size", o, 1, 12),
        ]
        static = figure(
            adaptive_bins_figure(n, o), f"adaptive_bins({n}, {o}) = {shapes.adaptive_bins(n, o)}"
        )
        title = "Adaptive pooling sizes"
    else:
        raise ValueError(f"kind must be 'conv', 'pool' or 'adaptive', got {kind!r}")
    fields = "".join(f'<div class="explorer__field">{c}</div>' for c in controls).format(kind=kind)
    return (
        f'<div class="explorer" data-explorer="{kind}">'
        f'<form class="explorer__controls" aria-label="{title}" hidden>{fields}</form>'
        f"{_readouts(kind)}"
        f'<div class="explorer__figure" data-out="figure">{static}</div>'
        "</div>"
    )
