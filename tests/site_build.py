"""One strict build of the site per test run, shared by the docs and the browser tests.

The site is built for ``http://127.0.0.1:PORT/refimpl/``, as if published under a
sub-path, and written to ``<run folder>/served/refimpl``: the browser tests serve
``served/`` on PORT, the docs tests read the HTML. PORT is chosen once per run, by the
first pytest process (``choose_port``, from ``pytest_configure``), and reaches the xdist
workers through the environment, which they inherit. The first process that needs the
site builds it under a file lock; the others wait for it and read its result.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock

from tests.docs_blocks import DOCS

ROOT = DOCS.parent
SUB_PATH = "/refimpl/"
PORT_VARIABLE = "REFIMPL_TEST_SITE_PORT"
GENERATOR_VARIABLE = "REFIMPL_DOCS_GENERATOR"  # tools/dev.py test --with zensical sets it


def generator() -> str:
    """What builds the site the tests read: "mkdocs" (the default) or "zensical"."""
    return os.environ.get(GENERATOR_VARIABLE) or "mkdocs"


def choose_port() -> None:
    """Pick a free loopback port for this run's site, unless one is already chosen."""
    if PORT_VARIABLE in os.environ:
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        os.environ[PORT_VARIABLE] = str(probe.getsockname()[1])


def site_port() -> int:
    return int(os.environ[PORT_VARIABLE])


def site_url() -> str:
    return f"http://127.0.0.1:{site_port()}{SUB_PATH}"


def build(
    destination: Path, cwd: Path = ROOT, **variables: str
) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` into ``destination``, for this run's address.

    With Zensical chosen (:func:`generator`), ``zensical build --strict`` from an empty
    cache (``tools/zensical_build.py``).
    """
    if generator() == "zensical":
        from tools import zensical_build

        return zensical_build.build(destination, SITE_URL=site_url(), **variables)
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", SITE_URL=site_url(), **variables)
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(destination)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@dataclass(frozen=True)
class SiteBuild:
    served: Path  # serve this folder on site_port(): the site is its SUB_PATH below
    site: Path
    returncode: int
    output: str

    def check(self) -> Path:
        """The site folder; fails the calling test if the build did not succeed."""
        assert self.returncode == 0, f"strict build failed:\n{self.output}"
        return self.site


def shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's temporary folder: an xdist worker's own folder is one level below it."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def build_once(base: Path, name: str) -> SiteBuild:
    """Build ``base/name/refimpl`` unless this run has already; return the outcome.

    Whoever comes first (a background builder started at the beginning of the run, or a
    test) builds under a file lock and records the outcome; everyone else waits for the
    lock and reads the record.

    "served" executes every block (a strict build never reads the execution cache) and
    records the run's cache; "again" comes after it and replays that cache, so the
    tests can check that a replayed build is the fresh one, byte for byte.
    """
    served = base / name
    site = served / SUB_PATH.strip("/")
    record = base / f"{name}.json"
    cache = {"REFIMPL_EXEC_CACHE_DIR": str(base / "exec-cache")}
    if name == "again":
        build_once(base, "served")
    with FileLock(str(base / f"{name}.lock")):
        if not record.exists():
            mode = "replay" if name == "again" else "record"
            result = build(site, REFIMPL_EXEC_CACHE=mode, **cache)
            outcome = {"returncode": result.returncode, "output": result.stdout + result.stderr}
            record.write_text(json.dumps(outcome), encoding="utf-8")
    outcome = json.loads(record.read_text(encoding="utf-8"))
    return SiteBuild(served, site, outcome["returncode"], outcome["output"])


BUILDS = ("served", "again")  # the site the tests read and serve; the same from the cache
NEEDS_BUILDS = ("tests/test_docs.py", "tests/test_browser.py")


def wanted(args: list[str], invocation: Path) -> bool:
    """Whether a run with these path arguments includes the tests that read the builds."""
    paths = [a.split("::")[0] for a in args if not a.startswith("-")] or ["tests"]
    needing = [ROOT / n for n in NEEDS_BUILDS]
    for path in paths:
        target = (invocation / path).resolve()
        if any(n == target or target in n.parents for n in needing):
            return True
    return False


def start_in_background(base: Path) -> list[subprocess.Popen[bytes]]:
    """Start the run's builds as background processes, so they overlap with the tests."""
    processes = []
    # Zensical runs no hooks, so no execution cache: only the fresh build
    for name in BUILDS if generator() == "mkdocs" else BUILDS[:1]:
        log = (base / f"{name}.log").open("wb")
        command = [sys.executable, "-m", "tests.site_build", str(base), name]
        processes.append(
            subprocess.Popen(
                command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        )
        log.close()
    return processes


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Stop builds still running (the run ended early: -x, Ctrl-C), mkdocs included."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # its own session: the group is the build
            process.wait(timeout=30)


if __name__ == "__main__":
    build_once(Path(sys.argv[1]), sys.argv[2])
