"""Lighthouse scores of the built site: six pages, mobile and desktop, each category >= 95.

Builds the site strictly for ``http://127.0.0.1:PORT/refimpl/`` (the sub-path it has when
published), serves it from loopback the way a static host does (gzip for a client that
accepts it, a ``Cache-Control`` lifetime), and runs Lighthouse (npm ``lighthouse``,
pinned below, installed into ``.cache/node/`` on first use) against Debian's chromium,
headless. Each page and form factor runs ``--runs`` times (3 by default) and the median
of each category counts: the performance score moves a point or two between runs on a
busy machine. Prints a table, writes each run's JSON report into
``artifacts/lighthouse/``, and exits 1 if any median is below the threshold.

    python3 tools/lighthouse.py                 # build, then 6 pages x 2 form factors x 3
    python3 tools/lighthouse.py --site DIR      # a site already built for --port
    python3 tools/lighthouse.py --runs 1 --pages index.md
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: tools/ is a package of the repository

from tools import notebooks  # noqa: E402 (after the path)

LIGHTHOUSE = "lighthouse@12.2.3"  # works with Node 20
NODE_PREFIX = ROOT / ".cache" / "node"
CHROMIUM = "/usr/bin/chromium"  # Debian's package (.ci/run installs it)
REPORTS = ROOT / "artifacts" / "lighthouse"
SUB_PATH = "/refimpl/"
PAGES = [
    "index.md",
    "convolution/arithmetic.md",
    "normalization/batch-norm.md",
    "architectures/googlenet.md",
    "reference/modules.md",
    "training/experiments.md",
]
FORM_FACTORS = {"mobile": [], "desktop": ["--preset=desktop"]}
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
COMPRESSED = {".html", ".css", ".js", ".json", ".xml", ".svg", ".txt", ".ipynb"}


class StaticHost(http.server.SimpleHTTPRequestHandler):
    """Files as a static host serves them: gzip when accepted, cacheable for ten minutes."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "max-age=600")
        super().end_headers()

    def send_head(self):  # type: ignore[no-untyped-def]
        target = Path(self.translate_path(self.path))
        if target.is_dir() and not self.path.split("?")[0].endswith("/"):
            return super().send_head()  # the redirect to the folder's address
        path = target / "index.html" if target.is_dir() else target
        accepts = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (accepts and path.is_file() and path.suffix in COMPRESSED):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return _Body(body)


class _Body:
    """What ``send_head`` returns for ``copyfile``: the compressed bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, size: int = -1) -> bytes:
        data, self.data = self.data, b""
        return data

    def close(self) -> None:
        pass


def lighthouse_bin() -> Path:
    """The pinned Lighthouse, installed with npm into ``.cache/node/`` if it is not there."""
    binary = NODE_PREFIX / "node_modules" / ".bin" / "lighthouse"
    stamp = NODE_PREFIX / "installed.txt"
    if not (binary.exists() and stamp.exists() and stamp.read_text() == LIGHTHOUSE):
        NODE_PREFIX.mkdir(parents=True, exist_ok=True)
        npm = ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(NODE_PREFIX)]
        subprocess.run([*npm, LIGHTHOUSE], check=True, stdout=subprocess.DEVNULL)
        stamp.write_text(LIGHTHOUSE)
    return binary


def build(destination: Path, url: str) -> None:
    env = dict(os.environ, SITE_URL=url, NO_MKDOCS_2_WARNING="1")
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(destination)]
    subprocess.run(command, cwd=ROOT, env=env, check=True)


def run_lighthouse(url: str, form_factor: str, report: Path) -> dict[str, float]:
    """One Lighthouse run; the four category scores out of 100."""
    command = [
        str(lighthouse_bin()),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={report}",
        "--only-categories=" + ",".join(CATEGORIES),
        "--chrome-flags=--headless=new --no-sandbox",
        *FORM_FACTORS[form_factor],
    ]
    subprocess.run(command, check=True, env=dict(os.environ, CHROME_PATH=CHROMIUM))
    result = json.loads(report.read_text(encoding="utf-8"))
    return {c: round(100 * result["categories"][c]["score"]) for c in CATEGORIES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, help="a site built for --port (else: build one)")
    parser.add_argument("--port", type=int, default=8770)
    parser.add_argument("--runs", type=int, default=3, help="runs per page and form factor")
    parser.add_argument("--threshold", type=int, default=95)
    parser.add_argument("--pages", nargs="+", default=PAGES, help="sources in docs/")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    base = f"http://127.0.0.1:{args.port}{SUB_PATH}"
    with tempfile.TemporaryDirectory(prefix="refimpl-lighthouse-") as tmp:
        served = Path(tmp)
        if args.site is None:
            build(served / SUB_PATH.strip("/"), base)
        else:
            os.symlink(args.site.resolve(), served / SUB_PATH.strip("/"))
        handler = functools.partial(StaticHost, directory=str(served))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        shutil.rmtree(REPORTS, ignore_errors=True)
        REPORTS.mkdir(parents=True)
        failed = []
        print(f"{'page':32} {'form':8} " + " ".join(f"{c:>16}" for c in CATEGORIES))
        try:
            for source in args.pages:
                for form_factor in FORM_FACTORS:
                    runs = []
                    for number in range(args.runs):
                        name = f"{source.removesuffix('.md').replace('/', '_')}-{form_factor}"
                        report = REPORTS / f"{name}-{number + 1}.json"
                        url = base + notebooks.page_url(source)
                        runs.append(run_lighthouse(url, form_factor, report))
                    median = {c: statistics.median(r[c] for r in runs) for c in CATEGORIES}
                    low = [c for c in CATEGORIES if median[c] < args.threshold]
                    failed += [f"{source} {form_factor}: {c} {median[c]:g}" for c in low]
                    cells = " ".join(
                        f"{median[c]:>4g} ({'/'.join(str(r[c]) for r in runs)})".rjust(16)
                        for c in CATEGORIES
                    )
                    print(f"{source:32} {form_factor:8} {cells}", flush=True)
        finally:
            server.shutdown()
    if failed:
        print(f"below {args.threshold}:", *failed, sep="\n  ")
        return 1
    print(f"every median score is at least {args.threshold} ({args.runs} run(s) each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
