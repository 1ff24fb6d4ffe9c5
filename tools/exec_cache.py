"""Execution cache for local builds and ``serve``: a page whose code and inputs are unchanged
replays what its blocks printed instead of running them again.

What a page's blocks print depends on four things, and an entry is replayed only when all
four are as they were when it was written:

1. **The blocks themselves**, in order, with their options (a session's earlier blocks
   shape its later ones). Replay checks every block as markdown-exec hands it over; at
   the first one that differs, the blocks replayed so far are run for real to rebuild the
   session, and the page runs from there on.
2. **The local code it ran.** While a page runs, a ``sys.settrace`` hook (call events
   only) records every function from this repository that executes, in forked worker
   processes too, and every local file read through ``linecache`` (``inspect.getsource``)
   or ``pathlib`` (a page that prints a function's source depends on its text, not its
   running).
   An entry stores a fingerprint of each such function's definition (its AST, so
   formatting and comments do not count), of each file read, and of the module-level
   code (everything outside function bodies, docstrings and signatures included) of
   every local module loaded. Changing a function's body re-runs exactly the pages that
   ran it or read its file; changing anything else in a module re-runs every page.
3. **The environment**: Python, every installed distribution and its version (torch
   among them), and the ``REFIMPL_*`` and thread-count variables.
4. **The options of this format**: ``VERSION`` below.

Only printed output is cached. Everything after it, the Markdown and HTML rendering, the
hooks, the API pages, runs in every build, so no cached value can outlive the code
that renders it.

Modes (``REFIMPL_EXEC_CACHE``): unset or ``auto``: replay and record, except in a
``--strict`` build (``tools/dev.py build``, CI), which executes everything and records
nothing (recording traces every call: it costs a third more time); ``off``: no cache;
``record``: always execute and record; ``replay``: replay and record even under
``--strict`` (the tests record with one build and replay with a second, which must
give the same bytes). ``REFIMPL_EXEC_CACHE_DIR`` moves the cache from ``.cache/exec/``.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import linecache
import os
import pathlib
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

VERSION = 1
ROOT = Path(__file__).resolve().parent.parent
MODES = ("auto", "off", "record", "replay")
ENVIRONMENT_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONHASHSEED")


# ---------------------------------------------------------------------------------------
# Fingerprints of local sources


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _strip_body(node: ast.AST) -> None:
    """Keep a definition's signature, decorators and docstring; drop the rest of its body."""
    body = getattr(node, "body", [])
    first = body[0] if body else None
    docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    node.body = [first] if docstring else [ast.Pass()]  # type: ignore[attr-defined]


@dataclass
class SourceIndex:
    """One file's fingerprints: its text, its module-level code, each definition."""

    text: str
    module: str
    functions: dict[str, str]


def _index_source(text: str) -> SourceIndex:
    tree = ast.parse(text)
    functions: dict[str, str] = {}
    definitions: list[ast.AST] = []

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                functions[prefix + node.name] = _digest(ast.dump(node))
                definitions.append(node)
            elif isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")

    visit(tree.body, "")
    for node in definitions:  # after hashing them whole: the module keeps their outlines
        _strip_body(node)
    return SourceIndex(_digest(text), _digest(ast.dump(tree)), functions)


_INDEX: dict[Path, tuple[tuple[int, int], SourceIndex | None]] = {}


def source_index(path: Path) -> SourceIndex | None:
    """``path``'s fingerprints (None when it is missing); reparsed only when it changes."""
    try:
        stat = path.stat()
    except OSError:
        return None
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _INDEX.get(path)
    if cached is None or cached[0] != stamp:
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            index: SourceIndex | None = _index_source(text)
        except SyntaxError:  # not Python (a data file): its text is its fingerprint
            index = SourceIndex(_digest(text), _digest(text), {})
        cached = _INDEX[path] = (stamp, index)
    return cached[1]


def is_local(path: Path, root: Path) -> bool:
    """A file of this repository's sources that a page's code may depend on.

    Not a virtual environment, cache or build, and not ``tools/``: the build's own
    machinery (these hooks, the Markdown extensions) shapes how outputs are rendered,
    which every build redoes, not what the blocks print.
    """
    if not path.is_relative_to(root):
        return False
    first = path.relative_to(root).parts[0]
    return not first.startswith(".") and first not in {"site", "build", "tools", "__pycache__"}


