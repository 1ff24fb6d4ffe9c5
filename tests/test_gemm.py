"""The fast kernels' matrix products: oneDNN's GEMM where it applies, ``torch.matmul`` elsewhere.

The oneDNN op is a linear layer used as a bare product (no bias, no activation); these
tests check that it computes ``a @ b`` for every operand layout the fast convolution
hands it, that its gradients are those of ``a @ b`` (twice over), that everything else
falls back to ``torch.matmul``, that the fast convolution really runs on it in float32,
and that an op that is missing or answers the probe wrongly (another torch release,
another schema) means ``torch.matmul``, with the float32 convolution still equal to torch.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from refimpl import fast
from refimpl import functional as RF
from refimpl.fast import gemm as M

ONEDNN = M.uses_onednn(torch.ones(1, 1), torch.ones(1, 1))
needs_onednn = pytest.mark.skipif(not ONEDNN, reason="this torch build has no oneDNN linear op")


def exact(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a.double() @ b.double()).float()


# (a, b) builders: the layouts conv2d passes (contiguous, transposed views, slices, an
# expanded batch) plus the shapes of one group and of several
LAYOUTS: dict[str, Callable[[], tuple[torch.Tensor, torch.Tensor]]] = {
    "contiguous": lambda: (torch.randn(37, 50), torch.randn(50, 23)),
    "b-transposed-view": lambda: (torch.randn(37, 50), torch.randn(23, 50).mT),
    "a-transposed-view": lambda: (torch.randn(50, 37).mT, torch.randn(50, 23)),
    "both-transposed": lambda: (torch.randn(50, 37).mT, torch.randn(23, 50).mT),
    "sliced": lambda: (torch.randn(80, 120)[::2, 1::2], torch.randn(60, 30)[:, :23]),
    "one-group": lambda: (torch.randn(1, 16, 72), torch.randn(1, 72, 300)),
    "groups": lambda: (torch.randn(3, 16, 72), torch.randn(3, 300, 72).mT),
    "expanded": lambda: (torch.randn(1, 9, 11).expand(4, -1, -1), torch.randn(4, 11, 6)),
}


@needs_onednn
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_onednn_product_equals_exact_product(layout):
    a, b = LAYOUTS[layout]()
    assert M.uses_onednn(a, b)
    torch.testing.assert_close(M.matmul(a, b), exact(a, b), atol=1e-4, rtol=1e-4)


@needs_onednn
def test_gradients_and_double_backward_equal_torch_matmul():
    a, b = torch.randn(7, 9), torch.randn(9, 5)
    upstream, second = torch.randn(7, 5), (torch.randn(7, 9), torch.randn(9, 5))
    results = []
    for product in (M.matmul, torch.matmul):
        x, y = a.clone().requires_grad_(), b.clone().requires_grad_()
        grads = torch.autograd.grad(product(x, y), (x, y), upstream, create_graph=True)
        again = torch.autograd.grad(grads, (x, y), second, allow_unused=True)
        results.append((*grads, *again))
    for ours, theirs in zip(*results, strict=True):
        torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "case",
    ["float64", "int64", "broadcast-batch", "vector", "empty"],
)
def test_everything_else_is_torch_matmul(case):
    a, b = {
        "float64": lambda: (torch.randn(4, 5, dtype=torch.float64), torch.randn(5, 3).double()),
        "int64": lambda: (torch.randint(-3, 3, (4, 5)), torch.randint(-3, 3, (5, 3))),
        "broadcast-batch": lambda: (torch.randn(1, 4, 5), torch.randn(3, 5, 2)),
        "vector": lambda: (torch.randn(4, 5), torch.randn(5)),
        "empty": lambda: (torch.randn(0, 5), torch.randn(5, 3)),
    }[case]()
    assert not M.uses_onednn(a, b)
    assert torch.equal(M.matmul(a, b), torch.matmul(a, b))


@needs_onednn
@pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN")  # torch's flags()
def test_switches_off_with_torch_flag_and_context():
    a, b = torch.randn(4, 5), torch.randn(5, 3)
    with torch.backends.mkldnn.flags(enabled=False):
        assert not M.uses_onednn(a, b)
        assert torch.equal(M.matmul(a, b), torch.matmul(a, b))
    with M.onednn_gemm(False):
        assert not M.uses_onednn(a, b)
    assert M.uses_onednn(a, b)


@needs_onednn
def test_conv2d_float32_runs_on_the_bare_onednn_product(monkeypatch):
    """conv2d forward and backward in float32 use the oneDNN op, and only as ``a @ b``."""
    calls = []
    op = M._lookup()

    def spy(input, weight, bias, attr, scalars, algorithm):
        calls.append((bias, attr, list(scalars), algorithm))
        return op(input, weight, bias, attr, scalars, algorithm)

    monkeypatch.setattr(M, "_lookup", lambda: spy)
    x = torch.randn(2, 6, 9, 9, requires_grad=True)
    weight = torch.randn(8, 3, 3, 3, requires_grad=True)
    out = fast.conv2d(x, weight, padding=1, groups=2)
    out.backward(torch.randn_like(out))
    assert len(calls) >= 3  # forward, weight gradient, input gradient
    assert all(call == (None, "none", [], "") for call in calls)
    expected = RF.conv2d_definition(x.double(), weight.double(), padding=1, groups=2)
    torch.testing.assert_close(out.double(), expected, atol=1e-4, rtol=1e-4)


@needs_onednn
@pytest.mark.parametrize(
    "config",
    [
        # (C_in, C_out, kernel, stride, padding, dilation, groups, size)
        (3, 8, 7, 2, 3, 1, 1, 20),
        (8, 8, 3, 1, 1, 1, 1, 12),
        (8, 16, 3, 2, 1, 1, 1, 11),
        (16, 8, 1, 2, 0, 1, 1, 10),
        (8, 12, (2, 3), (1, 2), (1, 0), (2, 1), 4, 13),
        (4, 64, 3, 1, 1, 1, 1, 3),  # the weight outgrows the input: input gradient by taps
    ],
)
def test_conv2d_float32_on_onednn_equals_the_definition(config):
    cin, cout, k, s, p, d, groups, size = config
    kernel = k if isinstance(k, tuple) else (k, k)
    x = torch.randn(3, cin, size, size)
    weight = torch.randn(cout, cin // groups, *kernel) / (cin * kernel[0] * kernel[1]) ** 0.5
    bias = torch.randn(cout)
    grads = []
    for conv, dtype in ((fast.conv2d, torch.float32), (RF.conv2d_definition, torch.float64)):
        leaves = [t.detach().to(dtype).requires_grad_() for t in (x, weight, bias)]
        out = conv(*leaves, s, p, d, groups)
        out.backward(torch.ones_like(out))
        grads.append([out.detach().double(), *(t.grad.double() for t in leaves)])
    for ours, exact_value in zip(*grads, strict=True):
        torch.testing.assert_close(ours, exact_value, atol=2e-4, rtol=1e-4)


def broken_schema(input, weight, bias, attr, scalars):  # one argument fewer: another release
    raise RuntimeError("mkldnn::_linear_pointwise() is missing value for argument 'algorithm'")


def wrong_answer(input, weight, bias, attr, scalars, algorithm):  # runs, but is not a @ b
    return torch.zeros(input.shape[0], weight.shape[0])


@pytest.mark.parametrize(
    "op", [None, broken_schema, wrong_answer], ids=["missing", "other-schema", "wrong-answer"]
)
def test_a_failed_probe_falls_back_to_torch_matmul(monkeypatch, op):
    """The probe runs once; whatever it finds wrong, float32 parity with torch still holds."""
    monkeypatch.setattr(M, "_lookup", lambda: op)
    M.onednn_works.cache_clear()
    try:
        assert not M.onednn_works()
        a, b = torch.randn(5, 7), torch.randn(7, 3)
        assert not M.uses_onednn(a, b)
        torch.testing.assert_close(M.matmul(a, b), a @ b)
        x = torch.randn(2, 6, 11, 11, requires_grad=True)
        weight = torch.randn(8, 3, 3, 3, requires_grad=True)
        ours = fast.conv2d(x, weight, stride=2, padding=1, groups=2)
        theirs = torch.nn.functional.conv2d(x, weight, stride=2, padding=1, groups=2)
        torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)
        upstream = torch.randn_like(ours)
        grads_ours = torch.autograd.grad(ours, (x, weight), upstream)
        grads_torch = torch.autograd.grad(theirs, (x, weight), upstream)
        for g, g_torch in zip(grads_ours, grads_torch, strict=True):
            torch.testing.assert_close(g, g_torch, atol=1e-4, rtol=1e-5)
    finally:
        M.onednn_works.cache_clear()  # the next caller probes the real op again


@needs_onednn
def test_the_probe_runs_once():
    calls = []
    op = M._lookup()

    def counting(*args):
        calls.append(1)
        return op(*args)

    M.onednn_works.cache_clear()
    original = M._lookup
    M._lookup = lambda: counting  # type: ignore[assignment]
    try:
        assert M.onednn_works() and M.onednn_works()
        assert len(calls) == 1
    finally:
        M._lookup = original  # type: ignore[assignment]
        M.onednn_works.cache_clear()
