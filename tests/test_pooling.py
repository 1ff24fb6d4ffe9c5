"""Max, average and adaptive pooling against torch.nn: values, gradients, indices."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import refimpl
from tests.conftest import DTYPES
from tests.parity import assert_close, check_module_parity, twins

# (kernel, stride, padding, dilation, ceil_mode, input (H, W))
MAX_GRID = [
    (2, None, 0, 1, False, (4, 4)),
    (2, None, 0, 1, True, (5, 5)),
    (3, 2, 1, 1, False, (112, 112)),  # ResNet stem pool
    (3, 2, 1, 1, True, (8, 8)),
    (2, 2, 1, 1, True, (6, 6)),  # ceil window that would start in the padding is dropped
    ((2, 3), (1, 2), (1, 1), 1, False, (5, 7)),
    (3, 1, 1, 2, False, (7, 7)),  # dilation
    (3, 2, 1, (2, 1), True, (9, 6)),
    (3, 3, 0, 1, True, (10, 10)),
    (5, 1, 2, 1, False, (5, 5)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("config", MAX_GRID, ids=[f"max{i}" for i in range(len(MAX_GRID))])
def test_max_pool_grid(config, batched, dtype):
    k, s, p, d, ceil, (h, w) = config
    ours, theirs = twins("MaxPool2d", k, s, p, d, ceil_mode=ceil, dtype=dtype)
    shape = (2, 3, h, w) if batched else (3, h, w)
    check_module_parity(ours, theirs, torch.randn(shape, dtype=dtype))


@pytest.mark.parametrize("config", MAX_GRID, ids=[f"max{i}" for i in range(len(MAX_GRID))])
def test_max_pool_indices_and_ties(config):
    """Integer-valued inputs tie often; the gradient must go where torch sends it."""
    k, s, p, d, ceil, (h, w) = config
    ours, theirs = twins("MaxPool2d", k, s, p, d, return_indices=True, ceil_mode=ceil)
    x = torch.randint(0, 3, (2, 3, h, w)).float()
    check_module_parity(ours, theirs, x, output=lambda pair: pair[0])
    (_, i_ours), (_, i_theirs) = ours(x), theirs(x)
    assert torch.equal(i_ours, i_theirs)


def test_max_pool_propagates_nan():
    x = torch.randn(1, 1, 4, 4)
    x[0, 0, 1, 2] = float("nan")
    ours, theirs = twins("MaxPool2d", 2)
    assert_close(ours(x), theirs(x), "output with NaN")


# (kernel, stride, padding, ceil_mode, count_include_pad, divisor_override, input (H, W))
AVG_GRID = [
    (2, None, 0, False, True, None, (4, 4)),
    (3, 1, 1, False, True, None, (5, 5)),
    (3, 1, 1, False, False, None, (5, 5)),
    (3, 2, 1, True, True, None, (6, 6)),
    (3, 2, 1, True, False, None, (6, 6)),
    (2, 2, 1, True, True, None, (5, 5)),
    ((2, 4), (1, 3), (1, 2), True, False, None, (6, 9)),
    (3, 2, 1, False, True, 5, (7, 7)),
    (2, 3, 0, True, True, None, (8, 8)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("config", AVG_GRID, ids=[f"avg{i}" for i in range(len(AVG_GRID))])
def test_avg_pool_grid(config, batched, dtype):
    k, s, p, ceil, include, divisor, (h, w) = config
    ours, theirs = twins("AvgPool2d", k, s, p, ceil, include, divisor, dtype=dtype)
    shape = (2, 3, h, w) if batched else (3, h, w)
    check_module_parity(ours, theirs, torch.randn(shape, dtype=dtype))


@st.composite
def pool_configs(draw, with_dilation):
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    d = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if with_dilation else (1, 1)
    s = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    span = [di * (ki - 1) + 1 for ki, di in zip(k, d)]
    p = tuple(draw(st.integers(0, ki // 2)) for ki in k)  # torch: pad <= kernel_size // 2
    size = [draw(st.integers(max(1, sp - 2 * pd), sp + 7)) for sp, pd in zip(span, p)]
    return k, s, p, d, draw(st.booleans()), size


@given(pool_configs(with_dilation=True), st.sampled_from([torch.float32, torch.float64]))
def test_max_pool_random_configs(config, dtype):
    k, s, p, d, ceil, (h, w) = config
    ours, theirs = twins("MaxPool2d", k, s, p, d, ceil_mode=ceil, dtype=dtype)
    check_module_parity(ours, theirs, torch.randn(2, 2, h, w, dtype=dtype))


@given(pool_configs(with_dilation=False), st.booleans(), st.sampled_from([None, 1, 3]))
def test_avg_pool_random_configs(config, include, divisor):
    k, s, p, _, ceil, (h, w) = config
    ours, theirs = twins("AvgPool2d", k, s, p, ceil, include, divisor, dtype=torch.float64)
    check_module_parity(ours, theirs, torch.randn(2, 2, h, w, dtype=torch.float64))


ADAPTIVE_GRID = [
    (1, (2, 2)),  # global pooling, the notes' example size
    ((1, 1), (7, 7)),
    (2, (4, 4)),  # divisible: plain non-overlapping windows
    (3, (5, 5)),  # 5 -> 3: overlapping bins [0,2), [1,4), [3,5)
    ((3, 4), (7, 10)),
    ((5, 2), (3, 9)),  # more outputs than inputs along H
    ((None, 3), (6, 7)),  # None keeps the input size
    (7, (13, 13)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["AdaptiveAvgPool2d", "AdaptiveMaxPool2d"])
@pytest.mark.parametrize("config", ADAPTIVE_GRID, ids=[f"ad{i}" for i in range(len(ADAPTIVE_GRID))])
def test_adaptive_pool_grid(config, name, dtype):
    size, (h, w) = config
    ours, theirs = twins(name, size, dtype=dtype)
    check_module_parity(ours, theirs, torch.randn(2, 3, h, w, dtype=dtype))
    check_module_parity(ours, theirs, torch.randn(3, h, w, dtype=dtype))


@given(st.integers(1, 12), st.integers(1, 12), st.integers(1, 8), st.integers(1, 8), st.booleans())
def test_adaptive_pools_random_sizes(h, w, oh, ow, use_max):
    name = "AdaptiveMaxPool2d" if use_max else "AdaptiveAvgPool2d"
    ours, theirs = twins(name, (oh, ow), dtype=torch.float64)
    check_module_parity(ours, theirs, torch.randn(2, 2, h, w, dtype=torch.float64))


@pytest.mark.parametrize("config", ADAPTIVE_GRID, ids=[f"ad{i}" for i in range(len(ADAPTIVE_GRID))])
def test_adaptive_max_indices_and_ties(config):
    size, (h, w) = config
    ours, theirs = twins("AdaptiveMaxPool2d", size, return_indices=True)
    x = torch.randint(0, 3, (2, 3, h, w)).float()
    check_module_parity(ours, theirs, x, output=lambda pair: pair[0])
    assert torch.equal(ours(x)[1], theirs(x)[1])


def test_notes_example_global_average():
    X = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    pooled = refimpl.AdaptiveAvgPool2d(1)(X.unsqueeze(0))
    assert pooled.item() == X.mean().item() == 2.5


@pytest.mark.parametrize("shape", [(2, 2), (3, 4, 5), (2, 3, 4, 5), (2, 1, 3, 4, 5)])
def test_global_average_pooling_takes_any_rank_like_torch(shape):
    """An output of 1 is the mean over the last two dims, even for 2-D or 5-D inputs."""
    ours, theirs = twins("AdaptiveAvgPool2d", 1, dtype=torch.float64)
    check_module_parity(ours, theirs, torch.randn(shape, dtype=torch.float64))
