"""Every generated notebook, run top to bottom on a real kernel, prints what its page shows.

Marked ``notebooks``: the default run deselects it (``addopts`` in pyproject.toml) and
``.ci/run`` runs it as a stage of its own with ``pytest -m notebooks``. The site is built
once (a strict build, as ``tools/dev.py build`` runs it) unless ``REFIMPL_BUILT_SITE``
names a site built already. Each notebook then runs with nbclient on an ipykernel kernel
from this venv, offline: its install cell (tagged ``install``) is left out, since
refimpl and the pinned torch are installed here. The outputs embedded at build are the
page's own; the test compares each code cell's printed text with them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.docs_blocks import DOCS, blocks, pages

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = DOCS.parent
pytestmark = pytest.mark.notebooks

WITH_BLOCKS = [p for p in pages() if blocks(p)]
IDS = [str(p.relative_to(DOCS)) for p in WITH_BLOCKS]


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("REFIMPL_BUILT_SITE")
    if given:
        return Path(given)
    destination = tmp_path_factory.mktemp("notebook-site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(destination)],
        cwd=ROOT,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, f"strict build failed:\n{result.stdout}\n{result.stderr}"
    return destination


def notebook_path(site: Path, page: Path) -> Path:
    relative = page.relative_to(DOCS).with_suffix("")
    if relative.name == "index":
        folder = relative.parent
        name = folder.name or "index"
    else:
        folder, name = relative, relative.name
    return site / folder / f"{name}.ipynb"


def printed(cell) -> str:
    """What a code cell printed: its stdout streams, or the HTML it displayed at build."""
    parts = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream" and output["name"] == "stdout":
            parts.append(output["text"])
        elif output["output_type"] == "display_data":
            parts.append(output["data"].get("text/html", ""))
    return "".join(parts)


@pytest.mark.parametrize("page", WITH_BLOCKS, ids=IDS)
def test_notebook_runs_and_prints_what_the_page_shows(built_site, page):
    book = nbformat.read(notebook_path(built_site, page), as_version=4)
    first_code = next(c for c in book.cells if c.cell_type == "code")
    assert "install" in first_code.metadata.get("tags", []), "the first code cell installs refimpl"
    assert "%pip install" in first_code.source and "git+" in first_code.source
    book.cells = [c for c in book.cells if "install" not in c.metadata.get("tags", [])]
    codes = [c for c in book.cells if c.cell_type == "code"]
    assert [c.source for c in codes] == [b.code.strip("\n") for b in blocks(page)]
    expected = [printed(c) for c in codes]
    assert any(expected), "the notebook embeds no output at all"

    start = time.monotonic()
    client = nbclient.NotebookClient(
        book,
        kernel_name="python3",
        timeout=600,
        allow_errors=False,
        resources={"metadata": {"path": str(ROOT)}},
    )
    client.execute()
    took = time.monotonic() - start
    print(f"{page.relative_to(DOCS)}: {len(codes)} code cells in {took:.1f} s")
    for number, (cell, wanted) in enumerate(zip(codes, expected), start=1):
        assert printed(cell) == wanted, (
            f"{page.relative_to(DOCS)}, code cell {number} printed something else:\n"
            f"{cell.source[:300]}"
        )
