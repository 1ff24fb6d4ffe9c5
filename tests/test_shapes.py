"""refimpl.shapes (pure Python) against the shapes real torch tensors take."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from refimpl import shapes


def test_shapes_module_does_not_import_torch():
    tree = ast.parse(Path(shapes.__file__).read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }
    assert "torch" not in imported


CONV_GRID = list(
    itertools.product([5, 8, 11], [1, 2, 3, 4], [1, 2, 3], [0, 1, 2], [1, 2])
)  # (n, k, s, p, d)


@pytest.mark.parametrize("n, k, s, p, d", CONV_GRID)
def test_conv_output_size_grid(n, k, s, p, d):
    span = d * (k - 1) + 1
    if span > n + 2 * p:
        with pytest.raises(ValueError, match="kernel_size"):
            shapes.conv_output_size(n, k, s, p, d)
        return
    out = torch.nn.functional.conv2d(
        torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), None, s, p, d
    )
    assert shapes.conv_output_size(n, k, s, p, d) == out.shape[-1]
    if d == 1:
        assert shapes.d2l_output_size(n, k, 2 * p, s) == out.shape[-1]


@given(
    st.integers(1, 30),
    st.integers(1, 6),
    st.integers(1, 4),
    st.integers(0, 4),
    st.integers(0, 4),
    st.integers(1, 3),
)
def test_conv_output_size_per_side_padding(n, k, s, before, after, d):
    span = d * (k - 1) + 1
    if span > n + before + after:
        return
    x = torch.nn.functional.pad(torch.zeros(1, 1, 1, n), (before, after))
    out = torch.nn.functional.conv2d(x, torch.zeros(1, 1, 1, k), stride=s, dilation=d)
    assert shapes.conv_output_size(n, k, s, (before, after), d) == out.shape[-1]


@given(st.integers(1, 30), st.integers(1, 6), st.integers(1, 3))
def test_same_and_valid(n, k, d):
    x, w = torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k)
    if d * (k - 1) + 1 <= n:
        valid = torch.nn.functional.conv2d(x, w, padding="valid", dilation=d).shape[-1]
        assert shapes.conv_output_size(n, k, padding="valid", dilation=d) == valid
    assert shapes.conv_output_size(n, k, padding="same", dilation=d) == n
    before, after = shapes.same_padding(k, d)
    assert before + after == d * (k - 1) and after - before in (0, 1)


def test_same_padding_puts_the_extra_row_after():
    """Where the odd row goes decides the values: compare against torch's 'same'."""
    torch.manual_seed(0)
    x, w = torch.randn(1, 1, 6, 6), torch.randn(1, 1, 4, 4)
    before, after = shapes.same_padding(4)
    manual = torch.nn.functional.conv2d(
        torch.nn.functional.pad(x, (before, after, before, after)), w
    )
    torch.testing.assert_close(manual, torch.nn.functional.conv2d(x, w, padding="same"))


@given(
    st.integers(1, 25),
    st.integers(1, 5),
    st.integers(1, 4),
    st.integers(0, 2),
    st.integers(1, 3),
    st.booleans(),
)
def test_pool_output_size_matches_torch(n, k, s, p, d, ceil):
    if p > k // 2 or d * (k - 1) + 1 > n + 2 * p:
        return
    out = torch.nn.functional.max_pool2d(torch.zeros(1, 1, n), (1, k), (1, s), (0, p), (1, d), ceil)
    assert shapes.pool_output_size(n, k, s, p, d, ceil) == out.shape[-1]


def test_pool_output_size_drops_a_window_starting_in_padding():
    # rounding up would give 4 windows; the 4th would start at padded index 6 = n + p
    assert (5 + 2 - 2 + 1) // 2 + 1 == 4
    assert shapes.pool_output_size(5, 2, padding=1, ceil_mode=True) == 3
    out = torch.nn.functional.max_pool2d(torch.zeros(1, 5, 5), 2, padding=1, ceil_mode=True)
    assert out.shape[-1] == 3


@given(st.integers(1, 20), st.integers(1, 20))
def test_adaptive_bins_reproduce_torch_values(n, out):
    x = torch.randn(1, 1, n, dtype=torch.float64)
    pooled = torch.nn.functional.adaptive_avg_pool2d(x, (1, out))[0, 0]
    maxed = torch.nn.functional.adaptive_max_pool2d(x, (1, out))[0, 0]
    bins = shapes.adaptive_bins(n, out)
    assert len(bins) == out
    for i, (start, end) in enumerate(bins):
        assert 0 <= start < end <= n
        torch.testing.assert_close(pooled[i], x[0, 0, start:end].mean())
        assert maxed[i] == x[0, 0, start:end].max()


def test_adaptive_bins_overlap_for_non_divisible_sizes():
    assert shapes.adaptive_bins(5, 3) == [(0, 2), (1, 4), (3, 5)]


@pytest.mark.parametrize(
    "size, kernel, stride, padding, dilation",
    [((224, 224), 11, 4, 1, 1), ((96, 80), (7, 3), (2, 1), (3, 1), 1), ((9, 9), 3, 1, "same", 2)],
)
def test_conv2d_output_shape(size, kernel, stride, padding, dilation):
    x = torch.zeros(1, 1, *size)
    w = torch.zeros(1, 1, *((kernel, kernel) if isinstance(kernel, int) else kernel))
    out = torch.nn.functional.conv2d(x, w, None, stride, padding, dilation)
    assert shapes.conv2d_output_shape(size, kernel, stride, padding, dilation) == tuple(
        out.shape[-2:]
    )


def test_pool2d_output_shape():
    out = torch.nn.functional.max_pool2d(torch.zeros(1, 7, 10), (3, 2), (2, 3), (1, 0), 1, True)
    assert shapes.pool2d_output_shape((7, 10), (3, 2), (2, 3), (1, 0), 1, True) == tuple(
        out.shape[-2:]
    )
