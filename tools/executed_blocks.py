"""Executed code blocks: each page starts from fresh sessions, and a raising block fails.

A Python-Markdown extension (``tools.executed_blocks`` under ``markdown_extensions`` in
``mkdocs.yml``), so it acts the same under MkDocs and under Zensical:

- **Fresh sessions per page.** markdown-exec keeps each named session's globals for the
  life of the process. Before a page's blocks run, every session is emptied, so a page
  never sees what another page's blocks defined, whatever order the pages are built in.
- **A raising block fails the build.** markdown-exec only logs a warning when a block
  raises and puts the traceback in the page. MkDocs counts that warning and
  ``mkdocs build --strict`` fails; Zensical does not. Under Zensical the warnings of a
  page's blocks are collected while it converts and, at the end of the conversion, raise
  :class:`ExecutedBlockError` naming the page, the block's line and its error.

A page's conversion is one that starts while no page converts: not markdown-exec's
conversion of a block's output, nor mkdocstrings' conversion of a docstring.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from markdown import Extension, Markdown

# markdown-exec logs from "markdown_exec.*", or from "mkdocs.plugins.markdown_exec.*" when
# its MkDocs plugin has routed its loggers through MkDocs.
LOGGERS = ("markdown_exec", "mkdocs.plugins.markdown_exec")
CODE_AND_OUTPUT = re.compile(
    r"Code block is:\n\n(?P<code>.*?)\n\nOutput is:\n\n(?P<output>.*)", re.S
)


class ExecutedBlockError(RuntimeError):
    """A page's executed code block raised while the site was built."""


@dataclass
class PageRun:
    """The page being converted: its path, its Markdown lines and its blocks' failures."""

    path: str
    lines: list[str]
    failures: list[str] = field(default_factory=list)


_CURRENT: list[PageRun] = []  # the page converting now (at most one)


class _Collector(logging.Handler):
    """Keeps markdown-exec's warnings (a block that raised) for the page converting now."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING and _CURRENT:
            _CURRENT[0].failures.append(record.getMessage())


_COLLECTOR = _Collector()


def _install_collector() -> None:
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _COLLECTOR not in logger.handlers:
            logger.addHandler(_COLLECTOR)


def reset_sessions() -> None:
    """Forget every markdown-exec Python session: the next block starts from nothing."""
    from markdown_exec._internal.formatters import python

    python._sessions_globals.clear()
    python._sessions_counter.clear()
    python._code_blocks.clear()


def under_zensical() -> bool:
    """Whether Zensical is the generator (it tells markdown-exec so before each page)."""
    import markdown_exec

    return getattr(markdown_exec, "_caller", "") == "zensical"


@dataclass(frozen=True)
class PageContext:
    """The page a conversion is for and the site's settings, as the generator tells them."""

    src_uri: str  # the page's path in docs/
    title: str | None
    settings: Mapping[str, Any]  # mkdocs.yml as the generator read it: site_dir, site_url...
    links_from_source: bool = False  # relative links in the HTML are read as the source's


def page_context(md: Markdown) -> PageContext | None:
    """What the generator tells this conversion of its page, or None (not a page's).

    Zensical hands a page's conversion a preprocessor holding the page and the settings;
    MkDocs registers a tree processor holding the page's file and the settings, and
    another that takes the title from the first heading (it has run by the time the
    conversion returns). The title is the page's as the generator shows it: the one the
    navigation gives, else the metadata's, else the first heading's.
    """
    if "rendering_context" in md.preprocessors:  # Zensical
        context = md.preprocessors["rendering_context"]
        page = context.page  # type: ignore[attr-defined]
        config = context.config  # type: ignore[attr-defined]
        return PageContext(str(page.path), page.title, config, links_from_source=True)
    if "relpath" in md.treeprocessors:  # MkDocs
        relpath = md.treeprocessors["relpath"]
        # the title the navigation gives the page, else its metadata's, else its heading's
        page = getattr(relpath.file, "page", None)  # type: ignore[attr-defined]
        title = (vars(page).get("title") or page.meta.get("title")) if page else None
        if not title:
            extracted = [
                p for p in md.treeprocessors if type(p).__name__ == "_ExtractTitleTreeprocessor"
            ]
            title = getattr(extracted[0], "title", None) if extracted else None
        return PageContext(relpath.file.src_uri, title, relpath.config)  # type: ignore[attr-defined]
    return None


