"""Every page with executed blocks, also as a Jupyter notebook, from the build itself.

Two halves:

* :class:`NotebookCapture`, a Python-Markdown extension (``tools.notebooks`` under
  ``markdown_extensions`` in ``mkdocs.yml``). It keeps the page's Markdown as the
  converter receives it and wraps markdown-exec's Python formatter so that each block's
  printed output is recorded as markdown-exec produces it. Nothing runs twice: the
  recorded text is the very string the page shows. After a conversion,
  :data:`LAST` holds the page's source and its outputs.
* :func:`notebook`: that capture as an ``nbformat`` notebook. Prose between blocks
  becomes Markdown cells (relative links made absolute, tab and admonition titles made
  bold), each executed block a code cell in page order with its output embedded
  (``html="1"`` blocks as HTML, the others as printed text), and a first cell that
  installs ``refimpl`` from the repository with the torch this site pins.

After a page's conversion, :func:`publish` writes its notebook next to its ``index.html``
in the site folder the generator names, and links it under the page's title ("Download
notebook", "Open in Colab"): under MkDocs and under Zensical alike, since both hand the
extension the page and the settings (``tools.executed_blocks.page_context``). A notebook
is only written for a page with at least one executed block.
"""

from __future__ import annotations

import functools
import html
import posixpath
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w-]*)\s*(?P<attrs>.*)$")
EXEC = re.compile(r"""\bexec=["']?(on|1|true|yes)\b""", re.I)
TITLED = re.compile(
    r"""^(?P<indent>[ \t]*)(?:===|!!!|\?\?\?\+?)\s*(?P<kind>[\w-]*)\s*(?:"(?P<title>[^"]*)")?\s*$"""
)
MD_LINK = re.compile(r"\]\((?P<target>[^)\s#]+\.md)(?P<fragment>#[^)\s]*)?\)")
INSTALL_TAG = "install"
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    """One executed block: its code, what it printed, and whether that is HTML."""

    code: str
    output: str
    html: bool


@dataclass
class Capture:
    """A page's Markdown as converted and the runs of its blocks, in order."""

    markdown: str = ""
    runs: list[Run] = field(default_factory=list)
    failed: bool = False  # a block raised: no notebook (the build reports the block)


LAST: Capture | None = None  # the capture of the most recent conversion
_INSIDE_A_BLOCK = [0]  # markdown-exec converts a block's output with a nested converter


def _install_formatter() -> None:
    """Route markdown-exec's ``python`` blocks through a recording copy of its formatter.

    markdown-exec looks its formatters up by language in ``markdown_exec.formatters`` at
    each block, so replacing the entry is enough. The recording formatter calls
    markdown-exec's own ``base_format`` and its own runner (through the execution cache
    of ``tools/exec_cache.py``, when a build has one); only the runner's return value,
    the printed text, is also kept.
    """
    import markdown_exec
    from markdown_exec._internal.formatters.python import _run_python

    from tools import exec_cache

    current = markdown_exec.formatters.get("python")
    if getattr(current, "records_outputs", False):
        return

    def recording_format(**kwargs: Any) -> str:
        capture: Capture | None = getattr(kwargs.get("md"), "refimpl_capture", None)

        def run(code: str, **run_kwargs: Any) -> str:
            try:
                output = exec_cache.run(_run_python, code, **run_kwargs)
            except BaseException:
                if capture is not None:
                    capture.failed = True
                raise
            if capture is not None:
                capture.runs.append(Run(code, output, bool(kwargs.get("html"))))
            return output

        _INSIDE_A_BLOCK[0] += 1
        try:
            return markdown_exec.base_format(language="python", run=run, **kwargs)
        finally:
            _INSIDE_A_BLOCK[0] -= 1

    recording_format.records_outputs = True  # type: ignore[attr-defined]
    for language in ("python", "py"):
        markdown_exec.formatters[language] = recording_format


class _KeepSource(Preprocessor):
    """Starts a capture with the page's Markdown (after snippets are inserted)."""

    def run(self, lines: list[str]) -> list[str]:
        global LAST
        if _INSIDE_A_BLOCK[0]:
            return lines  # a block's output, not a page
        capture = Capture(markdown="\n".join(lines))
        self.md.refimpl_capture = capture  # type: ignore[attr-defined]
        LAST = capture
        return lines


