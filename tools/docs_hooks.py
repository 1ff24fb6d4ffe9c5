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
import logging
import re
import sys
import xml.etree.ElementTree as ET
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
    mathml = polish_mathml(mathml)
    alt = html.escape(source, quote=True)
    mathml = mathml.replace("<math ", f'<math alttext="{alt}" ', 1)
    if display:
        return f'<div class="math-display">{mathml}</div>'
    return f'<span class="math-inline">{mathml}</span>'


# Mathematical Alphanumeric Symbols: the first capital and small letter of each alphabet.
# Chromium implements MathML Core, which ignores ``mathvariant`` except "normal" on a
# single-letter <mi>, so bold letters must be the bold code points themselves.
_STYLED = {
    "bold": {"A": 0x1D400, "a": 0x1D41A, "\u0391": 0x1D6A8, "\u03b1": 0x1D6C2},
    "bold-italic": {"A": 0x1D468, "a": 0x1D482, "\u0391": 0x1D71C, "\u03b1": 0x1D736},
}
# Greek capitals run Α..Ω (U+0391..U+03A9) and smalls α..ω (U+03B1..U+03C9), 25 slots
# each, in the same order in the styled alphabets (U+03A2's slot holds capital theta
# symbol, the small final sigma keeps its place), so one offset maps a letter.
_RANGES = {"A": ("A", 26), "a": ("a", 26), "\u0391": ("\u0391", 25), "\u03b1": ("\u03b1", 25)}
STYLED_MI = re.compile(r'<mi mathvariant="(bold|bold-italic)">([^<]+)</mi>')
OPERATOR_NAME = re.compile(r"<mo>([A-Za-z]{2,})</mo>")
# \ln, \log, \exp... followed by their argument: TeX sets a thin space between them.
FUNCTION_THEN_ARGUMENT = re.compile(r"(<mi>(?:ln|log|exp|sin|cos|tan|det|dim)</mi>)(?=<m[in]>)")


def styled_letter(variant: str, letter: str) -> str | None:
    """``letter`` in the bold or bold-italic alphabet, or None if it has no styled form."""
    for first, (start, count) in _RANGES.items():
        offset = ord(letter) - ord(start)
        if 0 <= offset < count:
            return chr(_STYLED[variant][first] + offset)
    return None


def _style(match: re.Match[str]) -> str:
    variant, content = match.group(1), html.unescape(match.group(2))
    styled = [styled_letter(variant, c) for c in content]
    if any(c is None for c in styled):
        return match.group(0)
    return f"<mi>{''.join(c for c in styled if c)}</mi>"


def polish_mathml(mathml: str) -> str:
    """What latex2mathml leaves to the renderer, made explicit for MathML Core.

    Bold letters become bold code points (Chromium draws ``mathvariant="bold"`` in plain
    weight); ``\\operatorname{BN}`` becomes an identifier, not an operator with an
    operator's spacing ("BN (x)"); a thin space follows ``\\ln`` before its argument.
    """
    mathml = STYLED_MI.sub(_style, mathml)
    mathml = OPERATOR_NAME.sub(r"<mi>\1</mi>", mathml)
    return FUNCTION_THEN_ARGUMENT.sub(r'\1<mspace width="0.1667em"></mspace>', mathml)


def render_math(content: str, where: str = "page") -> str:
    content = DISPLAY.sub(lambda m: latex_to_mathml(m.group(1), True, where), content)
    return INLINE.sub(lambda m: latex_to_mathml(m.group(1), False, where), content)


# ---------------------------------------------------------------------------------------
# Formulas as plain text, for the table of contents and the search index

MATHML = "{http://www.w3.org/1998/Math/MathML}"
ACCENTS = {"^": "\u0302", "\u02c6": "\u0302", "~": "\u0303", "\u00af": "\u0304", "\u203e": "\u0304"}
SUPERSCRIPTS = str.maketrans("0123456789+-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻")


def _grouped(text: str) -> str:
    return text if len(text) == 1 or text.isalnum() else f"({text})"


