"""A few SVG building blocks: elements as strings, theme-aware colours, accessible wrappers.

Colours come from Material for MkDocs' CSS variables (with fallbacks), and text and
lines use ``currentColor``, so every figure follows the light and dark palettes.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from html import escape

# Material's palette variables, with fallbacks for use outside the site.
INK = "currentColor"
PRIMARY = "var(--md-primary-fg-color, #3f51b5)"
ACCENT = "var(--md-accent-fg-color, #526cfe)"
MUTED = "var(--md-default-fg-color--lighter, rgba(0, 0, 0, 0.32))"
FAINT = "var(--md-default-fg-color--lightest, rgba(0, 0, 0, 0.07))"
HIGHLIGHT = "#f0a030"  # readable on both palettes
SERIES = ["#3f7fd0", "#e0762e", "#3aa35a", "#c0457a", "#8a63d2", "#1f9e9e", "#b8860b", "#6d7f8f"]


def attributes(**attrs: object) -> str:
    """``key="value"`` pairs; ``class_`` becomes ``class``, ``data_role`` becomes ``data-role``."""
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        parts.append(f'{name}="{escape(str(value), quote=True)}"')
    return " ".join(parts)


def rect(x: float, y: float, w: float, h: float, **attrs: object) -> str:
    return f"<rect {attributes(x=f'{x:g}', y=f'{y:g}', width=f'{w:g}', height=f'{h:g}', **attrs)}/>"


def line(x1: float, y1: float, x2: float, y2: float, **attrs: object) -> str:
    coords = attributes(x1=f"{x1:g}", y1=f"{y1:g}", x2=f"{x2:g}", y2=f"{y2:g}")
    return f"<line {coords} {attributes(**attrs)}/>"


def text(
    x: float, y: float, content: str, size: float = 12, anchor: str = "middle", **attrs: object
) -> str:
    place = attributes(x=f"{x:g}", y=f"{y:g}", font_size=f"{size:g}", text_anchor=anchor)
    return f"<text {place} {attributes(fill=INK, **attrs)}>{escape(content)}</text>"


# Paint attributes that many cells of a figure repeat: written once, as a class rule.
PAINT = re.compile(r' (fill|stroke|stroke-dasharray|stroke-width)="([^"]*)"')
TAG = re.compile(r"<(rect|line|path|circle|polygon|polyline)\b([^>]*?)(/?)>")
SHARED_AT = 3  # a paint repeated by at least this many elements gets a class


def shared_paint(body: str, ident: str) -> tuple[str, str]:
    """``body`` with each paint that at least ``SHARED_AT`` elements repeat moved into a
    class rule, and the rules. A grid of cells then carries one short class per cell
    instead of the same colours spelled out hundreds of times, and draws the same: a
    class rule sets the same properties the attributes did, and nothing else in the
    figure sets them."""

    def paint_of(attributes: str) -> tuple[tuple[str, str], ...]:
        return tuple(PAINT.findall(attributes))

    counts = Counter(paint_of(m[2]) for m in TAG.finditer(body))
    shared = [paint for paint, n in counts.items() if paint and n >= SHARED_AT]
    names = {paint: f"p{i}" for i, paint in enumerate(shared)}

    def replace(match: re.Match[str]) -> str:
        tag, attributes, close = match[1], match[2], match[3]
        name = names.get(paint_of(attributes))
        if name is None:
            return match[0]
        attributes = PAINT.sub("", attributes)
        if ' class="' in attributes:
            attributes = attributes.replace(' class="', f' class="{name} ', 1)
        else:
            attributes += f' class="{name}"'
        return f"<{tag}{attributes}{close}>"

    rules = "".join(
        f"#{ident} .{names[paint]} {{ "
        + " ".join(f"{key}: {value};" for key, value in paint)
        + " }"
        for paint in shared
    )
    return TAG.sub(replace, body), rules


def figure_id(*parts: object) -> str:
    """A stable id from a figure's parameters: the same figure gets the same id every build."""
    return "fig-" + hashlib.sha1(repr(parts).encode()).hexdigest()[:10]


def svg(
    body: list[str],
    width: float,
    height: float,
    title: str,
    description: str,
    ident: str,
    style: str = "",
) -> str:
    """A complete ``<svg>`` with ``<title>``/``<desc>`` as its accessible name and description."""
    head = attributes(
        xmlns="http://www.w3.org/2000/svg",
        viewBox=f"0 0 {width:g} {height:g}",
        width=f"{width:g}",
        role="img",
        aria_labelledby=f"{ident}-title {ident}-desc",
        id=ident,
        class_="refimpl-figure",
        style="max-width: 100%; height: auto; color: var(--md-default-fg-color, #222)",
    )
    parts = [
        f"<svg {head}>",
        f'<title id="{ident}-title">{escape(title)}</title>',
        f'<desc id="{ident}-desc">{escape(description)}</desc>',
    ]
    drawn, paint_rules = shared_paint("".join(body), ident)
    if style or paint_rules:
        parts.append(f"<style>{paint_rules}{style}</style>")
    parts.append(drawn)
    parts.append("</svg>")
    return "".join(parts)


def figure(svg_markup: str, caption: str) -> str:
    """Wrap an SVG in ``<figure>`` with a caption, ready for a page that prints HTML."""
    return f"<figure>{svg_markup}<figcaption>{escape(caption)}</figcaption></figure>"
