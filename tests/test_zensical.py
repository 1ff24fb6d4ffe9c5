"""The site's second generator, Zensical: failing blocks, the build script, the option.

The builds here run only when the tests read a Zensical build
(``tools/dev.py test --with zensical``, a CI stage of its own): the default run stays as
fast as it was. The checks of ``tools/dev.py --with`` always run (they start nothing).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import site_build
from tests.docs_blocks import DOCS

ROOT = DOCS.parent

zensical_run = pytest.mark.skipif(
    site_build.generator() != "zensical",
    reason="Zensical builds run with tools/dev.py test --with zensical",
)

BROKEN_PAGE = """# Broken

```python exec="on" session="broken"
print("this block runs")
```

Some prose.

```python exec="on" session="broken"
measured = 7
assert measured == 8, f"the claim no longer holds: {measured} != 8"
```
"""

LEAKY_PAGES = {
    "first.md": '# First\n\n```python exec="on" session="s"\nsecret = 42\nprint("set")\n```\n',
    "second.md": (
        "# Second\n\n"
        '```python exec="on" session="s"\n'
        'print("leaked" if "secret" in globals() else "fresh")\n'
        "```\n"
    ),
}

CONFIG = """site_name: zensical checks
plugins: [markdown-exec]
markdown_extensions:
  - pymdownx.superfences
  - tools.notebooks
  - tools.executed_blocks
"""


def _zensical_build(folder: Path, pages: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``zensical build --strict`` of a throwaway project with these pages."""
    (folder / "docs").mkdir()
    for name, text in pages.items():
        (folder / "docs" / name).write_text(text, encoding="utf-8")
    (folder / "mkdocs.yml").write_text(CONFIG, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "zensical", "build", "--strict"],
        cwd=folder,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),  # the extensions in tools/
        capture_output=True,
        text=True,
        timeout=300,
    )


@zensical_run
def test_a_raising_block_fails_the_zensical_build_naming_page_and_block(tmp_path):
    result = _zensical_build(tmp_path, {"index.md": "# Home\n", "broken-page.md": BROKEN_PAGE})
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "ExecutedBlockError: 1 executed block(s) raised" in output, output
    assert "broken-page.md:9: this executed block raised:" in output, output  # page:fence line
    assert "assert measured == 8" in output, output
    assert "AssertionError: the claim no longer holds: 7 != 8" in output, output
    assert 'print("this block runs")' not in output, output


@zensical_run
def test_each_page_starts_from_fresh_sessions_under_zensical(tmp_path):
    result = _zensical_build(tmp_path, {"index.md": "# Home\n", **LEAKY_PAGES})
    assert result.returncode == 0, result.stdout + result.stderr
    second = (tmp_path / "site" / "second" / "index.html").read_text(encoding="utf-8")
    assert "fresh" in second and "leaked" not in second


def test_a_page_conversion_starts_from_empty_sessions():
    """Under any generator, and in each rebuild of ``mkdocs serve``'s one process."""
    import markdown
    from markdown_exec._internal.formatters import python

    from tools import executed_blocks

    assert python._run_python("x = 41", session="page") == ""
    assert python._run_python("print(x + 1)", session="page") == "42\n"
    markdown.Markdown(extensions=[executed_blocks.ExecutedBlocks()]).convert("# Next page")
    with pytest.raises(Exception, match="name 'x' is not defined"):
        python._run_python("print(x)", session="page")
    executed_blocks.reset_sessions()


@zensical_run
def test_the_build_script_keeps_the_execution_cache(tmp_path, monkeypatch):
    """Zensical's own cache is emptied before a build; ``.cache/exec`` is not."""
    from tools import zensical_build

    cache = tmp_path / ".cache"
    (cache / "exec").mkdir(parents=True)
    (cache / "exec" / "kept").write_text("")
    (cache / "123").mkdir()
    (cache / "autorefs.json").write_text("{}")
    monkeypatch.setattr(zensical_build, "CACHE", cache)
    zensical_build.clear_cache()
    assert sorted(p.name for p in cache.iterdir()) == ["exec"]
    assert (cache / "exec" / "kept").exists()


def test_dev_with_chooses_a_generator():
    from tools import dev

    assert dev.take_generator(["-k", "x"]) == ("mkdocs", ["-k", "x"])
    assert dev.take_generator(["--with", "zensical", "tests"]) == ("zensical", ["tests"])
    assert dev.take_generator(["--with=mkdocs"]) == ("mkdocs", [])
    with pytest.raises(ValueError, match="unknown generator 'sphinx'"):
        dev.take_generator(["--with", "sphinx"])
    with pytest.raises(ValueError, match="--with needs a generator"):
        dev.take_generator(["--with"])


def test_dev_with_goes_with_build_and_test_only(capsys):
    from tools import dev

    assert dev.main(["serve", "--with", "zensical"]) == 2
    assert "goes with test or build, not serve" in capsys.readouterr().err
