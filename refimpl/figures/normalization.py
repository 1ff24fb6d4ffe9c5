"""Which elements share one mean and variance, read off refimpl's normalization code."""

from __future__ import annotations

import torch

from .. import functional as F
from .svg import MUTED, SERIES, figure_id, rect, svg, text

CELL = 16
KINDS = ("batch", "layer", "instance", "group")  # the chapter's four, on its norm pages
CHANNEL_KINDS = ("layer2d",)  # ConvNeXt's LayerNorm2d: one statistic per pixel, over C


def _normalize(kind: str, x: torch.Tensor, groups: int) -> torch.Tensor:
    channels = x.shape[1]
    if kind == "batch":  # training mode: batch statistics
        return F.batch_norm(x, None, None, training=True)
    if kind == "layer":
        return F.layer_norm(x, x.shape[1:])
    if kind == "instance":
        return F.group_norm(x, channels)
    if kind == "group":
        return F.group_norm(x, groups)
    if kind == "layer2d":  # (N, C, HW) viewed channels-last, as LayerNorm2d views (N, C, H, W)
        return F.layer_norm(x.transpose(1, 2), (channels,)).transpose(1, 2)
    raise ValueError(f"kind must be one of {KINDS + CHANNEL_KINDS}, got kind={kind!r}")


def statistic_groups(
    kind: str, n: int = 3, c: int = 4, hw: int = 5, groups: int = 2
) -> torch.Tensor:
    """Label each element of an ``(n, c, hw)`` input by the statistic it is normalized with.

    ``kind`` is one of ``KINDS``, or ``"layer2d"``: ConvNeXt's
    [`LayerNorm2d`][refimpl.modules.LayerNorm2d], one statistic per example and position.

    Found by experiment on refimpl's own functions: nudge one element and see which
    outputs move. Elements that move together share a mean and variance.
    """
    torch.manual_seed(0)  # any input works; seeded so the figure never changes
    x = torch.randn(n, c, hw, dtype=torch.float64)
    base = _normalize(kind, x, groups)
    labels = torch.full((n, c, hw), -1, dtype=torch.long)
    next_label = 0
    for index in range(x.numel()):
        position = tuple(int(v) for v in torch.unravel_index(torch.tensor(index), x.shape))
        if labels[position] >= 0:
            continue
        nudged = x.clone()
        nudged[position] += 1.0
        moved = (_normalize(kind, nudged, groups) - base).abs() > 1e-9
        labels[moved] = next_label
        next_label += 1
    return labels


def norm_axes_figure(kind: str, n: int = 3, c: int = 4, hw: int = 5, groups: int = 2) -> str:
    """``n`` examples, each a ``c x hw`` block (channels by flattened positions), coloured by
    the statistic every element shares: one colour per mean/variance the layer computes.

    Example:
        >>> from refimpl.figures import norm_axes_figure
        >>> svg = norm_axes_figure("batch", n=2, c=3, hw=4)
        >>> svg.count('data-role="cell"'), svg.count('data-statistic="2"')
        (24, 8)
    """
    labels = statistic_groups(kind, n, c, hw, groups)
    count = int(labels.max()) + 1
    ident = figure_id("norm", kind, n, c, hw, groups)
    x0, y0, gap = 34, 30, 18
    body = []
    for e in range(n):
        left = x0 + e * (hw * CELL + gap)
        body.append(text(left + hw * CELL / 2, 18, f"example {e}", size=11))
        for ch in range(c):
            for p in range(hw):
                label = int(labels[e, ch, p])
                body.append(
                    rect(
                        left + p * CELL,
                        y0 + ch * CELL,
                        CELL,
                        CELL,
                        fill=SERIES[label % len(SERIES)],
                        fill_opacity=str(0.35 + 0.55 * ((label // len(SERIES)) % 2)),
                        stroke=MUTED,
                        data_role="cell",
                        data_statistic=label,
                    )
                )
    body.append(text(x0 - 6, y0 + c * CELL / 2 + 4, "C", size=11, anchor="end"))
    width = x0 + n * (hw * CELL + gap)
    height = y0 + c * CELL + 22
    body.append(text(width / 2, height - 6, "H x W (flattened)", size=11))
    names = {"batch": "Batch", "layer": "Layer", "instance": "Instance", "group": "Group"}
    name = names.get(kind, "Channel-wise layer")  # layer2d: LayerNorm2d
    title = f"{name} normalization: which elements share a statistic"
    description = (
        f"{n} examples of {c} channels by {hw} positions; {count} distinct means and "
        "variances; elements of one colour are normalized together."
    )
    return svg(body, width, height, title, description, ident)
