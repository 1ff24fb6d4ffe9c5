#!/usr/bin/env python3
"""The project's entry point: set up .venv from the pinned set, then test, serve, build or bench.

    python3 tools/dev.py test  [pytest args...]   run the test suite (doctests included) on
                                                  every core (pytest-xdist; -n 0: one process)
    python3 tools/dev.py setup                    only create or update .venv (CI times it)
    python3 tools/dev.py test --torch oldest ...  the same at the oldest supported torch, in
                                                  its own venv (.venv-torch-2.12.0); setup too
    python3 tools/dev.py serve [mkdocs args...]   serve the site on http://127.0.0.1:8000; an edit
                                                  rebuilds only its page (--clean: all)
    python3 tools/dev.py build                    build the site into site/ (strict)
    python3 tools/dev.py build --with zensical    the same with Zensical (always from a clean
                                                  cache; tools/zensical_build.py)
    python3 tools/dev.py test --with zensical ... the docs and browser tests read a Zensical
                                                  build of the site (default: MkDocs)
    python3 tools/dev.py bench [args...]          run benchmarks/bench_layers.py
    python3 tools/dev.py lock                     regenerate tools/constraints.txt

Standard library only. The virtual environment is reused as long as pyproject.toml and
tools/constraints.txt are unchanged (a stamp inside .venv records their hash).

``--torch oldest`` (right after ``test`` or ``setup``) uses a second venv with the oldest
torch that pyproject.toml allows, TORCH_OLDEST below, and every other package at its pin
in tools/constraints.txt. That torch comes from PyPI as its CUDA build (about 4 GB with
its nvidia-* packages; it runs on the CPU). It is reused the same way as .venv.
"""

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if sys.version_info < (3, 11):  # noqa: UP036 (the check is for whoever runs an older python3)
    sys.exit(f"tools/dev.py needs Python 3.11 or newer; this is {sys.version.split()[0]}.")

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
CONSTRAINTS = ROOT / "tools" / "constraints.txt"
TORCH_PIN = "torch==2.13.0"  # the CPU wheel; an unpinned torch would pull a CUDA build
# the oldest torch pyproject.toml allows: the whole suite runs there too (.ci/run)
TORCH_OLDEST = "torch==2.12.0"
FORBIDDEN = ("nvidia-", "triton")  # must never appear in the lock (GPU-only packages)

ENV = dict(os.environ, NO_MKDOCS_2_WARNING="1")
GENERATORS = ("mkdocs", "zensical")  # what builds the site; `--with NAME`, default the first
GENERATOR_VARIABLE = "REFIMPL_DOCS_GENERATOR"  # read by tests/site_build.py


