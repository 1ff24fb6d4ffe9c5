"""How long an author waits in ``tools/dev.py serve``: edit a file, time until the page shows it.

Copies the site's sources (``mkdocs.yml``, ``docs/``, ``refimpl/``, ``tools/``,
``overrides/``) to a
temporary folder, starts ``mkdocs serve --dirty`` there (as ``tools/dev.py serve`` does)
on a free port, waits for the first build, then makes three edits one after another and
polls the served page until each shows up:

- prose: a sentence appended to the pooling page;
- code: a new executed block on the pooling page, whose printed output must appear;
- refimpl: a new constant in ``refimpl/__init__.py`` that the new block prints; only the
  package changes, so the page shows it only if the server reloaded the package.

The repository itself is never edited. Prints the seconds from each edit to the page
showing it, and the first build's time.

    python benchmarks/serve_reload.py
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = "pooling/pooling.md"
TIMEOUT = 240.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
            return response.read().decode("utf-8")
    except OSError:
        return ""


def wait_for(url: str, text: str, start: float) -> float:
    while time.perf_counter() - start < TIMEOUT:
        if text in fetch(url):
            return time.perf_counter() - start
        time.sleep(0.05)
    raise TimeoutError(f"{text!r} did not appear on {url} within {TIMEOUT:.0f} s")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="refimpl-serve-") as tmp:
        work = Path(tmp)
        for name in ("docs", "refimpl", "tools", "overrides"):
            shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(ROOT / "mkdocs.yml", work / "mkdocs.yml")
        port = free_port()
        url = f"http://127.0.0.1:{port}/pooling/pooling/"
        env = dict(os.environ, NO_MKDOCS_2_WARNING="1", SITE_URL=f"http://127.0.0.1:{port}/")
        command = [sys.executable, "-m", "mkdocs", "serve", "--dirty", "-a", f"127.0.0.1:{port}"]
        log = (work / "serve.log").open("w")
        server = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            start = time.perf_counter()
            first = wait_for(url, "Pooling", start)
            print(f"first build, until the page is served: {first:.1f} s")
            page = work / "docs" / PAGE
            time.sleep(1.0)  # let the watcher settle after the first build

            start = time.perf_counter()
            page.write_text(page.read_text() + "\nA sentence added while serving.\n")
            took = wait_for(url, "added while serving", start)
            print(f"prose edit -> page shows it: {took:.2f} s")
            time.sleep(1.0)

            block = (
                '\n```python exec="on" session="reload-check" result="text"\n'
                'import refimpl\nprint("printed by a block added while serving:",\n'
                '      getattr(refimpl, "RELOAD_MARK", "no mark"))\n```\n'
            )
            start = time.perf_counter()
            page.write_text(page.read_text() + block)
            took = wait_for(url, "printed by a block added while serving: no mark", start)
            print(f"code edit -> page shows its output: {took:.2f} s")
            time.sleep(1.0)

            package = work / "refimpl" / "__init__.py"
            mark = 'RELOAD_MARK = "edited while serving"'
            start = time.perf_counter()
            package.write_text(package.read_text() + f"\n{mark}\n")
            took = wait_for(url, "printed by a block added while serving: edited while", start)
            print(f"refimpl edit -> every page with code rebuilt, this one shows it: {took:.2f} s")
        except TimeoutError:
            log.flush()
            print((work / "serve.log").read_text()[-3000:])
            raise
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()


if __name__ == "__main__":
    main()
