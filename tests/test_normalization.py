"""Batch, layer and group normalization against torch.nn, train and eval, over several steps.

LayerNorm2d (ConvNeXt's, not a torch.nn layer) is compared with torchvision's form of it:
torch.nn.LayerNorm between two permutes.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import refimpl
from refimpl.models import torch_twin
from tests.conftest import DTYPES
from tests.parity import check_module_parity, twins

# (class, input shape, constructor kwargs)
BN_GRID = [
    ("BatchNorm1d", (8, 5), {}),
    ("BatchNorm1d", (4, 5, 7), {}),
    ("BatchNorm1d", (2, 5), {"momentum": 0.5}),  # two values per channel: smallest legal batch
    ("BatchNorm1d", (6, 5), {"momentum": None}),
    ("BatchNorm1d", (6, 5, 3), {"affine": False}),
    ("BatchNorm1d", (6, 5), {"bias": False}),
    ("BatchNorm1d", (6, 5), {"track_running_stats": False}),
    ("BatchNorm2d", (4, 3, 5, 5), {}),
    ("BatchNorm2d", (1, 3, 2, 2), {}),  # batch of one is fine for conv inputs: 4 values/channel
    ("BatchNorm2d", (4, 3, 5, 5), {"momentum": None}),
    ("BatchNorm2d", (4, 3, 5, 5), {"momentum": 0.0}),
    ("BatchNorm2d", (4, 3, 5, 5), {"momentum": 1.0}),
    ("BatchNorm2d", (4, 3, 5, 5), {"eps": 1e-2, "affine": False}),
    ("BatchNorm2d", (4, 3, 5, 5), {"track_running_stats": False}),
    ("BatchNorm2d", (4, 3, 5, 5), {"track_running_stats": False, "affine": False}),
]


def _randomize_affine(ours, theirs):
    """Non-trivial gamma/beta so their gradients and effect are really compared."""
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(torch.randn_like(p))
            dict(ours.named_parameters())[name].copy_(p)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("config", BN_GRID, ids=[f"bn{i}" for i in range(len(BN_GRID))])
def test_batch_norm_grid(config, training, dtype):
    name, shape, kwargs = config
    ours, theirs = twins(name, shape[1], dtype=dtype, **kwargs)
    _randomize_affine(ours, theirs)
    # an offset and scale far from (0, 1) make running statistics and eps matter
    x = torch.randn(shape, dtype=dtype) * 3 + 2
    check_module_parity(ours, theirs, x, training=training, steps=3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["BatchNorm1d", "BatchNorm2d"])
def test_batch_norm_train_then_eval(name, dtype):
    """Running statistics gathered in training are the ones eval normalizes with."""
    ours, theirs = twins(name, 4, dtype=dtype, momentum=None)
    shape = (6, 4) if name == "BatchNorm1d" else (3, 4, 5, 5)
    for _ in range(4):
        check_module_parity(ours, theirs, torch.randn(shape, dtype=dtype) * 2 + 1, training=True)
    check_module_parity(ours, theirs, torch.randn(shape, dtype=dtype), training=False)


def test_running_var_is_unbiased_and_normalization_biased():
    bn = refimpl.BatchNorm1d(1, momentum=1.0, affine=False, eps=1e-12)
    x = torch.tensor([[1.0], [2.0], [3.0], [6.0]])
    y = bn(x)
    assert torch.allclose(bn.running_var, x.var(unbiased=True).reshape(1))
    assert torch.allclose(y.var(unbiased=False), torch.tensor(1.0))


@given(
    st.sampled_from(["BatchNorm1d", "BatchNorm2d"]),
    st.integers(1, 4),
    st.integers(1, 5),
    st.integers(1, 4),
    st.sampled_from([0.1, 0.7, None]),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_batch_norm_random_configs(name, n, c, spatial, momentum, affine, track, training):
    shape = (n, c, spatial, spatial) if name == "BatchNorm2d" else (n, c, spatial)
    uses_batch_stats = training or not track
    if uses_batch_stats and n * spatial * (spatial if name == "BatchNorm2d" else 1) <= 1:
        shape = (2, *shape[1:])  # torch, too, refuses batch statistics of one value
    ours, theirs = twins(
        name, c, momentum=momentum, affine=affine, track_running_stats=track, dtype=torch.float64
    )
    _randomize_affine(ours, theirs)
    x = torch.randn(shape, dtype=torch.float64) * 2 - 1
    check_module_parity(ours, theirs, x, training=training, steps=2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "name, shape",
    [
        ("LazyBatchNorm1d", (8, 5)),
        ("LazyBatchNorm1d", (8, 5, 3)),
        ("LazyBatchNorm2d", (4, 3, 5, 5)),
    ],
)
def test_lazy_batch_norm_matches_torch(name, shape, dtype):
    ours = getattr(refimpl, name)(momentum=0.3).to(dtype)
    theirs = getattr(torch.nn, name)(momentum=0.3).to(dtype)
    assert repr(ours) == repr(theirs)
    check_module_parity(ours, theirs, torch.randn(shape, dtype=dtype), training=True, steps=2)
    eager = getattr(refimpl, name.removeprefix("Lazy"))
    assert type(ours) is eager and ours.num_features == shape[1]
    assert repr(ours) == repr(theirs)


LN_GRID = [
    ((4, 6), 6, {}),
    ((2, 3, 5, 5), (3, 5, 5), {}),  # over (C, H, W): the CNN use
    ((2, 3, 5, 5), (5,), {"elementwise_affine": False}),
    ((2, 3, 4), [3, 4], {"bias": False}),
    ((7,), 7, {"eps": 1e-3}),  # unbatched
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("config", LN_GRID, ids=[f"ln{i}" for i in range(len(LN_GRID))])
def test_layer_norm_grid(config, training, dtype):
    shape, normalized, kwargs = config
    ours, theirs = twins("LayerNorm", normalized, dtype=dtype, **kwargs)
    _randomize_affine(ours, theirs)
    check_module_parity(ours, theirs, torch.randn(shape, dtype=dtype) * 4 + 3, training=training)


GN_GRID = [
    (1, 6, (2, 6, 4, 4), {}),  # one group: layer norm over (C, H, W)
    (2, 6, (2, 6, 4, 4), {}),
    (6, 6, (2, 6, 4, 4), {}),  # instance norm
    (3, 6, (2, 6), {}),
    (2, 4, (3, 4, 5), {"affine": False}),
    (2, 4, (3, 4, 2, 2, 2), {"bias": False}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("config", GN_GRID, ids=[f"gn{i}" for i in range(len(GN_GRID))])
def test_group_norm_grid(config, training, dtype):
    groups, channels, shape, kwargs = config
    ours, theirs = twins("GroupNorm", groups, channels, dtype=dtype, **kwargs)
    _randomize_affine(ours, theirs)
    check_module_parity(ours, theirs, torch.randn(shape, dtype=dtype) * 2 - 1, training=training)


@given(
    st.integers(1, 4), st.sampled_from([(1, 4), (2, 4), (4, 4), (3, 6), (2, 2)]), st.integers(1, 5)
)
def test_group_norm_random_configs(n, groups_channels, spatial):
    groups, channels = groups_channels
    ours, theirs = twins("GroupNorm", groups, channels, dtype=torch.float64)
    _randomize_affine(ours, theirs)
    x = torch.randn(n, channels, spatial, spatial, dtype=torch.float64)
    if n * (channels // groups) * spatial * spatial == 1:  # torch refuses a lone value
        for module in (ours, theirs):
            with pytest.raises(ValueError, match="more than 1 value"):
                module(x)
        return
    check_module_parity(ours, theirs, x)


def layer_norm2d_twins(channels, dtype, **kwargs):
    """refimpl's LayerNorm2d, and torchvision's form: torch.nn.LayerNorm between permutes."""
    theirs = torch_twin.LayerNorm2d(channels, **kwargs).to(dtype)
    ours = refimpl.LayerNorm2d(channels, **kwargs).to(dtype)
    _randomize_affine(ours, theirs)
    return ours, theirs


LN2D_GRID = [
    ((2, 6, 5, 5), 6, {}),
    ((2, 6, 5, 5), (6,), {"eps": 1e-6}),  # ConvNeXt's eps
    ((3, 4, 1, 1), 4, {}),  # after global pooling: ConvNeXt's head
    ((1, 5, 3, 7), 5, {"elementwise_affine": False}),
    ((2, 4, 3, 3), 4, {"bias": False}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("config", LN2D_GRID, ids=[f"ln2d{i}" for i in range(len(LN2D_GRID))])
def test_layer_norm2d_grid(config, training, dtype):
    shape, channels, kwargs = config
    ours, theirs = layer_norm2d_twins(channels, dtype, **kwargs)
    check_module_parity(ours, theirs, torch.randn(shape, dtype=dtype) * 4 + 3, training=training)


@given(st.integers(1, 3), st.integers(1, 6), st.integers(1, 5), st.integers(1, 5), st.booleans())
def test_layer_norm2d_random_configs(n, c, h, w, channels_last):
    ours, theirs = layer_norm2d_twins(c, torch.float64, eps=1e-6)
    x = torch.randn(n, c, h, w, dtype=torch.float64) * 2 - 1
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    check_module_parity(ours, theirs, x)
    # both results are a permuted view of an NHWC tensor: the same memory layout
    layouts = [(y.is_contiguous(), y.is_contiguous(memory_format=torch.channels_last))
               for y in (ours(x), theirs(x))]  # fmt: skip
    assert layouts[0] == layouts[1]


def test_layer_norm2d_twin_is_permute_layer_norm_permute():
    """The reference itself: torch.nn.LayerNorm(C) over the last dim of an NHWC view."""
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    twin = torch_twin.LayerNorm2d(3, dtype=torch.float64)
    plain = torch.nn.LayerNorm(3, dtype=torch.float64)
    expected = plain(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
    assert torch.equal(twin(x), expected)


def test_layer_norm2d_normalizes_each_pixel_over_channels():
    y = refimpl.LayerNorm2d(6, eps=0.0, elementwise_affine=False)(torch.randn(2, 6, 3, 4) * 5 + 2)
    torch.testing.assert_close(y.mean(dim=1), torch.zeros(2, 3, 4), atol=1e-5, rtol=0)
    torch.testing.assert_close(y.var(dim=1, unbiased=False), torch.ones(2, 3, 4))


def test_layer_norm2d_takes_one_channel_count():
    with pytest.raises(ValueError, match=r"normalized_shape=\(4, 5\)"):
        refimpl.LayerNorm2d((4, 5))