def _linear_sup(base: str, sup: str) -> str:
    if sup and all(c in "0123456789+-" for c in sup):
        return base + sup.translate(SUPERSCRIPTS)
    return f"{base}^{_grouped(sup)}"


def _linear(element: ET.Element) -> str:
    tag = element.tag.removeprefix(MATHML)
    parts = [_linear(child) for child in element]
    if tag in {"mi", "mn", "mo", "mtext", "ms"}:
        token = (element.text or "").strip()
        return {"\u2061": "", "\u2062": ""}.get(token, token)
    if tag == "mspace":
        return " "
    if tag == "msqrt":
        return "√" + _grouped("".join(parts))
    if tag == "mroot":
        return f"{parts[1]}√{_grouped(parts[0])}"
    if tag == "mfrac":
        return f"{_grouped(parts[0])}/{_grouped(parts[1])}"
    if tag == "msup":
        return _linear_sup(parts[0], parts[1])
    if tag == "msub":
        return f"{parts[0]}_{_grouped(parts[1])}"
    if tag == "msubsup":
        return _linear_sup(f"{parts[0]}_{_grouped(parts[1])}", parts[2])
    if tag in {"mover", "munder"} and len(parts) == 2:
        accent = ACCENTS.get(parts[1]) if tag == "mover" else None
        return parts[0] + accent if accent else f"{parts[0]}{parts[1]}"
    return "".join(parts)


def mathml_text(mathml: str) -> str:
    """A formula as one line of Unicode text (``\\sqrt{\\hat\\sigma^2}`` is ``√(σ̂²)``).

    Plain text is all a table of contents or a search result can show; flattening the
    MathML's tokens instead would drop the square root and the fraction bars.
    """
    text = _linear(ET.fromstring(mathml))  # latex2mathml writes XML: numeric entities only
    return re.sub(r"\s*([=+−<>≤≥⊙·×])\s*", r" \1 ", text).strip()


LATEX_IN_TITLE = re.compile(r"\\\((.*?)\\\)|\$(.+?)\$")


def title_text(title: str, where: str) -> str:
    """A heading's table-of-contents title with each formula as plain text."""

    def plain(match: re.Match[str]) -> str:
        latex = html.unescape(match.group(1) or match.group(2))
        mathml = convert(latex, display="inline")
        return html.escape(mathml_text(polish_mathml(mathml)), quote=False)

    return LATEX_IN_TITLE.sub(plain, title)


def _retitle(items: Any, where: str) -> None:
    for item in items:
        item.title = title_text(item.title, where)
        _retitle(item.children, where)


# The search plugin indexes page.content in on_page_context, before this hook's own
# on_page_context. So on_page_content leaves each formula as plain text in a numbered
# span, the index reads that, and on_page_context puts the MathML in its place.
PLACEHOLDER = re.compile(r'<span data-formula="(\d+)">[^<]*</span>')
_FORMULAS: dict[str, list[str]] = {}
FORMULA = re.compile(r'<(span|div) class="math-(?:inline|display)">.*?</\1>', re.S)


def _searchable(content: str, page_uri: str) -> str:
    formulas: list[str] = []

    def stash(match: re.Match[str]) -> str:
        formulas.append(match.group(0))
        math = match.group(0)[match.group(0).index("<math") : match.group(0).rindex("</math>") + 7]
        text = html.escape(mathml_text(math), quote=False)
        return f'<span data-formula="{len(formulas) - 1}">{text}</span>'

    content = FORMULA.sub(stash, content)
    _FORMULAS[page_uri] = formulas
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
    return exclude_code_from_search(_searchable(render_math(html_content, where=where), where))


def on_page_context(context: Any, page: Any, **_: Any) -> Any:
    formulas = _FORMULAS.pop(page.file.src_uri, [])
    page.content = PLACEHOLDER.sub(lambda m: formulas[int(m.group(1))], page.content)
    return context


def on_post_build(config: Any, **_: Any) -> None:
    site = Path(config.site_dir)
    for path, book in _NOTEBOOKS.items():
        target = site / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(nbformat.writes(book), encoding="utf-8")
