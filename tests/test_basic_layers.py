"""Linear, LazyLinear, the activations, Dropout and Flatten against torch.nn."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

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


# values at every piece boundary of ReLU6 (0, 6) and Hardswish (-3, 3), and NaN
SPECIAL = [-7.0, -3.0, -1e-30, -0.0, 0.0, 1e-30, 2.5, 3.0, 6.0, 6.5, float("nan")]
ACTIVATIONS = [("ReLU6", ()), ("Hardswish", ()), ("GELU", ("none",)), ("GELU", ("tanh",))]
ACTIVATION_IDS = ["relu6", "hardswish", "gelu", "gelu-tanh"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, args", ACTIVATIONS, ids=ACTIVATION_IDS)
def test_activation_at_boundaries_and_nan(name, args, dtype):
    """Values and gradients at the ends of each piece, where one-sided rules differ."""
    ours, theirs = twins(name, *args, dtype=dtype)
    check_module_parity(ours, theirs, torch.tensor(SPECIAL, dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, args", ACTIVATIONS, ids=ACTIVATION_IDS)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_activation_on_feature_maps(name, args, training, dtype):
    ours, theirs = twins(name, *args, dtype=dtype)
    x = torch.randn(2, 3, 5, 5, dtype=dtype) * 4  # spans every piece
    check_module_parity(ours, theirs, x, training=training)


@given(
    st.sampled_from(range(len(ACTIVATIONS))),
    st.lists(st.integers(1, 4), min_size=0, max_size=4),
    st.floats(0.1, 10.0),
    st.floats(-5.0, 5.0),
)
def test_activation_random_configs(index, shape, scale, shift):
    name, args = ACTIVATIONS[index]
    ours, theirs = twins(name, *args, dtype=torch.float64)
    x = torch.randn(shape, dtype=torch.float64) * scale + shift
    check_module_parity(ours, theirs, x)


@pytest.mark.parametrize("name", ["ReLU6", "Hardswish"])
def test_activation_inplace(name):
    x = torch.randn(4, 10) * 5
    expected = getattr(torch.nn, name)()(x)
    y = getattr(refimpl, name)(inplace=True)(x)
    assert y is x
    torch.testing.assert_close(x, expected)


@pytest.mark.parametrize("name", ["ReLU6", "Hardswish"])
def test_activation_inplace_gradient(name):
    """In place on an intermediate result, the gradient still matches torch's."""
    results = []
    for layers in (refimpl, torch.nn):
        x = torch.tensor(SPECIAL[:-1], dtype=torch.float64, requires_grad=True)
        getattr(layers, name)(inplace=True)(x * 1).sum().backward()
        results.append(x.grad)
    torch.testing.assert_close(results[0], results[1])


def test_gelu_is_x_times_the_normal_distribution_function():
    x = torch.linspace(-4, 4, 41, dtype=torch.float64)
    phi = torch.distributions.Normal(0.0, 1.0).cdf(x)
    torch.testing.assert_close(refimpl.GELU()(x), x * phi)
    # the tanh form is an approximation of it, good to about 5e-4
    assert (refimpl.GELU("tanh")(x) - x * phi).abs().max() < 5e-4