def definition_of(qualname: str) -> str | None:
    """The top-level definition (``Class.method``, ``function``) code of ``qualname`` is in.

    A nested function or comprehension belongs to the definition around it; code outside
    any function (a module body, a class body, a module-level lambda) has none, since the
    module fingerprint covers it.
    """
    top = qualname.split(".<locals>.")[0]
    if top.split(".")[-1].startswith("<"):  # <lambda>, <listcomp>, <genexpr> outside one
        return None
    return top


# ---------------------------------------------------------------------------------------
# Recording what a page runs and reads


@dataclass
class Recorder:
    """Collects the local code objects that run and the local files read, while active.

    ``tracer()`` is the ``sys.settrace`` function: called at each Python call, it returns
    None, so no line events follow. Its common path is one set lookup; anything new or
    a file read goes to ``_note``. Forked worker processes inherit the tracer; there each
    new item is appended to a journal file the parent reads when the page ends.
    """

    journal: Path
    owner: int = field(default_factory=os.getpid)
    codes: set[CodeType] = field(default_factory=set)
    files: set[str] = field(default_factory=set)

    def tracer(self) -> Callable[[FrameType, str, Any], None]:
        codes = self.codes
        note = self._note

        def trace(frame: FrameType, event: str, arg: Any) -> None:
            if frame.f_code not in codes:
                note(frame)

        return trace

    def _note(self, frame: FrameType) -> None:
        code = frame.f_code
        if code in _READERS:  # a source read (inspect.getsource) or a pathlib open
            name = frame.f_locals.get(_READERS[code])
            name = os.fsdecode(name) if isinstance(name, bytes | os.PathLike) else name
            if isinstance(name, str) and name not in self.files:
                self.files.add(name)
                self._journal("file", name, "")
            return
        self.codes.add(code)
        self._journal("code", code.co_filename, code.co_qualname)

    def _journal(self, kind: str, path: str, qualname: str) -> None:
        if os.getpid() != self.owner:  # a forked worker: tell the parent
            with self.journal.open("a", encoding="utf-8") as journal:
                journal.write(json.dumps([kind, path, qualname]) + "\n")

    def dependencies(self) -> tuple[set[tuple[str, str]], set[str]]:
        """(file, definition) pairs that ran and files read, this process and its forks."""
        functions = {(c.co_filename, q) for c in self.codes if (q := definition_of(c.co_qualname))}
        files = set(self.files)
        if self.journal.exists():
            for line in self.journal.read_text(encoding="utf-8").splitlines():
                kind, path, qualname = json.loads(line)
                if kind == "file":
                    files.add(path)
                elif name := definition_of(qualname):
                    functions.add((path, name))
        return functions, files


# functions that read a file, and the argument that names it
_READERS = {
    linecache.getlines.__code__: "filename",
    linecache.updatecache.__code__: "filename",
    pathlib.Path.open.__code__: "self",
}


def _start(recorder: Recorder) -> Callable[[], None]:
    """Record while a block runs (threads it starts too); returns the function that stops."""
    trace = recorder.tracer()
    threading.settrace(trace)
    sys.settrace(trace)

    def stop() -> None:
        sys.settrace(None)
        threading.settrace(None)  # type: ignore[arg-type]

    return stop


# ---------------------------------------------------------------------------------------
# Entries


@functools.cache
def installed() -> tuple[str, ...]:
    """Every installed distribution and its version (read once per process)."""
    from importlib import metadata

    return tuple(sorted({f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions()}))


def environment_key(extra: Iterable[str] = ()) -> str:
    """Python, every installed distribution's version, the variables outputs depend on."""
    versions = installed()
    variables = sorted(
        f"{k}={v}"
        for k, v in os.environ.items()
        if k.startswith("REFIMPL_")
        and not k.startswith("REFIMPL_EXEC_CACHE")
        or k in ENVIRONMENT_VARIABLES
    )
    parts = [f"v{VERSION}", sys.version, *versions, *variables, *extra]
    return _digest("\n".join(parts))


