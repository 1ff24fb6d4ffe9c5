"""What rendering the pages can keep between builds, beside the execution cache.

Two things cost a build time and depend only on their inputs, so a build that has an
execution cache (``tools/exec_cache.py``: ``serve`` and local builds; a strict build only
when told to replay) keeps them in the cache's folder:

- **Signature layouts.** mkdocstrings' Python handler lays out each signature on the API
  pages with ``ruff format``, one subprocess per signature: about 8 ms each, some 110 per
  build. The layout depends on nothing but the signature's text, the line length, ruff's
  version and this repository's ruff settings (``pyproject.toml``). They are kept in
  ``signatures.json`` under a key made of Python's and every installed distribution's
  version (ruff among them) and the text of ``pyproject.toml``; a changed key starts the
  file afresh.
- **Compiled templates.** The theme's and mkdocstrings' Jinja templates, compiled once:
  Jinja's own bytecode cache (``jinja/``), which keys each template by its name and the
  checksum of its source, and its files by Jinja's and Python's bytecode versions.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from mkdocstrings_handlers.python._internal import rendering

from tools import exec_cache

FILE = "signatures.json"
Formatter = Callable[[str, int], str]
_ORIGINAL = rendering._get_formatter


class Remembered:
    """A formatter that asks ``format`` once per signature and line length."""

    def __init__(self, cache: exec_cache.Cache, format: Formatter, root: Path) -> None:
        self.path = cache.directory / FILE
        self.format = format
        self.write = cache.write
        settings_file = root / "pyproject.toml"  # ruff's settings, if there are any
        settings = settings_file.read_text(encoding="utf-8") if settings_file.exists() else ""
        self.key = exec_cache.environment_key([settings])
        self.known: dict[str, str] = {}
        if cache.read and self.path.exists():
            stored = json.loads(self.path.read_text(encoding="utf-8"))
            if stored.get("key") == self.key:
                self.known = stored["signatures"]
        self.added = False

    def __call__(self, code: str, line_length: int) -> str:
        entry = f"{line_length}\n{code}"
        if entry not in self.known:
            self.known[entry] = self.format(code, line_length)
            self.added = True
        return self.known[entry]

    def save(self) -> None:
        if not (self.write and self.added):
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=self.path.parent, suffix=".tmp", delete=False, encoding="utf-8"
        ) as handle:
            json.dump({"key": self.key, "signatures": self.known}, handle, indent=1)
        os.replace(handle.name, self.path)
        self.added = False


def install(cache: exec_cache.Cache | None, root: Path) -> Remembered | None:
    """Route mkdocstrings' signature layout through ``cache``'s file; None: as it was."""
    rendering._get_formatter = _ORIGINAL  # type: ignore[assignment]
    if cache is None:
        return None
    remembered = Remembered(cache, _ORIGINAL(), root)

    def formatter() -> Any:
        return remembered

    rendering._get_formatter = formatter  # type: ignore[assignment]
    return remembered


def templates(cache: exec_cache.Cache | None) -> jinja2.BytecodeCache | None:
    """Jinja's bytecode cache in ``cache``'s folder, or None for no cache."""
    if cache is None:
        return None
    folder = cache.directory / "jinja"
    folder.mkdir(parents=True, exist_ok=True)
    return jinja2.FileSystemBytecodeCache(str(folder))