def page_path(md: Markdown) -> str:
    """The converting page's path in ``docs/``, where the generator tells it, else "page"."""
    context = page_context(md)
    return context.src_uri if context else "page"


def is_page_conversion(md: Markdown) -> bool:
    """Whether this conversion is a page's, not one nested in a page's conversion."""
    from tools import notebooks

    nested = _CURRENT or hasattr(md, "_original_md") or notebooks._INSIDE_A_BLOCK[0]
    return not nested


def block_line(lines: list[str], code: str) -> int | None:
    """The line number of the fence that opens ``code`` in the page, if it can be found."""
    first = next((line.strip() for line in code.splitlines() if line.strip()), "")
    for number, line in enumerate(lines, start=1):
        if first and line.strip() == first:
            for back in range(number - 1, 0, -1):
                if lines[back - 1].lstrip().startswith(("```", "~~~")):
                    return back
            return number
    return None


def describe(run: PageRun, message: str) -> str:
    """One failure: the page and line, the block's code and what it raised."""
    found = CODE_AND_OUTPUT.search(message)
    if found is None:
        return f"{run.path}: {message}"
    code = "\n".join(line.removeprefix("    ") for line in found["code"].splitlines())
    line = block_line(run.lines, code)
    where = f"{run.path}:{line}" if line else run.path
    return f"{where}: this executed block raised:\n{found['code']}\n{found['output'].rstrip()}"


def check(run: PageRun) -> None:
    """Raise :class:`ExecutedBlockError` if a block of the page raised, under Zensical.

    Under MkDocs the warnings are MkDocs' own: ``--strict`` counts them and fails, while
    ``mkdocs serve`` shows the traceback in the page.
    """
    if run.failures and under_zensical():
        details = "\n\n".join(describe(run, message) for message in run.failures)
        raise ExecutedBlockError(f"{len(run.failures)} executed block(s) raised\n{details}")


PageStep = Callable[[str, PageContext], str]


def after_page(md: Markdown, step: PageStep | None = None) -> None:
    """Run ``step`` on each page's finished HTML; the page's conversion wrapped once.

    The first call wraps ``Markdown.convert``: a page's conversion (not a nested one, see
    :func:`is_page_conversion`) starts from fresh sessions, collects its blocks' failures
    and, once done, checks them, then hands its HTML and :class:`PageContext` to every
    registered step in the order they were registered. Conversions no generator calls a
    page's (no :func:`page_context`) skip the steps.
    """
    steps: list[PageStep] | None = md.__dict__.get("refimpl_page_steps")
    if steps is None:
        steps = md.refimpl_page_steps = []  # type: ignore[attr-defined]
        _install_collector()
        convert = md.convert

        def convert_page(source: str) -> str:
            if not is_page_conversion(md):
                return convert(source)
            reset_sessions()
            _CURRENT[:] = [PageRun(page_path(md), source.splitlines())]
            try:
                converted = convert(source)
            finally:
                run = _CURRENT.pop()
            check(run)
            context = page_context(md)  # after the conversion: the title is known
            for each in steps if context is not None else ():
                converted = each(converted, context)
            return converted

        md.convert = convert_page  # type: ignore[method-assign]
    if step is not None:
        steps.append(step)


class ExecutedBlocks(Extension):
    """Fresh markdown-exec sessions for every page; raising blocks fail the build.

    Wraps ``Markdown.convert`` (:func:`after_page`): a page's blocks run inside it, and the
    check comes after every postprocessor (the ``toc`` extension also runs those on each
    heading).
    """

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        after_page(md)


def makeExtension(**kwargs: Any) -> ExecutedBlocks:  # noqa: N802 (Python-Markdown's name)
    return ExecutedBlocks(**kwargs)