@functools.lru_cache(maxsize=65536)
def _relative(path: str, root: Path) -> str | None:
    """``path`` relative to ``root`` if it is a local source file (see ``is_local``)."""
    try:
        resolved = Path(path).resolve()
    except (OSError, ValueError):
        return None
    if not (is_local(resolved, root) and resolved.is_file()):  # torch.ops' "_ops.py" is not
        return None
    return resolved.relative_to(root).as_posix()


def local_modules(root: Path) -> set[str]:
    """The local modules loaded in this process, as paths relative to ``root``."""
    found = set()
    for module in list(sys.modules.values()):
        name = getattr(module, "__file__", None)
        relative = _relative(name, root) if isinstance(name, str) else None
        if relative and relative.endswith(".py"):
            found.add(relative)
    return found


def fingerprints(
    functions: set[tuple[str, str]], files: set[str], root: Path
) -> dict[str, dict[str, str]]:
    """What an entry stores of its dependencies, read from the sources now."""
    recorded: dict[str, dict[str, str]] = {"modules": {}, "files": {}, "functions": {}}
    for relative in local_modules(root):
        index = source_index(root / relative)
        recorded["modules"][relative] = index.module if index else ""
    for name in files:
        relative = _relative(name, root)
        if relative and (index := source_index(root / relative)):
            recorded["files"][relative] = index.text
    for filename, qualname in functions:
        relative = _relative(filename, root)
        index = source_index(root / relative) if relative else None
        if index is not None and qualname in index.functions:  # not a class body
            recorded["functions"][f"{relative}::{qualname}"] = index.functions[qualname]
    return recorded


def stale_reasons(recorded: dict[str, dict[str, str]], root: Path) -> list[str]:
    """What changed since an entry was written (empty: it may be replayed)."""
    reasons = []
    for relative, digest in recorded["modules"].items():
        index = source_index(root / relative)
        if index is None or index.module != digest:
            reasons.append(f"{relative} (module-level code)")
    for relative, digest in recorded["files"].items():
        index = source_index(root / relative)
        if index is None or index.text != digest:
            reasons.append(f"{relative} (read)")
    for dotted, digest in recorded["functions"].items():
        relative, qualname = dotted.split("::")
        index = source_index(root / relative)
        if index is None or index.functions.get(qualname) != digest:
            reasons.append(dotted)
    return reasons


def _call_key(code: str, kwargs: dict[str, Any]) -> str:
    return json.dumps([code, kwargs], sort_keys=True, default=str)


# ---------------------------------------------------------------------------------------
# A page's life: begin, run its blocks, end


@dataclass
class Page:
    name: str
    entry: dict[str, Any] | None  # the entry to replay, if it is valid
    recorder: Recorder
    calls: list[str] = field(default_factory=list)  # _call_key of each block, in order
    outputs: list[str] = field(default_factory=list)
    replaying: bool = False
    executed: bool = False
    failed: bool = False


