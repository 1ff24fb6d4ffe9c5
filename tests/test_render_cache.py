"""tools/render_cache.py: signature layouts and compiled templates kept between builds."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
from mkdocstrings_handlers.python._internal import rendering

from tools import exec_cache, render_cache


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    return tmp_path


def cache(project: Path, read: bool = True) -> exec_cache.Cache:
    return exec_cache.Cache(project / ".cache" / "exec", root=project, read=read)


class Counting:
    """A stand-in for ruff: lays a signature out as upper case, and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, code: str, line_length: int) -> str:
        self.calls += 1
        return f"{code.upper()}/{line_length}"


def test_each_signature_is_laid_out_once_and_kept_for_the_next_build(project):
    ruff = Counting()
    first = render_cache.Remembered(cache(project), ruff, project)
    assert first("def f(x): pass", 60) == "DEF F(X): PASS/60"
    assert first("def f(x): pass", 60) == "DEF F(X): PASS/60"
    assert first("def f(x): pass", 80) == "DEF F(X): PASS/80"  # the line length counts
    assert ruff.calls == 2
    first.save()
    again = render_cache.Remembered(cache(project), ruff, project)
    assert again("def f(x): pass", 60) == "DEF F(X): PASS/60"
    assert ruff.calls == 2


@pytest.mark.parametrize("change", ["settings", "environment", "no reading"])
def test_a_changed_key_or_a_recording_build_lays_out_afresh(project, monkeypatch, change):
    ruff = Counting()
    first = render_cache.Remembered(cache(project), ruff, project)
    first("def f(x): pass", 60)
    first.save()
    read = True
    if change == "settings":
        (project / "pyproject.toml").write_text("[tool.ruff]\nline-length = 88\n")
    elif change == "environment":
        monkeypatch.setattr(exec_cache, "installed", lambda: ("ruff==99.0",))
    else:
        read = False
    later = render_cache.Remembered(cache(project, read=read), ruff, project)
    assert later("def f(x): pass", 60) == "DEF F(X): PASS/60"
    assert ruff.calls == 2


def test_installed_only_with_a_cache(project):
    original = rendering._get_formatter
    try:
        remembered = render_cache.install(cache(project), project)
        assert remembered is not None and rendering._get_formatter() is remembered
        assert render_cache.install(None, project) is None  # a strict build: ruff each time
        assert rendering._get_formatter is render_cache._ORIGINAL
    finally:
        rendering._get_formatter = original


def test_mkdocstrings_lays_signatures_out_through_the_patched_formatter(project):
    """The patch replaces a private function of the pinned mkdocstrings-python: if a new
    version renames it or stops calling it, this fails instead of the cache going unused."""
    original = rendering._get_formatter
    try:
        remembered = render_cache.install(cache(project), project)
        assert remembered is not None
        remembered.format = Counting()
        long_signature = "(" + ", ".join(f"argument_{i}: int" for i in range(12)) + ") -> None"
        for _ in range(2):
            rendering._format_signature("function", long_signature, 60)  # type: ignore[arg-type]
        assert remembered.format.calls == 1  # laid out once, the second time remembered
    finally:
        rendering._get_formatter = original


def test_a_folder_without_pyproject_toml_has_no_ruff_settings_to_key(project):
    (project / "pyproject.toml").unlink()
    ruff = Counting()
    remembered = render_cache.Remembered(cache(project), ruff, project)
    assert remembered("def f(x): pass", 60) == "DEF F(X): PASS/60"


def test_templates_compile_once_into_the_cache_folder(project):
    assert render_cache.templates(None) is None
    bytecode = render_cache.templates(cache(project))
    assert bytecode is not None
    loader = jinja2.DictLoader({"page.html": "<p>{{ value * 2 }}</p>"})
    first = jinja2.Environment(loader=loader, bytecode_cache=bytecode)
    assert first.get_template("page.html").render(value=21) == "<p>42</p>"
    compiled = list((project / ".cache" / "exec" / "jinja").iterdir())
    assert len(compiled) == 1
    second = jinja2.Environment(loader=loader, bytecode_cache=bytecode)
    second.compile = None  # type: ignore[method-assign]  # compiling again would fail here
    assert second.get_template("page.html").render(value=4) == "<p>8</p>"
