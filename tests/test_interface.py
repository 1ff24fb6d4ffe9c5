"""Each refimpl module is a drop-in for its torch.nn namesake: signature, state, init, repr.

The three layers torch.nn lacks are compared with their twins in refimpl.models.torch_twin.
"""

from __future__ import annotations

import inspect

import pytest
import torch
from torch import nn

import refimpl
from refimpl.models import to_torch
from refimpl.models.torch_twin import TWINS

MODULES = [name for name in refimpl.__all__ if name[0].isupper()]


def torch_class(name: str) -> type[nn.Module]:
    """``torch.nn``'s class of that name, or the twin of a layer torch.nn lacks
    (``LayerNorm2d``, ``StochasticDepth``, ``LayerScale``: torchvision's, written from torch.nn)."""
    return TWINS[getattr(refimpl, name)]


# constructor arguments for each module, several to exercise every repr branch
EXAMPLES = {
    "Conv2d": [(3, 8, 3), (4, 4, (3, 5), 2, (1, 2), 2, 2, False, "reflect"), (4, 4, 3, 1, "same")],
    "LazyConv2d": [(8, 3), (4, 2, 2, 1, 1, 2, False, "circular")],
    "Linear": [(5, 3), (5, 3, False)],
    "LazyLinear": [(3,), (3, False)],
    "MaxPool2d": [(2,), ((3, 2), (2, 1), 1, 2, True, True)],
    "AvgPool2d": [(2,), (3, 2, 1, True, False, 4)],
    "AdaptiveAvgPool2d": [(1,), ((2, None),)],
    "AdaptiveMaxPool2d": [((3, 4),), (2, True)],
    "BatchNorm1d": [(5,), (5, 1e-3, None, False, False)],
    "BatchNorm2d": [(5,), (5, 1e-5, 0.3, True, True)],
    "LazyBatchNorm1d": [(), (1e-3, None, False, False)],
    "LazyBatchNorm2d": [(), (1e-5, 0.2)],
    "LayerNorm": [(5,), ((3, 4), 1e-3, False), ([2, 3], 1e-5, True, False)],
    "GroupNorm": [(2, 4), (1, 6, 1e-3, False)],
    "ReLU": [(), (True,)],
    "Flatten": [(), (0, 2)],
    "Dropout": [(), (0.2, True)],
    "ReLU6": [(), (True,)],
    "Hardswish": [(), (True,)],
    "GELU": [(), ("tanh",)],
    "LayerNorm2d": [(5,), ((3,), 1e-6, False), (4, 1e-5, True, False)],
    "StochasticDepth": [(0.1, "row"), (0.0, "batch")],
    "LayerScale": [(4,), (3, 0.1)],
}
KEYWORD_EXAMPLES = {"BatchNorm2d": {"bias": False}, "GroupNorm": {"bias": False}}


def _case_list():
    for name in MODULES:
        for args in EXAMPLES[name]:
            yield pytest.param(name, args, {}, id=f"{name}{args}")
        if name in KEYWORD_EXAMPLES:
            yield pytest.param(name, EXAMPLES[name][0], KEYWORD_EXAMPLES[name], id=f"{name}-kw")


CASES = list(_case_list())