@dataclass
class Cache:
    directory: Path
    root: Path = ROOT
    read: bool = True
    write: bool = True
    environment: str = ""
    page: Page | None = None
    replayed: list[str] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)  # page -> why it ran
    # local modules the replayed pages had loaded, which this process may not have
    unloaded: set[str] = field(default_factory=set)

    def entry_path(self, name: str) -> Path:
        return self.directory / (name.replace("/", "__") + ".json")

    def lookup(self, name: str) -> tuple[dict[str, Any] | None, str]:
        """The page's entry if it may be replayed, else None and the reason why not."""
        if not self.read:
            return None, "cache not read"
        if not self.entry_path(name).exists():
            return None, "no entry"
        if not self.environment:
            self.environment = environment_key()
        stored = json.loads(self.entry_path(name).read_text(encoding="utf-8"))
        if stored.get("environment") != self.environment:
            return None, "environment changed"
        if reasons := stale_reasons(stored["dependencies"], self.root):
            return None, "changed: " + ", ".join(reasons[:3])
        return stored, ""

    def begin(self, name: str) -> None:
        """A page starts: find its entry and decide whether it may be replayed."""
        if not self.environment:
            self.environment = environment_key()
        entry, reason = self.lookup(name)
        journal = self.directory / f"{name.replace('/', '__')}.journal"
        journal.unlink(missing_ok=True)
        self.page = Page(name, entry, Recorder(journal), replaying=entry is not None)
        if reason:
            self.reasons[name] = reason

    def run(self, real: Callable[..., str], code: str, **kwargs: Any) -> str:
        """Run one block through markdown-exec's runner ``real``, or replay its output."""
        page = self.page
        if page is None:
            return real(code, **kwargs)
        key = _call_key(code, kwargs)
        index = len(page.calls)
        if page.replaying and page.entry is not None:
            calls = page.entry["calls"]
            if index < len(calls) and calls[index]["key"] == key:
                page.calls.append(key)
                page.outputs.append(calls[index]["output"])
                return calls[index]["output"]
            # a block differs: rebuild the session from the blocks replayed so far, then run
            page.replaying = False
            self.reasons[page.name] = f"block {index + 1} changed"
            for earlier in calls[:index]:
                self._execute(real, page, earlier["code"], earlier["kwargs"], replace=True)
        page.calls.append(key)
        return self._execute(real, page, code, kwargs)

    def _execute(
        self,
        real: Callable[..., str],
        page: Page,
        code: str,
        kwargs: dict[str, Any],
        *,
        replace: bool = False,
    ) -> str:
        page.executed = True
        stop = _start(page.recorder) if self.write and sys.gettrace() is None else None
        if stop is None:
            page.failed = True  # a debugger's trace function is set: do not record
        try:
            output = real(code, **kwargs)
        except BaseException:
            page.failed = True
            raise
        finally:
            if stop is not None:
                stop()
        if not replace:
            page.outputs.append(output)
        return output

    def end(self) -> None:
        """The page's Markdown is converted: record it, if it ran and ran cleanly."""
        page, self.page = self.page, None
        if page is None or not page.calls:
            return
        if not page.executed:
            self.replayed.append(page.name)
            if page.entry is not None:
                self.unloaded.update(page.entry["dependencies"]["modules"])
            return
        self.executed.append(page.name)
        if not self.write or page.failed:
            return
        functions, files = page.recorder.dependencies()
        page.recorder.journal.unlink(missing_ok=True)
        calls = [
            {"key": key, "code": code, "kwargs": kwargs, "output": output}
            for key, output in zip(page.calls, page.outputs)
            for code, kwargs in [json.loads(key)]
        ]
        entry = {
            "page": page.name,
            "environment": self.environment,
            "dependencies": fingerprints(functions, files, self.root),
            "calls": calls,
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=self.directory, suffix=".tmp", delete=False, encoding="utf-8"
        ) as handle:
            json.dump(entry, handle, indent=1)
        os.replace(handle.name, self.entry_path(page.name))

    def summary(self) -> str:
        return f"{len(self.replayed)} pages replayed, {len(self.executed)} executed"


def from_environment(strict: bool, root: Path = ROOT) -> Cache | None:
    """The cache the environment asks for (see the module docstring), or None for off."""
    mode = os.environ.get("REFIMPL_EXEC_CACHE", "auto") or "auto"
    if mode not in MODES:
        raise ValueError(f"REFIMPL_EXEC_CACHE must be one of {MODES}, got {mode!r}")
    if mode == "off":
        return None
    directory = Path(os.environ.get("REFIMPL_EXEC_CACHE_DIR") or root / ".cache" / "exec")
    if mode == "auto" and strict:
        return None  # a strict build executes everything, without the recording's cost
    return Cache(directory.resolve(), root=root, read=mode != "record", write=True)


CURRENT: list[Cache] = []  # the build's cache, set by the MkDocs hook (tools/serve_hooks.py)


def run(real: Callable[..., str], code: str, **kwargs: Any) -> str:
    """markdown-exec's runner, through the build's cache when there is one."""
    if CURRENT:
        return CURRENT[0].run(real, code, **kwargs)
    return real(code, **kwargs)
