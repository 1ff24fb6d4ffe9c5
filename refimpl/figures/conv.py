"""Convolution arithmetic drawn cell by cell: padded input, kernel taps, output grid."""

from __future__ import annotations

from collections.abc import Sequence

from .. import shapes
from .._checks import pair
from .svg import ACCENT, FAINT, HIGHLIGHT, MUTED, PRIMARY, figure_id, rect, svg, text

CELL = 22
GAP = 44


def _per_side(
    padding: int | Sequence[int] | str, kernel: tuple[int, int], dilation: tuple[int, int]
) -> tuple[tuple[int, int], tuple[int, int]]:
    """``((top, bottom), (left, right))`` for an int, a pair, ``'same'`` or ``'valid'``."""
    if padding == "same":
        return shapes.same_padding(kernel[0], dilation[0]), shapes.same_padding(
            kernel[1], dilation[1]
        )
    if padding == "valid":
        return (0, 0), (0, 0)
    ph, pw = pair(padding, "padding")  # type: ignore[arg-type]
    return (ph, ph), (pw, pw)


def _input_label(h: int, w: int, rows: int, cols: int) -> str:
    """The input's size, and the padded size only where padding adds something."""
    if (rows, cols) == (h, w):
        return f"input {h}x{w}, no padding"
    return f"input {h}x{w}, padded to {rows}x{cols}"


def conv_figure(
    input_size: int | Sequence[int],
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] | str = 0,
    dilation: int | Sequence[int] = 1,
    seconds_per_step: float = 0.9,
) -> str:
    """An animated SVG of a 2-D convolution's windows, one output position per step.

    The padded input is drawn with real cells filled and padding cells dashed; at each
    step the kernel's taps are highlighted on the input and the output cell they
    produce on the output grid. Sizes come from [`refimpl.shapes`][], so the drawing
    always has as many output cells as the layer has outputs. With reduced motion
    enabled the first step is shown still.

    Example:
        >>> from refimpl.figures import conv_figure
        >>> svg = conv_figure(5, 3, stride=2, padding=1)
        >>> svg.count('data-role="output"')   # a 3x3 output
        9
    """
    (h, w), kernel = pair(input_size, "input_size"), pair(kernel_size, "kernel_size")
    steps, dil = pair(stride, "stride"), pair(dilation, "dilation")
    (top, bottom), (left, right) = _per_side(padding, kernel, dil)
    out_h = shapes.conv_output_size(h, kernel[0], steps[0], (top, bottom), dil[0])
    out_w = shapes.conv_output_size(w, kernel[1], steps[1], (left, right), dil[1])
    rows, cols = h + top + bottom, w + left + right
    ident = figure_id("conv", h, w, kernel, steps, padding, dil)
    in_x, in_y = 10, 30
    out_x, out_y = in_x + cols * CELL + GAP, in_y + (rows - out_h) * CELL / 2
    width, height = out_x + out_w * CELL + 10, in_y + rows * CELL + 10
    body = [
        text(in_x + cols * CELL / 2, 18, _input_label(h, w, rows, cols)),
        text(out_x + out_w * CELL / 2, 18, f"output {out_h}x{out_w}"),
    ]
    for r in range(rows):
        for c in range(cols):
            inside = top <= r < top + h and left <= c < left + w
            look = (
                {"fill": FAINT, "stroke": MUTED}
                if inside
                else {"fill": "none", "stroke": MUTED, "stroke_dasharray": "3 2"}
            )
            body.append(
                rect(
                    in_x + c * CELL,
                    in_y + r * CELL,
                    CELL,
                    CELL,
                    data_role="input" if inside else "padding",
                    **look,
                )
            )
    for r in range(out_h):
        for c in range(out_w):
            body.append(
                rect(
                    out_x + c * CELL,
                    out_y + r * CELL,
                    CELL,
                    CELL,
                    fill=FAINT,
                    stroke=PRIMARY,
                    data_role="output",
                )
            )
    frames = out_h * out_w
    for index in range(frames):
        i, j = divmod(index, out_w)
        taps = [
            rect(
                in_x + (j * steps[1] + b * dil[1]) * CELL + 2,
                in_y + (i * steps[0] + a * dil[0]) * CELL + 2,
                CELL - 4,
                CELL - 4,
                fill=HIGHLIGHT,
                fill_opacity="0.75",
                data_role="tap",
            )
            for a in range(kernel[0])
            for b in range(kernel[1])
        ]
        current = rect(
            out_x + j * CELL + 2,
            out_y + i * CELL + 2,
            CELL - 4,
            CELL - 4,
            fill=ACCENT,
            data_role="current",
        )
        delay = f"{index * seconds_per_step:g}s"
        body.append(
            f'<g class="frame" style="animation-delay: {delay}">{"".join(taps)}{current}</g>'
        )
    period = frames * seconds_per_step
    visible = 100 / frames
    style = (
        f"#{ident} .frame {{ opacity: 0; animation: {ident}-step {period:g}s step-end infinite; }}"
        f"@keyframes {ident}-step {{ 0% {{ opacity: 1; }} {visible:.4f}% {{ opacity: 0; }} }}"
        f"@media (prefers-reduced-motion: reduce) {{ #{ident} .frame {{ animation: none; }}"
        f" #{ident} .frame:first-of-type {{ opacity: 1; }} }}"
    )
    pad_text = (
        f"padding {padding!r}"
        if isinstance(padding, str)
        else f"padding {top},{bottom} x {left},{right}"
    )
    title = f"Convolution of a {h}x{w} input with a {kernel[0]}x{kernel[1]} kernel"
    description = (
        f"{pad_text}, stride {steps[0]}x{steps[1]}, dilation {dil[0]}x{dil[1]}: the kernel "
        f"visits {frames} positions, giving a {out_h}x{out_w} output."
    )
    return svg(body, width, height, title, description, ident, style)
