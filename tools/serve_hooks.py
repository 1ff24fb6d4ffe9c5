"""MkDocs hooks for authors: edits to refimpl show at once, unchanged pages replay.

(Each page's blocks start from empty markdown-exec sessions in every build, ``serve``'s
rebuilds included: the ``tools.executed_blocks`` extension sees to that.)

- **Local modules reloaded.** ``mkdocs.yml`` watches ``refimpl/``. Before each build the
  sources of every module the pages imported from this repository (``refimpl`` and any
  other) are compared with the previous build's; if one changed, all of them are dropped
  from ``sys.modules``, so the pages import the edited code, and under ``--dirty``
  (``tools/dev.py serve`` uses it) every page with executed code is rebuilt, not just the
  edited Markdown files.
- **Execution cache** (``tools/exec_cache.py``). A page whose blocks, the local code
  they ran and the environment are unchanged replays what its blocks printed; the rest
  of the build runs as always. A ``--strict`` build (``tools/dev.py build``, CI)
  executes everything without it; ``REFIMPL_EXEC_CACHE=off`` turns the cache off.
  Where there is a cache, the API signatures' layout and the compiled templates are
  kept with it (``tools/render_cache.py``).
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools import exec_cache, render_cache  # noqa: E402

EXECUTED = ('exec="on"', 'exec="1"', "exec='on'", 'exec="true"')
log = logging.getLogger("mkdocs.hooks.serve")

_dirty = False
_seen: dict[str, tuple[int, int]] = {}  # source path -> (mtime_ns, size) at the last build


def _local_modules() -> dict[str, Path]:
    """Modules imported from this repository's sources (not its virtual environments)."""
    found = {}
    for name, module in list(sys.modules.items()):
        path = Path(getattr(module, "__file__", None) or "/").resolve()
        inside = path.is_relative_to(ROOT) and not path.relative_to(ROOT).parts[0].startswith(".")
        if inside and path.parent != ROOT / "tools":  # not the venvs, not these hooks
            found[name] = path
    return found


def _stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return (0, -1)
    return (stat.st_mtime_ns, stat.st_size)


def local_sources_changed() -> list[str]:
    """Local modules whose source changed since the last call; drops them all if any did."""
    modules = _local_modules()
    changed = sorted(
        name
        for name, path in modules.items()
        if str(path) in _seen and _seen[str(path)] != _stamp(path)
    )
    if changed:
        for name in modules:
            del sys.modules[name]
        _seen.clear()
    else:
        _seen.update({str(path): _stamp(path) for path in modules.values()})
    return changed


def on_startup(*, command: str, dirty: bool, **_: Any) -> None:
    global _dirty, _serving
    _dirty = dirty
    _serving = command == "serve"


_serving = False


def _import_in_background(paths: set[str]) -> None:
    """Import local modules (``refimpl/shapes.py`` -> ``refimpl.shapes``) in a thread.

    After a build that replayed every page nothing imported torch or refimpl; the first
    code edit would wait for those imports. ``serve`` does them while the author reads.
    Each file is stamped before it is imported, so an edit made meanwhile still counts.
    """

    def load() -> None:
        for relative in sorted(paths):
            path = ROOT / relative
            name = ".".join(Path(relative).with_suffix("").parts).removesuffix(".__init__")
            _seen.setdefault(str(path.resolve()), _stamp(path))
            try:
                importlib.import_module(name)
            except Exception:  # a page that needs it reports the error when it runs
                log.debug("could not import %s ahead of time", name)

    threading.Thread(target=load, name="import-ahead", daemon=True).start()


def on_config(config: Any, **_: Any) -> Any:
    exec_cache.CURRENT[:] = []
    cache = exec_cache.from_environment(strict=bool(config.get("strict")), root=ROOT)
    if cache is not None:
        exec_cache.CURRENT.append(cache)
    _signatures[:] = [s for s in [render_cache.install(cache, ROOT)] if s is not None]
    _templates[:] = [render_cache.templates(cache)]
    return config


_signatures: list[render_cache.Remembered] = []
_templates: list[Any] = [None]  # Jinja's bytecode cache, when there is an execution cache


def on_env(env: Any, config: Any, **_: Any) -> Any:
    env.bytecode_cache = _templates[0]  # the theme's templates
    return env


def on_files(files: Any, config: Any, **_: Any) -> Any:
    if _templates[0] is not None:  # mkdocstrings' templates, before the API pages need them
        handler = config.plugins["mkdocstrings"].handlers.get_handler("python")
        handler.env.bytecode_cache = _templates[0]
    changed = local_sources_changed()
    if changed:
        log.info("local modules changed (%s): reloading them", ", ".join(changed))
        if _dirty:  # --dirty rebuilds a page only when its output is older than its source
            cache = exec_cache.CURRENT[0] if exec_cache.CURRENT else None
            for file in files.documentation_pages():
                text = Path(file.abs_src_path).read_text(encoding="utf-8")
                if not any(marker in text for marker in EXECUTED):
                    continue
                # a page the cache would replay prints what it printed: its HTML stands
                if cache is None or cache.lookup(file.src_uri)[0] is None:
                    Path(file.abs_dest_path).unlink(missing_ok=True)
    return files


def on_page_markdown(markdown: str, page: Any = None, **_: Any) -> str:
    if exec_cache.CURRENT and page is not None:
        exec_cache.CURRENT[0].begin(page.file.src_uri)
    return markdown


def on_page_content(html: str, **_: Any) -> str:
    if exec_cache.CURRENT:
        exec_cache.CURRENT[0].end()
    return html


def on_post_build(**_: Any) -> None:
    # Modules first imported during this build: stamped now, so that the next build
    # notices an edit to them (on_files only stamps what was loaded before the build).
    for path in _local_modules().values():
        _seen.setdefault(str(path), _stamp(path))
    for remembered in _signatures:
        remembered.save()
    if exec_cache.CURRENT:
        cache = exec_cache.CURRENT[0]
        log.info("execution cache: %s", cache.summary())
        if _serving and cache.unloaded and not cache.executed:
            _import_in_background(set(cache.unloaded))
        cache.unloaded.clear()
        for page, reason in cache.reasons.items():
            if page in cache.executed:
                log.debug("executed %s: %s", page, reason)
        cache.replayed.clear()
        cache.executed.clear()
        cache.reasons.clear()