def log(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run(*args: str | Path, cwd: Path = ROOT) -> None:
    subprocess.run([str(a) for a in args], cwd=cwd, env=ENV, check=True)


def pip_install(python: Path, *args: str | Path) -> None:
    quiet = [] if sys.stdout.isatty() else ["--progress-bar", "off"]
    run(python, "-m", "pip", "install", *quiet, *args)


def create_venv(venv: Path) -> Path:
    shown = venv.relative_to(ROOT) if venv.is_relative_to(ROOT) else venv
    # A folder without a working Python (say, its base interpreter was removed) is rebuilt.
    clear = ["--clear"] if venv.exists() else []
    log(f"{'recreating' if clear else 'creating'} virtual environment in {shown}")
    run(sys.executable, "-m", "venv", *clear, venv)
    return venv_python(venv)


def wanted_stamp(torch_pin: str = "") -> str:
    digest = hashlib.sha256(torch_pin.encode())
    for path in (ROOT / "pyproject.toml", CONSTRAINTS):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_venv(oldest: bool = False) -> Path:
    """Create or reuse the venv; install the pinned set only when its inputs changed.

    ``oldest``: the venv for TORCH_OLDEST, every other package at its pin.
    """
    venv = ROOT / f".venv-{TORCH_OLDEST.replace('==', '-')}" if oldest else VENV
    stamp_file = venv / ".refimpl-stamp"
    python = venv_python(venv)
    if not python.exists():
        python = create_venv(venv)
    stamp = wanted_stamp(TORCH_OLDEST if oldest else "")
    if stamp_file.exists() and stamp_file.read_text().strip() == stamp:
        return python
    start = time.monotonic()
    if oldest:
        log(f"installing {TORCH_OLDEST} and the other pins of {CONSTRAINTS.relative_to(ROOT)}")
        with tempfile.TemporaryDirectory(prefix="refimpl-oldest-") as tmp:
            others = Path(tmp) / "constraints.txt"
            # torch, and setuptools, which an older torch caps (2.12 needs setuptools<82)
            pins = CONSTRAINTS.read_text().splitlines()
            kept = [p for p in pins if not p.startswith(("torch==", "setuptools=="))]
            others.write_text("\n".join(kept) + "\n")
            pip_install(python, "-c", others, TORCH_OLDEST, "-e", f"{ROOT}[dev]")
    else:
        log(f"installing pinned dependencies from {CONSTRAINTS.relative_to(ROOT)}")
        pip_install(python, "-c", CONSTRAINTS, "-e", f"{ROOT}[dev]")
    stamp_file.write_text(stamp + "\n")
    log(f"installed in {time.monotonic() - start:.0f} s")
    return python


def call(python: Path, *args: str) -> int:
    """Run a command with the venv's Python from the repository root; return its exit code."""
    command = [str(python), *args]
    log("running " + " ".join([Path(command[0]).name, *command[1:]]))
    if os.name == "posix":  # hand the process over: signals and the exit code go straight through
        os.chdir(ROOT)
        os.execve(command[0], command, ENV)
    try:
        return subprocess.run(command, cwd=ROOT, env=ENV).returncode
    except KeyboardInterrupt:
        return 130


def parallel(args: list[str]) -> list[str]:
    """pytest-xdist's options for every core, unless ``args`` choose their own.

    ``--dist load`` hands tests out one by one, so the cores stay busy to the end (the
    browser tests of each worker serve the site on one shared port); ``-n 0`` runs in
    one process.
    """
    chosen = ("-n", "--numprocesses", "--dist", "-p")
    if any(a == c or a.startswith(c) for a in args for c in chosen if c != "-p") or any(
        a == "-p" and b == "no:xdist" for a, b in zip(args, args[1:])
    ):
        return []
    return ["-n", "auto", "--dist", "load"]


def sort_key(pin: str) -> str:
    return pin.split("==")[0].lower().replace("_", "-")


def lock() -> int:
    """Resolve `-e .[dev]` in a throwaway venv and write every installed version to the lock."""
    with tempfile.TemporaryDirectory(prefix="refimpl-lock-") as tmp:
        # Resolve against a copy of pyproject.toml with an empty package, so the lock does
        # not depend on the state of refimpl/ and nothing is written into the work tree.
        project = Path(tmp) / "project"
        (project / "refimpl").mkdir(parents=True)
        (project / "refimpl" / "__init__.py").write_text("")
        shutil.copy(ROOT / "pyproject.toml", project)
        (project / "README.md").write_text("")
        python = create_venv(Path(tmp) / "venv")
        log("resolving the newest versions allowed by pyproject.toml")
        pip_install(python, TORCH_PIN, "-e", f"{project}[dev]")
        frozen = subprocess.run(
            [str(python), "-m", "pip", "freeze", "--all", "--exclude-editable"],
            env=ENV,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    pins: list[str] = []
    for line in frozen.splitlines():
        if not line or line.startswith("#") or line.lower().startswith("pip=="):
            continue  # pip itself is the venv's own; setuptools stays (torch needs it at run time)
        if line.lower().startswith("torch=="):
            line = TORCH_PIN  # "2.13.0+cpu" from pip freeze; ==2.13.0 still selects that wheel
        pins.append(line)
    bad = [p for p in pins if p.lower().startswith(FORBIDDEN)]
    if bad:
        log(f"refusing to write the lock: GPU packages were resolved: {', '.join(bad)}")
        return 1
    header = (
        "# Exact versions of every package that `pip install -e .[dev]` installs.\n"
        "# Used as: pip install -c tools/constraints.txt -e '.[dev]' (tools/dev.py does this).\n"
        "# Regenerate with: python3 tools/dev.py lock\n"
        f"# Resolved with Python {platform.python_version()} on {platform.system()} "
        f"{platform.machine()}; torch is the CPU build.\n"
    )
    CONSTRAINTS.write_text(header + "\n".join(sorted(pins, key=sort_key)) + "\n")
    log(f"wrote {len(pins)} pins to {CONSTRAINTS.relative_to(ROOT)}")
    return 0


def take_generator(args: list[str]) -> tuple[str, list[str]]:
    """``--with NAME`` (or ``--with=NAME``) taken out of ``args``; "mkdocs" without one.

    Raises ValueError, naming the value, for a generator not in GENERATORS.
    """
    rest, chosen, index = [], GENERATORS[0], 0
    while index < len(args):
        arg = args[index]
        if arg == "--with" or arg.startswith("--with="):
            if arg == "--with":
                if index + 1 >= len(args):
                    raise ValueError(f"--with needs a generator: {' or '.join(GENERATORS)}")
                index += 1
                chosen = args[index]
            else:
                chosen = arg.removeprefix("--with=")
            if chosen not in GENERATORS:
                known = " or ".join(GENERATORS)
                raise ValueError(f"unknown generator {chosen!r} after --with: use {known}")
        else:
            rest.append(arg)
        index += 1
    return chosen, rest


def main(argv: list[str]) -> int:
    commands = ("test", "setup", "serve", "build", "bench", "lock")
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return 0
    if not argv or argv[0] not in commands:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "lock":
        return lock()
    oldest = rest[:2] == ["--torch", "oldest"]
    if oldest:
        if command not in ("test", "setup"):
            print(f"--torch oldest goes with test or setup, not {command}", file=sys.stderr)
            return 2
        rest = rest[2:]
    try:
        generator, rest = take_generator(rest)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    if generator != GENERATORS[0] and command not in ("test", "build"):
        print(f"--with {generator} goes with test or build, not {command}", file=sys.stderr)
        return 2
    ENV[GENERATOR_VARIABLE] = generator
    try:
        python = ensure_venv(oldest)
    except subprocess.CalledProcessError as error:
        log(f"setting up the environment failed (exit code {error.returncode})")
        return error.returncode or 1
    if command == "setup":
        log(f"{python.parent.parent.relative_to(ROOT)} is ready: {python.relative_to(ROOT)}")
        return 0
    if command == "test":
        return call(python, "-m", "pytest", *parallel(rest), *rest)
    if command == "serve":
        # --dirty: an edit rebuilds only the edited page (and, after a refimpl edit, every
        # page with executed code: tools/serve_hooks.py); --clean: every page, every time
        dirty = [] if {"--dirty", "--clean"} & set(rest) else ["--dirty"]
        return call(python, "-m", "mkdocs", "serve", *dirty, *rest)
    if command == "build" and generator == "zensical":
        return call(python, str(ROOT / "tools" / "zensical_build.py"), *rest)
    if command == "build":
        return call(python, "-m", "mkdocs", "build", "--strict", *rest)
    return call(python, str(ROOT / "benchmarks" / "bench_layers.py"), *rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
