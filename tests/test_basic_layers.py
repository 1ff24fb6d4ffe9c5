"""Linear, LazyLinear, ReLU, Dropout and Flatten against torch.nn."""

from __future__ import annotations

import pytest
import torch

import refimpl
from tests.conftest import DTYPES
from tests.parity import assert_close, check_module_parity, twins


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5,), (4, 5), (2, 3, 5)], ids=["1d", "2d", "3d"])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(shape, bias, dtype):
    ours, theirs = twins("Linear", 5, 3, bias, dtype=dtype)
    check_module_parity(ours, theirs, torch.randn(shape, dtype=dtype))


def test_lazy_linear_matches_torch():
    x = torch.randn(4, 7)
    torch.manual_seed(3)
    ours = refimpl.LazyLinear(10)
    y_ours = ours(x)
    torch.manual_seed(3)
    theirs = torch.nn.LazyLinear(10)
    y_theirs = theirs(x)
    assert type(ours) is refimpl.Linear and ours.in_features == 7
    assert torch.equal(ours.weight, theirs.weight) and torch.equal(ours.bias, theirs.bias)
    assert_close(y_ours, y_theirs, "output")
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_including_zero_and_nan(dtype):
    ours, theirs = twins("ReLU", dtype=dtype)
    x = torch.tensor([-2.0, -0.0, 0.0, 1e-30, 3.0, float("nan")], dtype=dtype)
    check_module_parity(ours, theirs, x)


def test_relu_inplace():
    x = torch.randn(10)
    expected = torch.nn.ReLU()(x)
    y = refimpl.ReLU(inplace=True)(x)
    assert y is x and torch.equal(x, expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 1.0])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_dropout_same_mask_as_torch(p, training, dtype):
    """Seeded alike, both draw the same mask: outputs and gradients agree exactly."""
    x = torch.randn(8, 16, dtype=dtype)
    grad = torch.randn(8, 16, dtype=dtype)
    results = []
    for module in (refimpl.Dropout(p), torch.nn.Dropout(p)):
        module.train(training)
        torch.manual_seed(7)
        xi = x.clone().requires_grad_()
        y = module(xi)
        y.backward(grad)
        results.append((y.detach(), xi.grad))
    (y_ours, g_ours), (y_theirs, g_theirs) = results
    assert torch.equal(y_ours, y_theirs) and torch.equal(g_ours, g_theirs)


def test_dropout_inplace_and_statistics():
    x = torch.ones(100_000)
    y = refimpl.Dropout(0.3, inplace=True)(x)
    assert y is x
    kept = (y != 0).float().mean().item()
    assert abs(kept - 0.7) < 0.01
    assert torch.allclose(y[y != 0], torch.tensor(1 / 0.7))


@pytest.mark.parametrize("start, end", [(1, -1), (0, -1), (2, 3), (1, 2)])
def test_flatten(start, end):
    ours, theirs = twins("Flatten", start, end)
    check_module_parity(ours, theirs, torch.randn(2, 3, 4, 5))
