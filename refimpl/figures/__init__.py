"""Figures drawn from refimpl itself, as inline SVG strings for the site, and source listings.

Every figure takes the same parameters as the code it illustrates and computes its
geometry with [`refimpl.shapes`][refimpl.shapes] or by running
[`refimpl.functional`][refimpl.functional], so a
figure cannot disagree with the numbers printed beside it. Colours follow the
site's light and dark palettes; each SVG carries a ``<title>`` and ``<desc>``.
"""

from .blocks import (
    convnext_block_figure,
    dense_block_figure,
    inception_figure,
    inverted_residual_figure,
    residual_figure,
    resnext_figure,
)
from .conv import conv_figure
from .diagrams import architecture_figure, line_plot
from .groups import connections, groups_figure
from .normalization import KINDS, norm_axes_figure, statistic_groups
from .pooling import adaptive_bins_figure
from .source import source_lines, source_listing
from .svg import figure

__all__ = [
    "KINDS",
    "adaptive_bins_figure",
    "architecture_figure",
    "connections",
    "convnext_block_figure",
    "dense_block_figure",
    "conv_figure",
    "figure",
    "groups_figure",
    "inception_figure",
    "inverted_residual_figure",
    "line_plot",
    "norm_axes_figure",
    "residual_figure",
    "resnext_figure",
    "source_lines",
    "source_listing",
    "statistic_groups",
]
