"""Build the site with Zensical: strict, from an empty cache, into any folder.

    python tools/zensical_build.py [DESTINATION]     (default: site/)

Zensical reads ``mkdocs.yml`` but has no ``--site-dir`` option and accepts a ``site_dir``
inside the project only; ``mkdocs.yml`` takes it from ``REFIMPL_SITE_DIR``. A destination
outside the project is built in ``build/`` first and moved there.

Zensical keeps a cache in ``.cache/`` and reuses a page's HTML while its Markdown is
unchanged, even when the code its blocks run has changed. Every build here starts with
that cache emptied. ``zensical build --clean`` would empty all of ``.cache/``, the
execution cache of ``tools/exec_cache.py`` (``.cache/exec/``) too, so the entries are
removed here instead, all but that one. One Zensical build at a time per checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
KEPT = {"exec"}  # tools/exec_cache.py's folder, not Zensical's


def clear_cache() -> None:
    """Remove Zensical's entries from ``.cache/``, keeping the execution cache."""
    if not CACHE.is_dir():
        return
    for entry in CACHE.iterdir():
        if entry.name in KEPT:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def build(destination: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    """``zensical build --strict`` into ``destination``; its output captured."""
    destination = destination.resolve()
    inside = destination.is_relative_to(ROOT)
    target = destination if inside else ROOT / "build" / f"zensical-{os.getpid()}"
    clear_cache()
    shutil.rmtree(target, ignore_errors=True)
    env = dict(os.environ, REFIMPL_SITE_DIR=str(target), **variables)
    result = subprocess.run(
        [sys.executable, "-m", "zensical", "build", "--strict"],
        cwd=ROOT,  # the configuration imports the Markdown extensions in tools/
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if not inside and target.exists():
        shutil.rmtree(destination, ignore_errors=True)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(target, destination)
    return result


def main(argv: list[str]) -> int:
    destination = Path(argv[0]) if argv else ROOT / "site"
    start = time.monotonic()
    result = build(destination)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    took = time.monotonic() - start
    print(f"zensical build: exit {result.returncode} after {took:.1f} s into {destination}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
