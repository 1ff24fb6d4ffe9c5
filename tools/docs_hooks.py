"""MkDocs hooks: render the site's LaTeX to MathML while the site is built.

``pymdownx.arithmatex`` (generic mode) finds the formulas and wraps them as
``<span class="arithmatex">\\(...\\)</span>`` (inline) or
``<div class="arithmatex">\\[...\\]</div>`` (display). This hook converts each to
MathML with ``latex2mathml``, so pages carry finished math: nothing is typeset in the
browser, no script or font is fetched, and Material's instant navigation has nothing
to re-run. A formula that does not convert fails the build, naming the page.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from latex2mathml.converter import convert

INLINE = re.compile(r'<span class="arithmatex">\\\((.*?)\\\)</span>', re.S)
DISPLAY = re.compile(r'<div class="arithmatex">\\\[(.*?)\\\]</div>', re.S)


def latex_to_mathml(latex: str, display: bool, where: str) -> str:
    """MathML for one formula; ``alttext`` keeps the source for search and assistive tech."""
    source = html.unescape(latex).strip()
    try:
        mathml = convert(source, display="block" if display else "inline")
    except Exception as error:  # latex2mathml raises many types; all mean "bad formula"
        raise ValueError(f"{where}: cannot convert formula {source!r}: {error}") from error
    alt = html.escape(source, quote=True)
    mathml = mathml.replace("<math ", f'<math alttext="{alt}" ', 1)
    if display:
        return f'<div class="math-display">{mathml}</div>'
    return f'<span class="math-inline">{mathml}</span>'


def render_math(content: str, where: str = "page") -> str:
    content = DISPLAY.sub(lambda m: latex_to_mathml(m.group(1), True, where), content)
    return INLINE.sub(lambda m: latex_to_mathml(m.group(1), False, where), content)


class _NameThePage(logging.Filter):
    """Prefix markdown-exec's warnings with the page being converted.

    markdown-exec reports a failing block with its code and error but not its page;
    blocks run while a page's Markdown is converted, between ``on_page_markdown``
    (which records the page) and ``on_page_content``.
    """

    page: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        named = getattr(record, "refimpl_page", None)
        if self.page and named is None and record.name.startswith("mkdocs.plugins.markdown_exec"):
            record.refimpl_page = self.page
            if record.levelno >= logging.WARNING:
                record.msg = f"{self.page}: {record.msg}"
        return True


_NAMER = _NameThePage()
# markdown-exec logs from its own module loggers, which propagate to mkdocs' handlers;
# a filter on those handlers sees every record, whichever module logged it.
for _handler in logging.getLogger("mkdocs").handlers:
    _handler.addFilter(_NAMER)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    _NAMER.page = page.file.src_uri
    return markdown


def exclude_code_from_search(content: str) -> str:
    """Mark every ``<pre>`` (code listings and printed outputs) ``data-search-exclude``.

    The search index then holds the prose, headings and inline code: about half its
    size, which every first visit downloads. Printed numbers and source listings (the
    package's own code, which the API pages describe) are not what a reader searches for.
    """
    return re.sub(r"<pre(?=[\s>])", "<pre data-search-exclude", content)


def on_page_content(html_content: str, page: Any, **_: Any) -> str:
    _NAMER.page = None
    return exclude_code_from_search(render_math(html_content, where=page.file.src_uri))
