"""The site: a strict build, live outputs on every page, math rendered, the API documented.

The build runs once per test session (a subprocess, exactly as ``tools/dev.py build``
runs it); the tests then read the built HTML next to the Markdown sources.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import refimpl
from refimpl import functional, models, shapes
from tests.docs_blocks import DOCS, FENCE, Sessions, blocks, is_executed, options, pages

ROOT = DOCS.parent
HAND_TYPED = [
    re.compile(p)
    for p in (
        r"torch\.Size\(\[",
        r"(?<![.\w])tensor\(\[",  # a printed tensor, not a torch.tensor([...]) call
        r"Parameter containing",
        r"<bound method",
        r"kernel_size=\(\d+, \d+\), stride=\(",  # a Conv2d printout
        r"^\s*\(\w+\): [A-Z]\w+\(",  # a child line of a printed module
        r"eps=1e-05, momentum=",  # a batch-norm printout
    )
]


def build(destination: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(destination)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    destination = tmp_path_factory.mktemp("site")
    result = build(destination)
    assert result.returncode == 0, f"strict build failed:\n{result.stdout}\n{result.stderr}"
    return destination


def built_page(site: Path, page: Path) -> str:
    """The HTML MkDocs writes for ``page`` (``a/b.md`` becomes ``a/b/index.html``)."""
    relative = page.relative_to(DOCS).with_suffix("")
    folder = relative.parent if relative.name == "index" else relative
    return (site / folder / "index.html").read_text(encoding="utf-8")


def page_text(markup: str) -> str:
    """The visible text of a page (tags dropped, entities decoded)."""
    body = markup.split('<article class="md-content__inner md-typeset">', 1)[-1]
    return html.unescape(re.sub(r"<[^>]+>", "", body))


PAGES = pages()
IDS = [str(p.relative_to(DOCS)) for p in PAGES]


def test_every_page_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text()
    for page_id in IDS:
        if not page_id.startswith("reference/index"):
            assert page_id in nav, f"{page_id} is not in mkdocs.yml's nav"


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_no_traceback_and_no_unrendered_math(site, page):
    markup = built_page(site, page)
    assert "Traceback (most recent call last)" not in markup
    assert 'class="arithmatex"' not in markup, "a formula was not converted to MathML"
    source = page.read_text(encoding="utf-8")
    if re.search(r"\$[^$\s][^$]*\$", re.sub(r"```.*?```", "", source, flags=re.S)):
        assert "<math" in markup, "the page has formulas but no MathML"


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_no_hand_typed_output(page):
    """Printed shapes, tensors and module printouts may only come from executed blocks."""
    offenders, fence = [], None
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        match = FENCE.match(line)
        if match and fence is None:
            fence = (match["fence"], is_executed(options(match["attrs"])))
            continue
        if match and fence is not None and match["fence"] == fence[0] and not match["lang"]:
            fence = None
            continue
        if fence is not None and fence[1]:
            continue
        offenders += [f"{page.name}:{number}: {line.strip()}" for p in HAND_TYPED if p.search(line)]
    assert offenders == []


def test_sessions_are_private_to_a_page():
    owner: dict[str, Path] = {}
    for page in PAGES:
        for block in blocks(page):
            if block.session:
                assert owner.setdefault(block.session, page) == page, (
                    f"session {block.session!r} is used by {owner[block.session]} and {page}"
                )


def _tokens(text: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9_.+-]{2,}", text)


@pytest.mark.parametrize(
    "page", [p for p in PAGES if blocks(p)], ids=[i for p, i in zip(PAGES, IDS) if blocks(p)]
)
def test_blocks_run_and_their_output_is_on_the_page(site, page):
    """Re-run the page's blocks here; what each prints must be what the built page shows."""
    text = page_text(built_page(site, page))
    sessions = Sessions()
    for block in blocks(page):
        try:
            output = sessions.run(block)
        except Exception as error:  # name the page and block in the failure
            pytest.fail(f"{block.where}: block raised {type(error).__name__}: {error}")
        if block.options.get("result"):
            for line in output.splitlines():
                assert line.strip() in text, f"{block.where}: printed line not on page: {line!r}"
        else:
            rendered = re.sub(r"<[^>]+>", " ", output)
            missing = [t for t in _tokens(rendered) if t not in text]
            assert not missing, f"{block.where}: printed text not on page: {missing[:5]}"


@pytest.mark.parametrize(
    "page, module",
    [
        ("reference/modules.md", refimpl),
        ("reference/functional.md", functional),
        ("reference/shapes.md", shapes),
    ],
)
def test_every_public_name_is_documented(site, page, module):
    markup = built_page(site, DOCS / page)
    names = [n for n in module.__all__ if not (module is refimpl and n[0].islower())]
    prefix = "refimpl.modules" if module is refimpl else module.__name__
    missing = [n for n in names if f'id="{prefix}.{n}"' not in markup]
    assert missing == []


def test_build_is_deterministic(site, tmp_path):
    again = tmp_path / "again"
    assert build(again).returncode == 0
    for page in PAGES:
        assert built_page(again, page) == built_page(site, page), f"{page} differs between builds"
