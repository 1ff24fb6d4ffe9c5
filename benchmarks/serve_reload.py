"""How long an author waits in ``tools/dev.py serve``: edit a file, time until the page shows it.

Copies the site's sources (``mkdocs.yml``, ``docs/``, ``refimpl/``, ``tools/``,
``overrides/``) to a temporary folder, starts ``mkdocs serve --dirty`` there (as
``tools/dev.py serve`` does) on a free port and times, until the pooling page shows each:

- the first build, with an empty execution cache (``tools/exec_cache.py``);
- a restart with nothing changed: the server is stopped and started again, the cache full;
- prose: a sentence appended to the pooling page;
- code: a new executed block on the pooling page, whose printed output must appear;
- a refimpl function: the body of a function the new block calls changes (a probe module
  added to the copied package); only the pages that ran it execute again;
- refimpl's module-level code: a new constant in ``refimpl/__init__.py`` that the block
  prints; every page executes again, as a constant may be read anywhere.

The repository itself is never edited.

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


PROBE = 'def probe() -> str:\n    return "probe {}"\n'


class Server:
    """``mkdocs serve --dirty`` in the copy, on a free port, logging to serve.log."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/pooling/pooling/"
        env = dict(os.environ, NO_MKDOCS_2_WARNING="1", SITE_URL=f"http://127.0.0.1:{self.port}/")
        address = f"127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "mkdocs", "serve", "--dirty", "-a", address]
        self.log = (work / "serve.log").open("a")
        self.process = subprocess.Popen(
            command, cwd=work, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def edit(server: Server, path: Path, text: str, shows: str, what: str) -> None:
    start = time.perf_counter()
    path.write_text(text)
    took = wait_for(server.url, shows, start)
    print(f"{what}: {took:.2f} s")
    time.sleep(1.0)  # let the watcher settle


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="refimpl-serve-") as tmp:
        work = Path(tmp)
        for name in ("docs", "refimpl", "tools", "overrides"):
            shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(ROOT / "mkdocs.yml", work / "mkdocs.yml")
        probe = work / "refimpl" / "_reload_probe.py"
        probe.write_text(PROBE.format("v1"))
        server = Server(work)
        try:
            start = time.perf_counter()
            first = wait_for(server.url, "Pooling", start)
            print(f"first build, empty execution cache, until the page is served: {first:.1f} s")
            server.stop()
            server = Server(work)
            start = time.perf_counter()
            took = wait_for(server.url, "Pooling", start)
            print(f"restart, nothing changed, until the page is served: {took:.1f} s")
            time.sleep(5.0)  # an author reads first: serve imports refimpl meanwhile

            page = work / "docs" / PAGE
            text = page.read_text() + "\nA sentence added while serving.\n"
            edit(server, page, text, "added while serving", "prose edit -> page shows it")

            block = (
                '\n```python exec="on" session="reload-check" result="text"\n'
                "import refimpl\nfrom refimpl._reload_probe import probe\n"
                'print("printed by a block added while serving:",\n'
                '      getattr(refimpl, "RELOAD_MARK", "no mark"), probe())\n```\n'
            )
            shows = "printed by a block added while serving: no mark probe v1"
            edit(server, page, page.read_text() + block, shows, "code edit -> page shows it")

            shows = "printed by a block added while serving: no mark probe v2"
            what = "refimpl function edit -> the pages that ran it execute, this one shows it"
            edit(server, probe, PROBE.format("v2"), shows, what)

            package = work / "refimpl" / "__init__.py"
            text = package.read_text() + '\nRELOAD_MARK = "edited while serving"\n'
            shows = "printed by a block added while serving: edited while serving probe v2"
            what = "refimpl module-level edit -> every page with code executes, this one shows it"
            edit(server, package, text, shows, what)
        except TimeoutError:
            server.log.flush()
            print((work / "serve.log").read_text()[-3000:])
            raise
        finally:
            server.stop()


if __name__ == "__main__":
    main()
