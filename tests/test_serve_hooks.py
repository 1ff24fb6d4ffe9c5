"""tools/serve_hooks.py: local modules reloaded on change."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.docs_blocks import DOCS

SPEC = importlib.util.spec_from_file_location("serve_hooks", DOCS.parent / "tools/serve_hooks.py")
assert SPEC is not None and SPEC.loader is not None
hooks = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(hooks)


@pytest.fixture
def local_module(tmp_path, monkeypatch):
    """A module imported from a stand-in repository root, and the hooks pointed at it."""
    package = tmp_path / "localpkg"
    package.mkdir()
    source = package / "__init__.py"
    source.write_text("VALUE = 1\n")
    monkeypatch.setattr(hooks, "ROOT", tmp_path)
    monkeypatch.setattr(hooks, "_seen", {})
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    import localpkg  # type: ignore[import-not-found]

    assert localpkg.VALUE == 1
    yield source
    sys.modules.pop("localpkg", None)


def test_an_edited_local_module_is_imported_again(local_module):
    assert hooks.local_sources_changed() == []  # the first build records the sources
    assert hooks.local_sources_changed() == []  # nothing changed
    time.sleep(0.01)
    local_module.write_text("VALUE = 2  # edited\n")
    assert hooks.local_sources_changed() == ["localpkg"]
    assert "localpkg" not in sys.modules
    import localpkg  # type: ignore[import-not-found]

    assert localpkg.VALUE == 2


def test_a_module_first_imported_during_a_build_is_watched_from_then_on(local_module):
    """A page imports a local module for the first time while a build runs (a new block):
    an edit to it before the next build still reloads it."""
    sys.modules.pop("localpkg", None)
    assert hooks.local_sources_changed() == []  # the build starts: localpkg not loaded yet
    import localpkg  # type: ignore[import-not-found]  # a page's block imports it

    hooks.on_post_build()
    time.sleep(0.01)
    local_module.write_text("VALUE = 4  # edited after the build that first imported it\n")
    assert hooks.local_sources_changed() == ["localpkg"]
    assert "localpkg" not in sys.modules
    import localpkg  # type: ignore[import-not-found,no-redef]  # noqa: F811

    assert localpkg.VALUE == 4


def _page(folder: Path, name: str, text: str) -> SimpleNamespace:
    source, built = folder / f"{name}.md", folder / f"{name}.html"
    source.write_text(text)
    built.write_text("<html>built</html>")
    return SimpleNamespace(abs_src_path=str(source), abs_dest_path=str(built))


def test_dirty_serve_rebuilds_every_page_with_executed_code(local_module, tmp_path, monkeypatch):
    code = _page(tmp_path, "code", '```python exec="on"\nprint(1)\n```\n')
    prose = _page(tmp_path, "prose", "Only words.\n")
    files = SimpleNamespace(documentation_pages=lambda: [code, prose])
    hooks.on_startup(command="serve", dirty=True)
    try:
        hooks.on_files(files, config=None)  # first build: nothing to invalidate
        assert Path(code.abs_dest_path).exists()
        time.sleep(0.01)
        local_module.write_text("VALUE = 3\n")
        hooks.on_files(files, config=None)
        assert not Path(code.abs_dest_path).exists()  # older than nothing: rebuilt
        assert Path(prose.abs_dest_path).exists()  # runs no code: kept
    finally:
        hooks.on_startup(command="build", dirty=False)
