"""A few SVG building blocks: elements as strings, theme-aware colours, accessible wrappers.

Colours come from Material for MkDocs' CSS variables (with fallbacks), and text and
lines use ``currentColor``, so every figure follows the light and dark palettes.
"""

from __future__ import annotations

import hashlib
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
    if style:
        parts.append(f"<style>{style}</style>")
    parts += body
    parts.append("</svg>")
    return "".join(parts)


def figure(svg_markup: str, caption: str) -> str:
    """Wrap an SVG in ``<figure>`` with a caption, ready for a page that prints HTML."""
    return f"<figure>{svg_markup}<figcaption>{escape(caption)}</figcaption></figure>"
