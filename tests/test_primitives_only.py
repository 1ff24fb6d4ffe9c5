"""refimpl never calls the torch.nn.functional operation it reimplements.

Two independent checks: the source never names ``torch.nn.functional`` (or the
aten/nn entry points behind it), and at run time every such entry point is
replaced by one that raises while the whole package is exercised.

Both hold for the reference ops and for the fast kernels (``refimpl/fast``), which the
run-time check exercises switched off and on. One oneDNN op is used on purpose, by the
fast kernels only: ``torch.ops.mkldnn._linear_pointwise`` as a bare matrix product (no
bias, no activation) in ``refimpl/fast/gemm.py``, the GEMM under the fast convolution;
``tests/test_gemm.py`` checks it is never called otherwise.
``refimpl.functional.linear`` itself is ``torch.matmul`` plus an addition.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch

import refimpl
from refimpl import functional as RF

PACKAGE = Path(refimpl.__file__).parent
FORBIDDEN_MODULES = {"torch.nn.functional", "torch._C._nn", "torch._C"}
# the operations refimpl reimplements, wherever torch exposes them
FORBIDDEN_OPS = [
    "conv2d",
    "convolution",
    "_convolution",
    "conv_tbc",
    "linear",
    "addmm",
    "max_pool2d",
    "max_pool2d_with_indices",
    "avg_pool2d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool2d",
    "batch_norm",
    "native_batch_norm",
    "_batch_norm_impl_index",
    "layer_norm",
    "native_layer_norm",
    "group_norm",
    "native_group_norm",
    "dropout",
    "native_dropout",
    "relu",
    "relu_",
    "relu6",
    "hardtanh",
    "hardtanh_",
    "hardswish",
    "hardswish_",
    "hardsigmoid",
    "gelu",
    "threshold",
    "pad",
    "constant_pad_nd",
    "reflection_pad2d",
    "replication_pad2d",
    "_pad_circular",
    "unfold",
    "im2col",
    "mkldnn_convolution",
]


def test_source_never_imports_torch_functional():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [f"{node.module}.{alias.name}" for alias in node.names]
                names.append(node.module or "")
            elif isinstance(node, ast.Attribute):
                names = [ast.unparse(node)]
            else:
                continue
            for name in names:
                if any(name == m or name.startswith(m + ".") for m in FORBIDDEN_MODULES):
                    offenders.append(f"{path.name}:{node.lineno}: {name}")
                if name.startswith("torch.") and name.split(".")[-1] in FORBIDDEN_OPS:
                    offenders.append(f"{path.name}:{node.lineno}: {name}")
    assert offenders == []


@pytest.fixture
def forbidden_ops(monkeypatch):
    """Replace every reimplemented op in torch, torch.nn.functional and torch._C._nn."""
    calls = []

    def trap(name):
        def raiser(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"refimpl called {name}")

        return raiser

    for namespace, label in (
        (torch, "torch"),
        (torch.nn.functional, "torch.nn.functional"),
        (torch._C._nn, "torch._C._nn"),
    ):
        for op in FORBIDDEN_OPS:
            if hasattr(namespace, op):
                monkeypatch.setattr(namespace, op, trap(f"{label}.{op}"))
    return calls


@pytest.mark.parametrize("fast_kernels", [False, True], ids=["reference", "fast"])
def test_whole_package_runs_with_torch_ops_removed(forbidden_ops, fast_kernels):
    with refimpl.fast.kernels(fast_kernels):
        exercise_the_package()
    assert forbidden_ops == []


def exercise_the_package():
    x = torch.randn(2, 4, 9, 9, requires_grad=True)
    net = torch.nn.Sequential(
        refimpl.Conv2d(4, 6, 3, padding=1, groups=2),
        refimpl.Conv2d(6, 6, 3, padding=2, padding_mode="reflect"),
        refimpl.Conv2d(6, 6, 3, padding="same", padding_mode="circular"),
        refimpl.Conv2d(6, 6, 2, padding=1, padding_mode="replicate", dilation=2),
        refimpl.BatchNorm2d(6),
        refimpl.ReLU(),
        refimpl.MaxPool2d(3, 2, 1, ceil_mode=True),
        refimpl.AvgPool2d(2, 1, 1, count_include_pad=False),
        refimpl.GroupNorm(3, 6),
        refimpl.AdaptiveMaxPool2d(3),
        refimpl.AdaptiveAvgPool2d((2, 1)),
        refimpl.Flatten(),
        refimpl.Dropout(0.3),
        refimpl.LazyLinear(5),
        refimpl.LayerNorm(5),
        refimpl.ReLU(inplace=True),
    )
    net(x).sum().backward()
    net.eval()(x)
    convnext_style = torch.nn.Sequential(
        refimpl.LayerNorm2d(4, eps=1e-6),
        refimpl.GELU(),
        refimpl.GELU("tanh"),
        refimpl.ReLU6(),
        refimpl.Hardswish(),
        refimpl.LayerScale(4),
        refimpl.StochasticDepth(0.5, "row"),
        refimpl.ReLU6(inplace=True),
        refimpl.Hardswish(inplace=True),
    )
    convnext_style(x).sum().backward()
    convnext_style.eval()(x)
    RF.max_pool2d(x, 2, return_indices=True)
    RF.adaptive_max_pool2d(x, 4, return_indices=True)
    RF.conv2d_definition(x, torch.randn(2, 4, 3, 3))
    refimpl.LazyBatchNorm1d()(torch.randn(3, 4))


def test_the_trap_itself_works(forbidden_ops):
    with pytest.raises(AssertionError, match="refimpl called"):
        torch.nn.functional.conv2d(torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 1, 1))
    assert forbidden_ops == ["torch.nn.functional.conv2d"]
