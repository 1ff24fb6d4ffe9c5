"""Which input channels feed which output channels of a grouped convolution."""

from __future__ import annotations

import torch

from .. import functional as F
from .svg import FAINT, MUTED, SERIES, figure_id, line, rect, svg, text

ROW = 20


def connections(in_channels: int, out_channels: int, groups: int) -> torch.Tensor:
    """``(in, out)`` booleans: does input channel ``i`` reach output channel ``o``?

    Read off refimpl's own [`refimpl.functional.conv2d`][]: input ``i`` alone is set
    to one, and the outputs it changes are its connections.
    """
    weight = torch.ones(out_channels, in_channels // groups, 1, 1)
    one_hot = torch.eye(in_channels).reshape(in_channels, in_channels, 1, 1)  # sample i: channel i
    return F.conv2d(one_hot, weight, groups=groups).reshape(in_channels, out_channels) != 0


def groups_figure(in_channels: int, out_channels: int, groups: int) -> str:
    """Input channels on the left, output channels on the right, a line per connection,
    coloured by group.

    Example:
        >>> from refimpl.figures import groups_figure
        >>> groups_figure(4, 6, 2).count('data-role="connection"')   # 6 outputs x 2 inputs each
        12
    """
    links = connections(in_channels, out_channels, groups)
    ident = figure_id("groups", in_channels, out_channels, groups)
    left, right, y0 = 60, 260, 30
    height = y0 + max(in_channels, out_channels) * ROW + 10
    top_in = y0 + (max(in_channels, out_channels) - in_channels) * ROW / 2
    top_out = y0 + (max(in_channels, out_channels) - out_channels) * ROW / 2
    per_group = out_channels // groups
    body = [text(left, 18, "input channels", size=11), text(right, 18, "output channels", size=11)]
    for i in range(in_channels):
        for o in range(out_channels):
            if links[i, o]:
                body.append(
                    line(
                        left + 12,
                        top_in + i * ROW + ROW / 2,
                        right - 12,
                        top_out + o * ROW + ROW / 2,
                        stroke=SERIES[(o // per_group) % len(SERIES)],
                        stroke_width="1.5",
                        data_role="connection",
                    )
                )
    for i in range(in_channels):
        body.append(
            rect(left - 12, top_in + i * ROW + 3, 24, ROW - 6, fill=FAINT, stroke=MUTED, rx="3")
        )
        body.append(text(left, top_in + i * ROW + ROW / 2 + 4, str(i), size=10))
    for o in range(out_channels):
        colour = SERIES[(o // per_group) % len(SERIES)]
        body.append(
            rect(
                right - 12,
                top_out + o * ROW + 3,
                24,
                ROW - 6,
                fill=colour,
                fill_opacity="0.3",
                stroke=colour,
                rx="3",
            )
        )
        body.append(text(right, top_out + o * ROW + ROW / 2 + 4, str(o), size=10))
    title = f"Connections of a convolution with groups={groups}"
    description = (
        f"{in_channels} input and {out_channels} output channels in {groups} groups: each output "
        f"channel sees {in_channels // groups} input channels; {int(links.sum())} connections."
    )
    return svg(body, right + 60, height, title, description, ident)
