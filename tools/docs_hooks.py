"""MkDocs hooks: formulas as text for search and contents, notebooks, repository links.

**Math.** The formulas are MathML by the time these hooks see a page (``tools.mathml``,
a Markdown extension). Here each formula of a heading becomes plain text in the table of
contents, and the search index reads each formula as plain text rather than its MathML.

**Notebooks.** ``tools.notebooks`` (a Markdown extension) records each page's source and
the outputs of its executed blocks as they run; here each page with executed blocks gets
its notebook written next to its ``index.html`` and a "Download notebook" / "Open in
Colab" line under its title.

**Source links.** Each API entry on the reference pages (an ``h2``/``h3`` whose id is the
object's dotted path) gets a link to its lines in the repository (``repo_url``), found
with ``inspect`` in this process: no network.

**Failing blocks named.** markdown-exec's warnings are prefixed with the page.
"""

from __future__ import annotations

import ast
import functools
import html
import logging
import re
import sys
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `tools.notebooks` is named in mkdocs.yml's markdown_extensions
    sys.path.insert(0, str(ROOT))

from tools import notebooks  # noqa: E402
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
FORMULA = re.compile(r'<(span|div) class="math-(?:inline|display)">.*?</\1>', re.S)


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


SEARCH_EXCLUDED = re.compile(r'<(pre|table|svg)(?=[\s>])|<p class="notebook-links"')


def exclude_code_from_search(content: str) -> str:
    """Mark code, tables, drawings and the notebook links ``data-search-exclude``.

    The search index then holds the prose, headings and inline code: a fraction of its
    size, which every first visit downloads. Printed numbers, tables of them, source
    listings (the package's own code, which the API pages describe) and the labels
    inside figures are not what a reader searches for.
    """
    return SEARCH_EXCLUDED.sub(lambda m: m[0] + " data-search-exclude", content)


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
def _module_outline(path: Path) -> tuple[dict[str, tuple[int, int]], dict[str, str]]:
    """A module read without importing it (the build need not import torch for links).

    Returns ``qualname -> (first, last line)`` of every class and function, and
    ``name -> dotted module`` for each name it imports with ``from ... import``.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # the module's own dotted name; a package's __init__ counts as a module inside it
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    found: dict[str, tuple[int, int]] = {}
    imported: dict[str, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                name = prefix + child.name
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                found[name] = (first, child.end_lineno or child.lineno)
                visit(child, name + ".")

    visit(tree, "")
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: -node.level] if node.level else []
            source = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                imported[alias.asname or alias.name] = f"{source}.{alias.name}"
    return found, imported


def _module_file(dotted: str) -> Path | None:
    path = ROOT.joinpath(*dotted.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def definition(dotted: str, depth: int = 0) -> tuple[Path, int, int] | None:
    """Where ``refimpl.x.Name`` is defined (file, first and last line), following
    re-exports (``from .conv import Conv2d``) without importing anything."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        path = _module_file(".".join(parts[:cut]))
        if path is None:
            continue
        found, imported = _module_outline(path)
        qualname = ".".join(parts[cut:])
        if qualname in found:
            return (path, *found[qualname])
        if parts[cut] in imported and depth < 8:
            return definition(".".join([imported[parts[cut]], *parts[cut + 1 :]]), depth + 1)
        return None
    return None


def source_link(dotted: str, repo_url: str) -> str | None:
    """``repo_url/blob/main/path#Lstart-Lend`` for a refimpl object, or None if not found."""
    where = definition(dotted)
    if where is None:
        return None
    path, start, end = where
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
    where = page.file.src_uri
    html_content = notebook_links(html_content, page, config)
    if where.startswith("reference/") and config.repo_url:
        html_content = api_source_links(html_content, config.repo_url)
    _retitle(page.toc, where)
    return _searchable(exclude_code_from_search(html_content), where)


def on_page_context(context: Any, page: Any, **_: Any) -> Any:
    stashed = _STASHED.pop(page.file.src_uri, [])
    page.content = PLACEHOLDER.sub(lambda m: stashed[int(m.group(1))], page.content)
    return context


def on_post_build(config: Any, **_: Any) -> None:
    site = Path(config.site_dir)
    for path, book in _NOTEBOOKS.items():
        target = site / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(nbformat.writes(book), encoding="utf-8")
