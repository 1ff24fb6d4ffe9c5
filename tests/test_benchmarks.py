"""The benchmark's quick mode runs in the suite, so CI keeps it working."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import torch

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_bench_layers_quick_mode_runs(capsys):
    bench = load("bench_layers")
    threads = torch.get_num_threads()
    try:  # one thread: a busy machine cannot stall it between two threads' time slices
        summary = bench.main(["--quick", "--threads", "1"])
    finally:
        torch.set_num_threads(threads)
    assert set(bench.TARGETS) <= set(summary)  # every target measured
    printed = capsys.readouterr().out
    assert "target" in printed and ("PASS" in printed or "FAIL" in printed)
