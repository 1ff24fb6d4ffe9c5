"""Where the docs build spends its time executing code blocks: seconds per page and block.

Runs every executed block of the site's pages with the same sessions markdown-exec
uses during ``mkdocs build`` (``tests/docs_blocks.py``), in the build's page order, and
prints the seconds spent per page, the slowest blocks, and the peak resident memory.
The build itself adds Markdown rendering and mkdocstrings on top of this.

    python benchmarks/profile_docs.py              # every page
    python benchmarks/profile_docs.py --top 15     # and the 15 slowest blocks
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.docs_blocks import DOCS, Block, Sessions, blocks, pages  # noqa: E402


def profile(top: int) -> float:
    """Run every page's blocks; print the breakdown; return the total seconds."""
    sessions = Sessions()
    per_page: list[tuple[str, int, float]] = []
    per_block: list[tuple[float, Block]] = []
    import_start = time.perf_counter()
    import torch  # noqa: F401  (imported once by the build too; timed apart from the pages)

    import refimpl  # noqa: F401

    import_s = time.perf_counter() - import_start
    for page in pages():
        page_blocks = blocks(page)
        page_s = 0.0
        for block in page_blocks:
            start = time.perf_counter()
            sessions.run(block)
            took = time.perf_counter() - start
            page_s += took
            per_block.append((took, block))
        per_page.append((str(page.relative_to(DOCS)), len(page_blocks), page_s))
    total = import_s + sum(s for _, _, s in per_page)
    print(f"{'page':<40}{'blocks':>7}{'seconds':>9}{'share':>7}")
    print(f"{'(import torch, refimpl)':<40}{'':>7}{import_s:>9.2f}{import_s / total:>7.0%}")
    for name, count, seconds in sorted(per_page, key=lambda row: -row[2]):
        print(f"{name:<40}{count:>7}{seconds:>9.2f}{seconds / total:>7.0%}")
    print(f"{'total':<40}{sum(c for _, c, _ in per_page):>7}{total:>9.2f}")
    if top:
        print(f"\nslowest {top} blocks")
        for seconds, block in sorted(per_block, key=lambda row: -row[0])[:top]:
            first = block.code.strip().splitlines()[0][:60] if block.code.strip() else ""
            print(f"{seconds:>7.2f} s  {block.where:<36} {first}")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak resident memory of this process: {peak_mib:.0f} MiB")
    return total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=10, help="list this many slowest blocks")
    args = parser.parse_args(argv)
    profile(args.top)


if __name__ == "__main__":
    main()
