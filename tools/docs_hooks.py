"""MkDocs hooks: math as MathML, a notebook per page, links to the repository.

**Math.** LaTeX is rendered to MathML while the site is built.

``pymdownx.arithmatex`` (generic mode) finds the formulas and wraps them as
``<span class="arithmatex">\\(...\\)</span>`` (inline) or
``<div class="arithmatex">\\[...\\]</div>`` (display). This hook converts each to
MathML with ``latex2mathml``, so pages carry finished math: nothing is typeset in the
browser, no script or font is fetched, and Material's instant navigation has nothing
to re-run. A formula that does not convert fails the build, naming the page.

**Notebooks.** ``tools.notebooks`` (a Markdown extension) records each page's source and
the outputs of its executed blocks as they run; here each page with executed blocks gets
its notebook written next to its ``index.html`` and a "Download notebook" / "Open in
Colab" line under its title.

**Source links.** Each API entry on the reference pages (an ``h2``/``h3`` whose id is the
object's dotted path) gets a link to its lines in the repository (``repo_url``), found
with ``inspect`` in this process: no network.
"""

from __future__ import annotations

import ast
import functools
import html
import inspect
import logging
import pydoc
import re
import sys
from pathlib import Path
from typing import Any

import nbformat
from latex2mathml.converter import convert

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `tools.notebooks` is named in mkdocs.yml's markdown_extensions
    sys.path.insert(0, str(ROOT))

from tools import notebooks  # noqa: E402

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


def torch_pin() -> str:
    """The torch pin of tools/constraints.txt, the one the site is built with."""
    for line in (ROOT / "tools" / "constraints.txt").read_text().splitlines():
        if line.startswith("torch=="):
            return line.strip()
    raise ValueError("tools/constraints.txt pins no torch")


_NOTEBOOKS: dict[str, Any] = {}  # site-relative path -> notebook, written after the build


def on_pre_build(**_: Any) -> None:
    _NOTEBOOKS.clear()


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    _NAMER.page = page.file.src_uri
    notebooks.LAST = None
    return markdown


def notebook_links(html_content: str, page: Any, config: Any) -> str:
    """Build the page's notebook from this conversion's capture and link it under the title."""
    capture = notebooks.LAST
    if capture is None or not capture.runs:
        return html_content
    src = page.file.src_uri
    book = notebooks.notebook(
        capture,
        src,
        site_url=config.site_url or "",
        repo_url=config.repo_url or "",
        torch_pin=torch_pin(),
        title=page.title or src,
    )
    name = notebooks.notebook_name(src)
    path = notebooks.page_url(src) + name
    _NOTEBOOKS[path] = book
    links = [f'<a href="{name}" download>Download notebook</a>']
    colab = notebooks.colab_url(config.repo_url or "", path)
    if colab:
        links.append(f'<a href="{html.escape(colab)}">Open in Colab</a>')
    line = f'<p class="notebook-links">{" · ".join(links)}</p>'
    head, found, rest = html_content.partition("</h1>")
    return head + found + line + rest if found else line + html_content


API_HEADING = re.compile(
    r'(<h([23]) id="(refimpl(?:\.\w+)+)" class="doc doc-heading">)(.*?)(</h\2>)', re.S
)


@functools.cache
def _definitions(path: Path) -> dict[str, tuple[int, int]]:
    """``qualname -> (first, last line)`` of every class and function in a file, parsed once.

    (``inspect.getsourcelines`` re-parses a class's whole module on every call.)
    """
    found: dict[str, tuple[int, int]] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                name = prefix + child.name
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                found[name] = (first, child.end_lineno or child.lineno)
                visit(child, name + ".")

    visit(ast.parse(path.read_text(encoding="utf-8")), "")
    return found


def source_link(dotted: str, repo_url: str) -> str | None:
    """``repo_url/blob/main/path#Lstart-Lend`` for a refimpl object, or None if not found."""
    obj = pydoc.locate(dotted)
    qualname = getattr(obj, "__qualname__", None)
    if obj is None or not isinstance(qualname, str):
        return None
    try:
        path = Path(inspect.getsourcefile(obj) or "").resolve()  # type: ignore[arg-type]
    except TypeError:
        return None
    if not path.is_relative_to(ROOT) or qualname not in _definitions(path):
        return None
    start, end = _definitions(path)[qualname]
    relative = path.relative_to(ROOT).as_posix()
    return f"{repo_url.rstrip('/')}/blob/main/{relative}#L{start}-L{end}"


def api_source_links(html_content: str, repo_url: str) -> str:
    def add(match: re.Match[str]) -> str:
        url = source_link(match[3], repo_url)
        if url is None:
            return match[0]
        title = f"Source of {match[3]}"
        link = f' <a class="api-source" href="{html.escape(url)}" title="{title}">source</a>'
        return match[1] + match[4] + link + match[5]

    return API_HEADING.sub(add, html_content)


def on_page_content(html_content: str, page: Any, config: Any, **_: Any) -> str:
    _NAMER.page = None
    html_content = notebook_links(html_content, page, config)
    if page.file.src_uri.startswith("reference/") and config.repo_url:
        html_content = api_source_links(html_content, config.repo_url)
    return render_math(html_content, where=page.file.src_uri)


def on_post_build(config: Any, **_: Any) -> None:
    site = Path(config.site_dir)
    for path, book in _NOTEBOOKS.items():
        target = site / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(nbformat.writes(book), encoding="utf-8")
