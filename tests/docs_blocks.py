"""Find and run the executable code blocks of the site's Markdown pages.

The same blocks markdown-exec runs during the build are run here, page by page and
session by session in page order, so a failure names the page and the block.
"""

from __future__ import annotations

import io
import re
import shlex
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent.parent / "docs"
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w-]*)\s*(?P<attrs>.*)$")


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    code: str
    options: dict[str, str] = field(default_factory=dict)

    @property
    def session(self) -> str | None:
        return self.options.get("session")

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(DOCS)}:{self.line}"


def options(attrs: str) -> dict[str, str]:
    parsed = {}
    for token in shlex.split(attrs.strip("{} ")):
        key, _, value = token.partition("=")
        parsed[key] = value
    return parsed


def is_executed(options: dict[str, str]) -> bool:
    return options.get("exec", "").lower() in {"on", "1", "true", "yes"}


def blocks(page: Path) -> list[Block]:
    """Every fenced block of ``page`` with ``exec`` on, in order (fences inside tabs too)."""
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence = match["indent"], match["fence"]
        body, j = [], i + 1
        while j < len(lines) and not (
            lines[j].strip().startswith(fence[0] * len(fence))
            and not lines[j].strip().strip(fence[0])
        ):
            body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j])
            j += 1
        opts = options(match["attrs"])
        if match["lang"] in {"python", "py", "pycon"} and is_executed(opts):
            found.append(Block(page, i + 1, textwrap.dedent("\n".join(body)), opts))
        i = j + 1
    return found


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


class Sessions:
    """Globals per session name, like markdown-exec: shared across a session's blocks."""

    def __init__(self) -> None:
        self._globals: dict[str, dict[str, Any]] = {}

    def run(self, block: Block) -> str:
        """Execute ``block``; return what it printed (only ``print`` is captured, as on site)."""
        name = block.session
        namespace = self._globals.setdefault(name, {}) if name else {}
        namespace.setdefault("__name__", "__main__")
        buffer = io.StringIO()

        def captured_print(*args: Any, end: str = "\n", **_: Any) -> None:
            # markdown-exec's print: arguments joined by one space (``sep`` is ignored)
            buffer.write(" ".join(str(arg) for arg in args) + end)

        namespace["print"] = captured_print
        exec(compile(block.code, block.where, "exec"), namespace)  # noqa: S102
        return buffer.getvalue()
