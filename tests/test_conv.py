"""Conv2d / LazyConv2d / functional.conv2d against torch.nn, on a grid and on random configs."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import refimpl
from refimpl import functional as RF
from tests.conftest import DTYPES
from tests.parity import check_module_parity, twins

# (in, out, kernel, stride, padding, dilation, groups, bias, padding_mode, input (H, W))
GRID = [
    (1, 1, 3, 1, 0, 1, 1, True, "zeros", (6, 6)),
    (3, 8, 3, 1, 1, 1, 1, True, "zeros", (8, 8)),
    (3, 4, (3, 5), (2, 1), (1, 2), 1, 1, False, "zeros", (9, 11)),
    (4, 6, 1, 2, 0, 1, 1, True, "zeros", (7, 7)),  # 1x1 stride-2 downsample
    (2, 4, 7, 2, 3, 1, 1, False, "zeros", (16, 16)),  # stem-like 7x7/2
    (4, 4, 3, 1, 2, 2, 1, True, "zeros", (9, 9)),  # dilation
    (4, 6, 3, 1, 1, (2, 1), 2, True, "zeros", (10, 8)),  # mixed dilation, groups
    (6, 6, 3, 1, 1, 1, 6, True, "zeros", (7, 7)),  # depthwise
    (4, 8, 3, 2, 1, 1, 4, False, "zeros", (9, 9)),  # depthwise multiplier 2
    (4, 6, 3, 1, "same", 1, 2, True, "zeros", (7, 8)),
    (3, 3, 4, 1, "same", 1, 1, True, "zeros", (6, 6)),  # even kernel: extra pad right/bottom
    (3, 3, 2, 1, "same", 3, 1, True, "zeros", (7, 7)),  # odd total padding via dilation
    (3, 5, 3, 1, "valid", 1, 1, True, "zeros", (6, 7)),
    (3, 4, 3, 1, 2, 1, 1, True, "reflect", (6, 6)),
    (3, 4, 3, 2, 1, 1, 1, True, "replicate", (7, 7)),
    (3, 4, 3, 1, (1, 2), 1, 1, True, "circular", (5, 6)),
    (4, 4, 3, 1, "same", 2, 2, True, "reflect", (8, 8)),
    (2, 2, 5, 3, 0, 1, 1, True, "zeros", (5, 5)),  # kernel exactly fills the input
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("config", GRID, ids=[f"conv{i}" for i in range(len(GRID))])
def test_conv2d_grid(config, batched, dtype):
    cin, cout, k, s, p, d, g, bias, mode, (h, w) = config
    ours, theirs = twins("Conv2d", cin, cout, k, s, p, d, g, bias, mode, dtype=dtype)
    x = torch.randn(2, cin, h, w, dtype=dtype) if batched else torch.randn(cin, h, w, dtype=dtype)
    check_module_parity(ours, theirs, x)


@st.composite
def conv_configs(draw):
    groups = draw(st.integers(1, 3))
    cin = groups * draw(st.integers(1, 3))
    cout = groups * draw(st.integers(1, 3))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    d = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    if draw(st.booleans()):
        s = (1, 1)
        p = draw(st.sampled_from(["same", "valid"]))
        pads = [(di * (ki - 1) + 1) // 2 + 1 if p == "same" else 0 for ki, di in zip(k, d)]
    else:
        s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        p = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
        pads = list(p)
    span = [di * (ki - 1) + 1 for ki, di in zip(k, d)]
    # the input must hold the kernel; reflect/circular padding must be smaller than it
    size = [draw(st.integers(max(1, sp - 2 * pd, pd + 1), sp + 6)) for sp, pd in zip(span, pads)]
    bias = draw(st.booleans())
    batched = draw(st.booleans())
    return cin, cout, k, s, p, d, groups, bias, mode, size, batched


@given(conv_configs(), st.sampled_from([torch.float32, torch.float64]))
def test_conv2d_random_configs(config, dtype):
    cin, cout, k, s, p, d, g, bias, mode, (h, w), batched = config
    ours, theirs = twins("Conv2d", cin, cout, k, s, p, d, g, bias, mode, dtype=dtype)
    shape = (2, cin, h, w) if batched else (cin, h, w)
    check_module_parity(ours, theirs, torch.randn(shape, dtype=dtype))


@pytest.mark.parametrize("config", GRID[:10], ids=[f"conv{i}" for i in range(10)])
def test_definition_equals_fast_path(config):
    cin, cout, k, s, p, d, g, bias, _, (h, w) = config
    conv = refimpl.Conv2d(cin, cout, k, s, p, d, g, bias).double()
    x = torch.randn(2, cin, h, w, dtype=torch.float64)
    slow = RF.conv2d_definition(
        x, conv.weight, conv.bias, conv.stride, conv.padding, conv.dilation, g
    )
    torch.testing.assert_close(slow, conv(x))


def test_lazy_conv_matches_torch_lazy_conv():
    x = torch.randn(2, 6, 9, 9)
    torch.manual_seed(1)
    ours = refimpl.LazyConv2d(4, 3, stride=2, padding=1, groups=2)
    y_ours = ours(x)
    torch.manual_seed(1)
    theirs = torch.nn.LazyConv2d(4, 3, stride=2, padding=1, groups=2)
    y_theirs = theirs(x)
    assert type(ours) is refimpl.Conv2d
    assert ours.in_channels == 6 and ours.weight.shape == (4, 3, 3, 3)
    torch.testing.assert_close(ours.weight, theirs.weight, rtol=0, atol=0)
    torch.testing.assert_close(ours.bias, theirs.bias, rtol=0, atol=0)
    torch.testing.assert_close(y_ours, y_theirs)
    assert repr(ours) == repr(theirs)


def test_lazy_conv_unbatched_and_without_bias():
    conv = refimpl.LazyConv2d(5, (1, 3), bias=False)
    assert conv(torch.randn(3, 4, 6)).shape == (5, 4, 4)
    assert type(conv) is refimpl.Conv2d and conv.bias is None and conv.in_channels == 3