def test_every_public_module_has_examples():
    assert sorted(EXAMPLES) == sorted(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_constructor_signature_equals_torch(name):
    ours = inspect.signature(getattr(refimpl, name).__init__).parameters
    theirs = inspect.signature(torch_class(name).__init__).parameters
    assert [(p.name, p.kind, p.default) for p in ours.values()] == [
        (p.name, p.kind, p.default) for p in theirs.values()
    ]


@pytest.mark.parametrize("name, args, kwargs", CASES)
def test_repr_equals_torch(name, args, kwargs):
    assert repr(getattr(refimpl, name)(*args, **kwargs)) == repr(torch_class(name)(*args, **kwargs))


@pytest.mark.parametrize("name, args, kwargs", CASES)
def test_same_initialization_and_state_dict_both_ways(name, args, kwargs):
    torch.manual_seed(11)
    ours = getattr(refimpl, name)(*args, **kwargs)
    torch.manual_seed(11)
    theirs = torch_class(name)(*args, **kwargs)
    if name.startswith("Lazy"):  # materialize both from the same input, same seed
        x = torch.randn(4, 6, 5, 5) if "Conv" in name or "2d" in name else torch.randn(4, 6)
        torch.manual_seed(12)
        ours.eval()(x)  # eval: batch norm's statistics stay as initialized
        torch.manual_seed(12)
        theirs.eval()(x)
    state_ours, state_theirs = ours.state_dict(), theirs.state_dict()
    assert list(state_ours) == list(state_theirs)
    for key, value in state_theirs.items():
        assert state_ours[key].shape == value.shape and state_ours[key].dtype == value.dtype
        assert torch.equal(state_ours[key], value), f"{key} initialized differently"
    # perturb and load across, in both directions, strictly
    perturbed = {k: v + 1 if v.is_floating_point() else v + 2 for k, v in state_theirs.items()}
    ours.load_state_dict(perturbed)
    theirs.load_state_dict(ours.state_dict())
    for key, value in theirs.state_dict().items():
        assert torch.equal(value, perturbed[key])


@pytest.mark.parametrize("name, args, kwargs", CASES)
def test_to_torch_gives_the_namesake_with_the_same_arguments_and_state(name, args, kwargs):
    torch.manual_seed(11)
    ours = getattr(refimpl, name)(*args, **kwargs).double().eval()
    twin = to_torch(ours)
    assert type(twin) is torch_class(name) and type(ours) is getattr(refimpl, name)
    assert repr(twin) == repr(ours) and not twin.training
    if name.startswith("Lazy"):  # twin still lazy: both materialize from one input, one seed
        x = torch.randn(4, 6, 5, 5) if "Conv" in name or "2d" in name else torch.randn(4, 6)
        for module in (ours, twin):
            torch.manual_seed(12)
            module(x.double())
    state_ours, state_twin = ours.state_dict(), twin.state_dict()
    assert list(state_twin) == list(state_ours)
    for key, value in state_twin.items():
        assert value.dtype == state_ours[key].dtype
        assert torch.equal(value, state_ours[key]), key


def test_modules_compose_with_sequential():
    def build(layers):
        return nn.Sequential(
            layers.Conv2d(1, 4, 3, padding=1),
            layers.BatchNorm2d(4),
            layers.ReLU(),
            layers.MaxPool2d(2),
            layers.Conv2d(4, 8, 3, groups=2),
            layers.GroupNorm(2, 8),
            layers.AdaptiveAvgPool2d(1),
            layers.Flatten(),
            layers.Dropout(0.1),
            layers.Linear(8, 3),
            layers.LayerNorm(3),
        )

    torch.manual_seed(0)
    ours, theirs = build(refimpl), build(nn)
    theirs.load_state_dict(ours.state_dict())
    assert repr(ours) == repr(theirs)
    x = torch.randn(5, 1, 12, 12)
    for training in (True, False):
        ours.train(training)
        theirs.train(training)
        torch.manual_seed(1)
        y_ours = ours(x)
        torch.manual_seed(1)
        y_theirs = theirs(x)
        torch.testing.assert_close(y_ours, y_theirs, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_low_precision_dtypes(dtype):
    """Half-precision parameters and inputs work and stay close to torch."""
    layers = [
        ("Conv2d", (3, 4, 3), (2, 3, 8, 8)),
        ("Linear", (6, 4), (3, 6)),
        ("MaxPool2d", (2,), (2, 3, 6, 6)),
        ("AvgPool2d", (3, 1, 1), (2, 3, 6, 6)),
        ("AdaptiveAvgPool2d", (3,), (2, 3, 7, 7)),
        ("AdaptiveMaxPool2d", (3,), (2, 3, 7, 7)),
        ("BatchNorm2d", (3,), (2, 3, 5, 5)),
        ("LayerNorm", (6,), (3, 6)),
        ("GroupNorm", (3, 3), (2, 3, 5, 5)),
    ]
    for name, args, shape in layers:
        theirs = getattr(nn, name)(*args).to(dtype)
        ours = getattr(refimpl, name)(*args).to(dtype)
        ours.load_state_dict(theirs.state_dict())
        x = torch.randn(shape).to(dtype)
        y_ours, y_theirs = ours(x), theirs(x)
        assert y_ours.dtype == dtype, name
        torch.testing.assert_close(y_ours.float(), y_theirs.float(), atol=0.05, rtol=0.05)