class NotebookCapture(Extension):
    """Python-Markdown extension: record each page's source and its blocks' outputs, then
    write the page's notebook into the site and link it under the page's title."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        _install_formatter()
        # after pymdownx.snippets (32), before whitespace normalization (30) and superfences
        md.preprocessors.register(_KeepSource(md), "refimpl_notebook_source", 31)
        from tools.executed_blocks import after_page

        def publish_page(converted: str, context: Any) -> str:
            capture: Capture | None = getattr(md, "refimpl_capture", None)
            if capture is None or capture.failed or not capture.runs:
                return converted
            return publish(converted, capture, context)

        after_page(md, publish_page)


@functools.cache
def torch_pin() -> str:
    """The torch pin of tools/constraints.txt, the one the site is built with."""
    for line in (ROOT / "tools" / "constraints.txt").read_text().splitlines():
        if line.startswith("torch=="):
            return line.strip()
    raise ValueError("tools/constraints.txt pins no torch")


def publish(converted: str, capture: Capture, context: Any) -> str:
    """Write the page's notebook next to its ``index.html``; link it under the title.

    ``context`` is :class:`tools.executed_blocks.PageContext`: the page, and the settings
    the notebook needs (``site_dir``, ``site_url``, ``repo_url``).
    """
    src, settings = context.src_uri, context.settings
    repo_url = settings.get("repo_url") or ""
    book = notebook(
        capture,
        src,
        site_url=settings.get("site_url") or "",
        repo_url=repo_url,
        torch_pin=torch_pin(),
        title=context.title or src,
    )
    name = notebook_name(src)
    path = page_url(src) + name
    target = Path(settings["site_dir"]) / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(nbformat.writes(book), encoding="utf-8")
    # MkDocs leaves this HTML as it is; Zensical reads its relative links as written in
    # the page's source and rewrites them for the page's address
    href = posixpath.relpath(path, posixpath.dirname(src)) if context.links_from_source else name
    links = [f'<a href="{html.escape(href)}" download>Download notebook</a>']
    colab = colab_url(repo_url, path)
    if colab:
        links.append(f'<a href="{html.escape(colab)}">Open in Colab</a>')
    line = f'<p class="notebook-links">{" · ".join(links)}</p>'
    head, found, rest = converted.partition("</h1>")
    return head + found + line + rest if found else line + converted


def makeExtension(**kwargs: Any) -> NotebookCapture:  # noqa: N802 (Python-Markdown's name)
    return NotebookCapture(**kwargs)


# ---------------------------------------------------------------------------------------
# From a capture to a notebook


def is_executed_python(lang: str, attrs: str) -> bool:
    return lang in {"python", "py"} and bool(EXEC.search(attrs))


def split_page(markdown: str) -> list[tuple[str, str]]:
    """The page as ``("markdown", text)`` and ``("code", code)`` parts, in order.

    A code part is an executed Python block, dedented as markdown-exec receives it; every
    other fence stays in the prose around it.
    """
    parts: list[tuple[str, str]] = []
    prose: list[str] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            prose.append(lines[i])
            i += 1
            continue
        fence, indent = match["fence"], match["indent"]
        j = i + 1
        while j < len(lines) and not (
            lines[j].strip().startswith(fence[0] * len(fence))
            and not lines[j].strip().strip(fence[0])
        ):
            j += 1
        if is_executed_python(match["lang"], match["attrs"]):
            parts.append(("markdown", "\n".join(prose)))
            prose = []
            body = [
                line[len(indent) :] if line.startswith(indent) else line
                for line in lines[i + 1 : j]
            ]
            parts.append(("code", textwrap.dedent("\n".join(body)).strip("\n")))
        else:
            prose.extend(lines[i : j + 1])
        i = j + 1
    parts.append(("markdown", "\n".join(prose)))
    return [(kind, text) for kind, text in parts if kind == "code" or text.strip()]


def plain_markdown(text: str) -> str:
    """Material's tabs and admonitions as bold titles with their bodies dedented.

    Jupyter's Markdown has neither; their indented bodies would read as code blocks.
    """
    out: list[str] = []
    body_indent: str | None = None
    for line in text.splitlines():
        if body_indent is not None:
            if line.startswith(body_indent) or not line.strip():
                out.append(line[len(body_indent) :])
                continue
            body_indent = None
        match = TITLED.match(line)
        if match:
            title = match["title"] or match["kind"].capitalize()
            out.append(f"{match['indent']}**{title}**" if title else "")
            out.append("")
            body_indent = match["indent"] + "    "
            continue
        out.append(line)
    return textwrap.dedent("\n".join(out)).strip("\n")


def page_url(src_uri: str) -> str:
    """The address of a page below the site root: ``a/b.md`` is ``a/b/``."""
    path = src_uri[: -len(".md")] if src_uri.endswith(".md") else src_uri
    if path == "index":
        return ""
    if path.endswith("/index"):
        return path[: -len("index")]
    return path + "/"


def absolute_links(text: str, src_uri: str, site_url: str) -> str:
    """Relative links to other pages (``../a/b.md#x``) as addresses on the published site."""
    here = posixpath.dirname(src_uri)

    def replace(match: re.Match[str]) -> str:
        if re.match(r"[a-z][a-z0-9+.-]*:", match["target"]):
            return match[0]  # an address elsewhere
        target = posixpath.normpath(posixpath.join(here, match["target"]))
        return f"]({site_url}{page_url(target)}{match['fragment'] or ''})"

    return MD_LINK.sub(replace, text)


# Notebooks, cells and outputs of the v4.5 format built as plain nodes: nbformat's
# constructors check each one against the schema as it is made, most of the time a build
# spends on notebooks. The tests validate every notebook whole (tests/test_docs.py).
Node = nbformat.NotebookNode


def markdown_cell(source: str) -> Any:
    return Node(cell_type="markdown", id="", metadata=Node(), source=source)


def code_cell(source: str, metadata: dict[str, Any] | None = None) -> Any:
    return Node(
        cell_type="code",
        id="",
        metadata=Node(metadata or {}),
        execution_count=None,
        source=source,
        outputs=[],
    )


def install_cell(repo_url: str, torch_pin: str) -> Any:
    source = (
        "# refimpl from its repository, with the torch this page was built with. Skip this\n"
        "# cell where refimpl is installed already.\n"
        f'%pip install --quiet "{torch_pin}" numpy scikit-learn "refimpl @ git+{repo_url}"'
    )
    return code_cell(source, metadata={"tags": [INSTALL_TAG]})


def notebook(
    capture: Capture,
    src_uri: str,
    site_url: str,
    repo_url: str,
    torch_pin: str,
    title: str,
) -> Any:
    """The page as an nbformat v4 notebook, its code cells carrying this build's outputs.

    Raises:
        ValueError: the executed blocks found in the page and the runs recorded do not
            match one to one (a block that did not run, or one run twice).
    """
    parts = split_page(capture.markdown)
    codes = [text for kind, text in parts if kind == "code"]
    runs = capture.runs
    if len(codes) != len(runs) or any(
        code.strip() != run.code.strip() for code, run in zip(codes, runs)
    ):
        raise ValueError(
            f"{src_uri}: {len(codes)} executed blocks in the page, {len(runs)} recorded runs; "
            "the notebook would not match the page"
        )
    address = f"{site_url}{page_url(src_uri)}"
    cells = [
        markdown_cell(
            f"*{title}*, from [{address}]({address}). The outputs below are the ones printed "
            "when the site was built; run the cells to print them again."
        ),
        install_cell(repo_url, torch_pin),
    ]
    pending = iter(runs)
    for kind, text in parts:
        if kind == "markdown":
            cells.append(markdown_cell(absolute_links(plain_markdown(text), src_uri, site_url)))
            continue
        run = next(pending)
        cell = code_cell(text)
        if run.output and run.html:
            html_output = {"text/html": run.output}
            cell.outputs = [Node(output_type="display_data", data=html_output, metadata={})]
        elif run.output:
            cell.outputs = [Node(output_type="stream", name="stdout", text=run.output)]
        cells.append(cell)
    for number, cell in enumerate(cells):
        cell.id = f"cell-{number}"  # nbformat draws random ids; the build is reproducible
    return Node(
        nbformat=4,
        nbformat_minor=5,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        cells=cells,
    )


def notebook_name(src_uri: str) -> str:
    """The notebook's file name, written next to the page's ``index.html``."""
    stem = posixpath.splitext(posixpath.basename(src_uri))[0]
    if stem == "index":
        stem = posixpath.basename(posixpath.dirname(src_uri)) or "index"
    return f"{stem}.ipynb"


def colab_url(repo_url: str, path: str, branch: str = "notebooks") -> str | None:
    """Colab's address for a notebook kept at ``path`` on ``branch`` of a GitHub repository.

    Colab opens notebooks from GitHub, not from arbitrary sites; the publishing workflow
    pushes the generated notebooks to ``branch``. None for a repository elsewhere.
    """
    match = re.match(r"https://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?$", repo_url)
    if not match:
        return None
    owner, name = match.groups()
    return f"https://colab.research.google.com/github/{owner}/{name}/blob/{branch}/{path}"
