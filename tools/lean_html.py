"""Leaner page HTML: fewer elements to parse and style, and less restyling at load.

A Python-Markdown extension (``tools.lean_html`` under ``markdown_extensions``), so MkDocs
and Zensical builds both have it. Two rewrites of a page's finished HTML, once per page
(``tools.executed_blocks.after_page``: not again for each block's output or docstring
converted inside it), neither of which changes what the reader sees or what search finds:

- **Plain tokens as text.** Pygments wraps every token of a listing in a ``<span>`` with
  the token's class. Names (``n``) and whitespace (``w``) are a third of a listing's spans,
  and they are drawn exactly as plain code text: the theme colours ``.n`` with
  ``--md-code-hl-name-color``, which it defines as the code colour itself
  (``var(--md-code-fg-color)``), and has no rule for ``.w``. Their text is kept and the
  ``<span>`` around it dropped (on the convolution arithmetic page, about 1,200 of 8,400
  elements).
- **Each table in its own box.** Once a page has loaded, Material moves every table
  without a class into a scrolling wrapper. Its stylesheet has a rule for whatever follows
  such a table, so moving one makes the browser restyle everything in the table's
  parent: for a table straight in the article, the whole article, once per table. In a
  ``<div class="table-box">`` of its own (no style of its own) only the table is restyled.

``tests/test_docs.py`` checks the theme's colour and that built pages keep neither span
nor an unboxed table.
"""

from __future__ import annotations

import re
from typing import Any

from markdown import Extension, Markdown

PLAIN_TOKEN = re.compile(r'<span class="(?:n|w)">([^<]*)</span>')
BOX = '<div class="table-box">'
# a table not boxed yet: boxing a page twice changes nothing
BARE_TABLE = re.compile(rf"(?<!{BOX})<table>.*?</table>", re.S)


def drop_plain_spans(html: str) -> str:
    """``html`` with the spans of name and whitespace tokens replaced by their text."""
    return PLAIN_TOKEN.sub(r"\1", html)


def box_tables(html: str) -> str:
    """Every ``<table>`` without attributes wrapped in a ``<div class="table-box">``."""
    return BARE_TABLE.sub(lambda m: f"{BOX}{m[0]}</div>", html)


def lean(html: str, context: Any = None) -> str:
    """Both rewrites; a step for :func:`tools.executed_blocks.after_page`."""
    return box_tables(drop_plain_spans(html))


class LeanHtml(Extension):
    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        from tools.executed_blocks import after_page

        after_page(md, lean)


def makeExtension(**kwargs: Any) -> LeanHtml:  # noqa: N802 (Python-Markdown's name)
    return LeanHtml(**kwargs)
