"""tools/exec_cache.py: a page replays only while its blocks, the code they ran and the
environment are what they were; the rest of the time it runs again.

A stand-in repository (a temporary root holding one module) and a stand-in for
markdown-exec's runner (sessions of globals, printed text returned) drive the cache as
a build does: begin a page, run its blocks, end it.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import textwrap
from pathlib import Path

import pytest

from tools import exec_cache

LIBRARY = '''
"""A stand-in for refimpl."""
import inspect

SCALE = 2


def double(x):
    """Twice x."""
    return x * SCALE


def triple(x):
    return x * 3


def shown():
    return 1


def source_of_shown():
    return inspect.getsource(shown)


class Box:
    def area(self, side):
        return side * side
'''

# page -> its blocks; every page imports the library, each uses a different part of it
PAGES = {
    "double.md": ["from {lib} import double", "print(double(5))"],
    "triple.md": ["from {lib} import triple\nprint(triple(5))"],
    "source.md": ["from {lib} import source_of_shown\nprint(source_of_shown())"],
    "method.md": ["from {lib} import Box\nprint(Box().area(4))"],
    "fork.md": [
        "import multiprocessing\nfrom {lib} import double\n"
        "with multiprocessing.get_context('fork').Pool(1) as pool:\n"
        "    print(pool.apply(double, (21,)))"
    ],
    "prose.md": ["print(6 * 7)"],
}


class Runner:
    """Runs blocks in per-session globals and returns what they print, as markdown-exec."""

    def __init__(self) -> None:
        self.sessions: dict[str, dict[str, object]] = {}
        self.runs = 0

    def __call__(self, code: str, session: str | None = None, **_: object) -> str:
        self.runs += 1
        scope = self.sessions.setdefault(session or "", {})
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(code, scope)  # noqa: S102 (running a page's block is the point)
        return out.getvalue()


class Project:
    """A temporary repository root with the library module, built page by page."""

    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.name = name
        self.source = root / f"{name}.py"
        self.source.write_text(LIBRARY)
        self.cache = root / ".cache" / "exec"

    def edit(self, old: str, new: str) -> None:
        text = self.source.read_text()
        assert old in text
        self.source.write_text(text.replace(old, new))
        sys.modules.pop(self.name, None)  # as serve_hooks does when a local source changes

    def build(self, pages: dict[str, list[str]] | None = None, read: bool = True):
        cache = exec_cache.Cache(self.cache, root=self.root, read=read)
        runner = Runner()
        outputs = {}
        for page, blocks in (pages or PAGES).items():
            runner.sessions.clear()
            cache.begin(page)
            outputs[page] = [
                cache.run(runner, block.format(lib=self.name), session=page) for block in blocks
            ]
            cache.end()
        return outputs, sorted(cache.executed), cache


@pytest.fixture
def project(tmp_path, monkeypatch, request):
    name = f"stand_in_{request.node.name.split('[')[0][5:]}"
    monkeypatch.syspath_prepend(str(tmp_path))
    yield Project(tmp_path, name)
    sys.modules.pop(name, None)


def test_a_second_build_replays_every_page_with_the_same_outputs(project):
    first, executed, _ = project.build()
    assert executed == sorted(PAGES)
    assert first["double.md"] == ["", "10\n"] and first["fork.md"] == ["42\n"]
    again, executed, cache = project.build()
    assert executed == [] and sorted(cache.replayed) == sorted(PAGES)
    assert again == first


@pytest.mark.parametrize(
    "old, new, reran",
    [
        # a function's body: the pages that ran it (in a forked worker too), and the page
        # that printed source read from the same file
        ("return x * SCALE", "return SCALE * x", ["double.md", "fork.md", "source.md"]),
        ("return x * 3", "return 3 * x", ["source.md", "triple.md"]),
        ("return side * side", "return side**2", ["method.md", "source.md"]),
        # a comment or blank lines: no definition changed, only the file's text
        ("def triple(x):", "# triples\ndef triple(x):", ["source.md"]),
        # module-level code (a constant any function may read): every page, as the module
        # was loaded when each ran
        ("SCALE = 2", "SCALE = 2  # x\nOTHER = 1", sorted(PAGES)),
        # a docstring is part of the module's outline (a page may print it)
        ('"""Twice x."""', '"""Two times x."""', sorted(PAGES)),
    ],
    ids=["double-body", "triple-body", "method-body", "comment", "module-level", "docstring"],
)
def test_an_edit_reruns_exactly_the_pages_that_depend_on_it(project, old, new, reran):
    before, _, _ = project.build()
    project.edit(old, new)
    after, executed, cache = project.build()
    assert executed == reran
    assert sorted(cache.replayed) == sorted(set(PAGES) - set(reran))
    assert after["double.md"] == before["double.md"]  # the same values, run or replayed


def test_a_changed_block_reruns_the_page_from_a_rebuilt_session(project):
    pages = {"page.md": ["x = 20", "y = x + 1", "print(x + y)"]}
    project.build(pages)
    changed = {"page.md": ["x = 20", "y = x + 1", "print(x * y)"]}
    outputs, executed, cache = project.build(changed)
    assert executed == ["page.md"] and cache.reasons["page.md"] == "block 3 changed"
    assert outputs["page.md"] == ["", "", "420\n"]  # x and y came from the replayed blocks
    outputs, executed, _ = project.build(changed)
    assert executed == [] and outputs["page.md"] == ["", "", "420\n"]


def test_a_block_that_raises_leaves_no_entry(project):
    pages = {"bad.md": ["print(1)", "raise ValueError('no')"]}
    with pytest.raises(ValueError):
        project.build(pages)
    assert not (project.cache / "bad.md.json").exists()


def test_the_environment_is_part_of_the_key(project, monkeypatch):
    project.build()
    flipped = "0" if os.environ.get("REFIMPL_FAST_KERNELS") == "1" else "1"  # --fast-kernels
    monkeypatch.setenv("REFIMPL_FAST_KERNELS", flipped)
    _, executed, cache = project.build()
    assert executed == sorted(PAGES)
    assert set(cache.reasons.values()) == {"environment changed"}


def test_a_build_that_does_not_read_executes_and_records(project):
    project.build()
    _, executed, _ = project.build(read=False)
    assert executed == sorted(PAGES)
    _, executed, _ = project.build()
    assert executed == []


def test_modes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("REFIMPL_EXEC_CACHE_DIR", str(tmp_path))
    for mode, strict, read in [
        ("auto", False, True),
        ("record", False, False),
        ("record", True, False),
        ("replay", True, True),
    ]:
        monkeypatch.setenv("REFIMPL_EXEC_CACHE", mode)
        cache = exec_cache.from_environment(strict=strict)
        assert cache is not None and (cache.read, cache.write) == (read, True)
        assert cache.directory == tmp_path.resolve()
    monkeypatch.setenv("REFIMPL_EXEC_CACHE", "auto")
    assert exec_cache.from_environment(strict=True) is None  # tools/dev.py build, CI
    monkeypatch.setenv("REFIMPL_EXEC_CACHE", "off")
    assert exec_cache.from_environment(strict=False) is None
    monkeypatch.setenv("REFIMPL_EXEC_CACHE", "sometimes")
    with pytest.raises(ValueError, match="REFIMPL_EXEC_CACHE must be one of .* got 'sometimes'"):
        exec_cache.from_environment(strict=False)


def test_fingerprints_ignore_formatting_but_not_code():
    index = exec_cache._index_source(textwrap.dedent(LIBRARY))
    reformatted = exec_cache._index_source(LIBRARY.replace("x * SCALE", "x*SCALE  # scaled"))
    assert reformatted.functions == index.functions and reformatted.module == index.module
    changed = exec_cache._index_source(LIBRARY.replace("x * SCALE", "x + SCALE"))
    assert changed.functions["double"] != index.functions["double"]
    assert changed.functions["triple"] == index.functions["triple"]
    assert changed.module == index.module
    assert set(index.functions) == {"double", "triple", "shown", "source_of_shown", "Box.area"}
