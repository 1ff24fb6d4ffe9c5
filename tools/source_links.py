"""Each API entry links to its lines in the repository: a Python-Markdown extension.

``tools.source_links`` under ``markdown_extensions`` in ``mkdocs.yml``. On the reference
pages (``reference/``), each API entry that mkdocstrings renders (an ``h2``/``h3`` whose id
is the object's dotted path) gets a "source" link to the lines that define it, at
``repo_url``. The lines are found by reading the modules with ``ast``, following
re-exports, without importing anything (the build need not import torch for links), and
with no network. The page and ``repo_url`` come from the generator, MkDocs or Zensical
(``tools.executed_blocks.page_context``).
"""

from __future__ import annotations

import ast
import functools
import html
import re
from pathlib import Path
from typing import Any

from markdown import Extension, Markdown

ROOT = Path(__file__).resolve().parent.parent

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


class SourceLinks(Extension):
    """Adds the links once a reference page's conversion, mkdocstrings' HTML included, is done."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        from tools.executed_blocks import PageContext, after_page

        def link_entries(converted: str, context: PageContext) -> str:
            if not context.src_uri.startswith("reference/"):
                return converted
            repo_url = context.settings.get("repo_url") or ""
            return api_source_links(converted, repo_url) if repo_url else converted

        after_page(md, link_entries)


def makeExtension(**kwargs: Any) -> SourceLinks:  # noqa: N802 (Python-Markdown's name)
    return SourceLinks(**kwargs)
