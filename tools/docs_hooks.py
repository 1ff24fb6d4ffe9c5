"""MkDocs hooks: formulas as plain text in MkDocs' table of contents and search index, and
markdown-exec's warnings named with their page. Nothing the site needs lives here.

**Math.** The formulas are MathML by the time these hooks see a page (``tools.mathml``,
a Markdown extension). Here each formula of a heading becomes plain text in the table of
contents MkDocs keeps for the page, and MkDocs' search plugin reads each formula as plain
text rather than its MathML (and skips parsing what its index leaves out).

**Failing blocks named.** markdown-exec's warnings are prefixed with the page.

What both generators need is made by Markdown extensions (``mkdocs.yml``,
``markdown_extensions``): the formulas (``tools.mathml``), each page's notebook and its
links (``tools.notebooks``), the API entries' source links (``tools.source_links``), fresh
sessions and failing builds for raising blocks (``tools.executed_blocks``).
"""

from __future__ import annotations

import html
import logging
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the `tools.*` extensions named in mkdocs.yml
    sys.path.insert(0, str(ROOT))

from tools.mathml import mathml_text, title_text  # noqa: E402


def _retitle(items: Any, where: str) -> None:
    for item in items:
        item.title = title_text(item.title, where)
        _retitle(item.children, where)


# The search plugin indexes page.content in on_page_context, before this hook's own
# on_page_context. So on_page_content hands it a stand-in: each formula becomes its plain
# text in a numbered span, each element the index leaves out (``SEARCH_EXCLUDED``) an
# empty one, unless it holds a cross-reference (mkdocs-autorefs resolves those in
# on_env, in between), and on_page_context puts the originals back. The index is the same as from
# the whole page, and the search plugin need not parse the code, tables and drawings
# that are most of a page's markup.
PLACEHOLDER = re.compile(r'<span data-stashed="(\d+)">[^<]*</span>')
_STASHED: dict[str, list[str]] = {}
FORMULA = re.compile(r'<(span|div) class="math-(?:inline|display)"[^>]*>.*?</\1>', re.S)


def _element_end(content: str, tag: str, start: int) -> int:
    """Where the ``tag`` element opened at ``start`` ends, past its own nested ``tag``s."""
    opening = re.compile(rf"<{tag}(?=[\s>])|</{tag}>")
    depth = 0
    for match in opening.finditer(content, start):
        depth += -1 if match[0].startswith("</") else 1
        if depth == 0:
            return match.end()
    raise ValueError(f"<{tag}> at offset {start} is never closed")


def _searchable(content: str, page_uri: str) -> str:
    stashed: list[str] = []

    def stash(original: str, text: str = "") -> str:
        stashed.append(original)
        return f'<span data-stashed="{len(stashed) - 1}">{text}</span>'

    kept, position = [], 0
    for match in SEARCH_EXCLUDED.finditer(content):
        if match.start() < position or not match[1]:  # inside a stashed element; notebook links
            continue
        end = _element_end(content, match[1], match.start())
        if "<autoref " in content[match.start() : end]:  # autorefs resolves it in on_env
            continue
        kept += [content[position : match.start()], stash(content[match.start() : end])]
        position = end
    content = "".join([*kept, content[position:]])

    def formula(match: re.Match[str]) -> str:
        math = match[0][match[0].index("<math") : match[0].rindex("</math>") + 7]
        return stash(match[0], html.escape(mathml_text(math), quote=False))

    content = FORMULA.sub(formula, content)
    _STASHED[page_uri] = stashed
    return content


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


SEARCH_EXCLUDED = re.compile(r'<(pre|table|svg)(?=[\s>])|<p class="notebook-links"')


def exclude_code_from_search(content: str) -> str:
    """Mark code, tables, drawings and the notebook links ``data-search-exclude``.

    The search index then holds the prose, headings and inline code: a fraction of its
    size, which every first visit downloads. Printed numbers, tables of them, source
    listings (the package's own code, which the API pages describe) and the labels
    inside figures are not what a reader searches for.
    """
    return SEARCH_EXCLUDED.sub(lambda m: m[0] + " data-search-exclude", content)


def on_page_content(html_content: str, page: Any, config: Any, **_: Any) -> str:
    _NAMER.page = None
    where = page.file.src_uri
    _retitle(page.toc, where)
    return _searchable(exclude_code_from_search(html_content), where)


def on_page_context(context: Any, page: Any, **_: Any) -> Any:
    stashed = _STASHED.pop(page.file.src_uri, [])
    page.content = PLACEHOLDER.sub(lambda m: stashed[int(m.group(1))], page.content)
    return context
