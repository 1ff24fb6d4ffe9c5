"""Inputs at the edges of what torch accepts: empty batches, mixed precision, devices."""

from __future__ import annotations

import pytest
import torch

import refimpl
from tests.parity import check_module_parity, twins


@pytest.mark.parametrize(
    "name, args, shape",
    [
        ("Conv2d", (3, 4, 3), (0, 3, 5, 5)),
        ("Conv2d", (4, 4, 3, 1, 1, 1, 2, True, "reflect"), (0, 4, 5, 5)),
        ("MaxPool2d", (2,), (0, 3, 4, 4)),
        ("AvgPool2d", (2,), (0, 3, 4, 4)),
        ("AdaptiveAvgPool2d", (2,), (0, 3, 5, 5)),
        ("AdaptiveMaxPool2d", (2,), (0, 3, 5, 5)),
        ("Linear", (5, 2), (0, 5)),
        ("LayerNorm", (5,), (0, 5)),
        ("GroupNorm", (2, 4), (0, 4, 3)),
    ],
)
def test_empty_batch(name, args, shape):
    ours, theirs = twins(name, *args)
    assert ours(torch.zeros(shape)).shape == theirs(torch.zeros(shape)).shape


@pytest.mark.parametrize("name", ["BatchNorm1d", "BatchNorm2d"])
def test_batch_norm_empty_batch_changes_no_statistics(name):
    ours, theirs = twins(name, 3)
    shape = (0, 3) if name == "BatchNorm1d" else (0, 3, 2, 2)
    check_module_parity(ours, theirs, torch.zeros(shape), training=True)
    assert torch.equal(ours.running_mean, torch.zeros(3))


@pytest.mark.parametrize("name, args", [("BatchNorm2d", (3,)), ("GroupNorm", (3, 3))])
def test_low_precision_input_with_float32_parameters(name, args):
    ours, theirs = twins(name, *args)
    x = torch.randn(2, 3, 4, 4).to(torch.bfloat16)
    y_ours, y_theirs = ours(x), theirs(x)
    assert y_ours.dtype == y_theirs.dtype == torch.bfloat16
    torch.testing.assert_close(y_ours.float(), y_theirs.float(), atol=0.05, rtol=0.05)


CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")


@CUDA
@pytest.mark.parametrize(
    "name, args, shape",
    [
        ("Conv2d", (4, 6, 3, 2, 1, 1, 2), (2, 4, 9, 9)),
        ("Conv2d", (4, 4, 3, 1, "same", 1, 1, True, "circular"), (2, 4, 7, 7)),
        ("MaxPool2d", (3, 2, 1), (2, 3, 9, 9)),
        ("AvgPool2d", (3, 2, 1, True, False), (2, 3, 9, 9)),
        ("AdaptiveAvgPool2d", (3,), (2, 3, 7, 7)),
        ("AdaptiveMaxPool2d", (3,), (2, 3, 7, 7)),
        ("BatchNorm2d", (3,), (4, 3, 5, 5)),
        ("LayerNorm", ((3, 5, 5),), (4, 3, 5, 5)),
        ("GroupNorm", (3, 3), (4, 3, 5, 5)),
        ("Linear", (5, 4), (3, 5)),
    ],
)
def test_cuda_parity(name, args, shape):
    ours, theirs = twins(name, *args)
    ours, theirs = ours.cuda(), theirs.cuda()
    check_module_parity(ours, theirs, torch.randn(shape, device="cuda"), steps=2)


@CUDA
def test_cuda_lazy_modules_materialize_on_the_device():
    net = torch.nn.Sequential(
        refimpl.LazyConv2d(4, 3),
        refimpl.LazyBatchNorm2d(),
        refimpl.ReLU(),
        refimpl.Flatten(),
        refimpl.LazyLinear(2),
    ).cuda()
    assert net(torch.randn(2, 3, 6, 6, device="cuda")).device.type == "cuda"
    assert all(p.device.type == "cuda" for p in net.parameters())
