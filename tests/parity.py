"""Differential-testing helpers: run a refimpl module and its torch.nn twin side by side."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

import refimpl

TOLERANCE = {
    torch.float64: {"atol": 1e-10, "rtol": 1e-9},
    torch.float32: {"atol": 1e-4, "rtol": 1e-4},
}


def twins(
    name: str, *args: Any, dtype: torch.dtype = torch.float32, **kwargs: Any
) -> tuple[nn.Module, nn.Module]:
    """``refimpl.<name>`` and ``torch.nn.<name>`` built alike; refimpl's gets torch's state."""
    theirs = getattr(nn, name)(*args, **kwargs).to(dtype)
    ours = getattr(refimpl, name)(*args, **kwargs).to(dtype)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def assert_close(actual: Tensor | None, expected: Tensor | None, what: str) -> None:
    if expected is None:
        assert actual is None, f"{what}: expected None, got a tensor"
        return
    assert actual is not None, f"{what}: expected a tensor, got None"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    tol = TOLERANCE.get(expected.dtype, {"atol": 2e-2, "rtol": 2e-2})
    torch.testing.assert_close(
        actual, expected, msg=lambda m: f"{what}: {m}", equal_nan=True, **tol
    )


def check_module_parity(
    ours: nn.Module,
    theirs: nn.Module,
    x: Tensor,
    *,
    training: bool = True,
    steps: int = 1,
    output: Callable[[Any], Tensor] = lambda y: y,
) -> None:
    """Forward and backward both modules ``steps`` times on ``x``; compare everything.

    Compared after every step: the output, the input gradient, every parameter's
    gradient, and every buffer (running statistics, ``num_batches_tracked``).
    """
    ours.train(training)
    theirs.train(training)
    for step in range(steps):
        x_ours = x.detach().clone().requires_grad_(x.is_floating_point())
        x_theirs = x.detach().clone().requires_grad_(x.is_floating_point())
        y_ours, y_theirs = output(ours(x_ours)), output(theirs(x_theirs))
        assert_close(y_ours, y_theirs, f"step {step}: output")
        if y_theirs.requires_grad:
            grad = torch.randn_like(y_theirs)
            y_ours.backward(grad)
            y_theirs.backward(grad)
            assert_close(x_ours.grad, x_theirs.grad, f"step {step}: input gradient")
        params_ours, params_theirs = dict(ours.named_parameters()), dict(theirs.named_parameters())
        assert params_ours.keys() == params_theirs.keys()
        for name, p in params_theirs.items():
            assert_close(params_ours[name].grad, p.grad, f"step {step}: gradient of {name}")
        buffers_ours, buffers_theirs = dict(ours.named_buffers()), dict(theirs.named_buffers())
        assert buffers_ours.keys() == buffers_theirs.keys()
        for name, b in buffers_theirs.items():
            assert_close(buffers_ours[name], b, f"step {step}: buffer {name}")
        ours.zero_grad()
        theirs.zero_grad()
