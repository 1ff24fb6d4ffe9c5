"""StochasticDepth and LayerScale: ConvNeXt's layers that torch.nn lacks.

Their semantics are torchvision's (``torchvision.ops.StochasticDepth``, the ``layer_scale``
parameter of ``torchvision.models.convnext.CNBlock``), tested directly: the statistics and
shape of the masks, the scaling, eval mode, the gradients. Each is also compared with its
twin in ``refimpl.models.torch_twin``, written from torch.nn's layers (the stochastic
depth twin draws its mask with ``torch.nn.Dropout``), as the models' parity tests use them.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import refimpl
from refimpl import functional as RF
from refimpl.models import torch_twin
from tests.conftest import DTYPES
from tests.parity import check_module_parity

MODES = ["row", "batch"]


def run(module: torch.nn.Module, x: torch.Tensor, seed: int = 7) -> tuple[torch.Tensor, ...]:
    """Output and input gradient of one seeded call, for a fixed output gradient."""
    x = x.detach().clone().requires_grad_()
    torch.manual_seed(seed)
    y = module(x)
    y.backward(torch.arange(y.numel(), dtype=y.dtype).reshape(y.shape))
    return y.detach(), x.grad


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 1.0])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_stochastic_depth_same_mask_as_twin(p, mode, training, dtype):
    """Seeded alike, refimpl and the torch.nn.Dropout twin keep the same examples."""
    x = torch.randn(16, 3, 4, 4, dtype=dtype)
    ours = refimpl.StochasticDepth(p, mode).train(training)
    theirs = torch_twin.StochasticDepth(p, mode).train(training)
    for got, want in zip(run(ours, x), run(theirs, x), strict=True):
        assert torch.equal(got, want)


@given(
    st.integers(1, 6),
    st.lists(st.integers(1, 3), max_size=3),
    st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]),
    st.sampled_from(MODES),
    st.integers(0, 1000),
)
def test_stochastic_depth_random_configs(n, rest, p, mode, seed):
    x = torch.randn(n, *rest, dtype=torch.float64)
    ours, theirs = refimpl.StochasticDepth(p, mode), torch_twin.StochasticDepth(p, mode)
    for got, want in zip(run(ours, x, seed), run(theirs, x, seed), strict=True):
        assert torch.equal(got, want)


def test_row_mode_keeps_or_drops_whole_examples_at_rate_1_minus_p():
    p, n = 0.3, 20_000
    x = torch.ones(n, 2, 3, 3)
    y = RF.stochastic_depth(x, p, "row")
    per_example = y.reshape(n, -1)
    assert torch.equal(per_example.amin(dim=1), per_example.amax(dim=1))  # one value per row
    kept = per_example[:, 0] != 0
    assert abs(kept.float().mean().item() - (1 - p)) < 0.01  # binomial sd ~0.003
    torch.testing.assert_close(per_example[kept], torch.full_like(per_example[kept], 1 / (1 - p)))


def test_batch_mode_keeps_or_drops_the_whole_batch():
    p, draws = 0.25, 4000
    x = torch.ones(5, 3, 2, 2)
    kept = 0
    for _ in range(draws):
        y = RF.stochastic_depth(x, p, "batch")
        assert y.unique().numel() == 1  # all dropped or all kept
        kept += int(y[0, 0, 0, 0] != 0)
    assert abs(kept / draws - (1 - p)) < 0.025  # binomial sd ~0.007


def test_expected_output_is_the_input():
    torch.manual_seed(0)
    x = torch.randn(50_000, 1, dtype=torch.float64).abs() + 1
    y = RF.stochastic_depth(x, 0.4, "row")
    assert abs(y.mean().item() / x.mean().item() - 1) < 0.02


@pytest.mark.parametrize("mode", MODES)
def test_identity_in_eval_and_at_p_0_zeros_at_p_1(mode):
    x = torch.randn(4, 3)
    assert refimpl.StochasticDepth(0.5, mode).eval()(x) is x
    assert RF.stochastic_depth(x, 0.0, mode) is x
    assert RF.stochastic_depth(x, 0.7, mode, training=False) is x
    assert torch.equal(RF.stochastic_depth(x, 1.0, mode), torch.zeros_like(x))


def test_gradient_is_the_mask():
    x = torch.randn(64, 3, dtype=torch.float64, requires_grad=True)
    y = RF.stochastic_depth(x, 0.5, "row")
    y.backward(torch.ones_like(y))
    kept = (y != 0).all(dim=1, keepdim=True).double()
    torch.testing.assert_close(x.grad, kept.expand_as(x) / 0.5)


@pytest.mark.parametrize(
    "p, mode, match",
    [(1.5, "row", "p=1.5"), (-0.1, "batch", "p=-0.1"), (0.1, "rows", "mode='rows'")],
)
def test_stochastic_depth_rejects_bad_arguments(p, mode, match):
    with pytest.raises(ValueError, match=match):
        refimpl.StochasticDepth(p, mode)
    with pytest.raises(ValueError, match=match):
        RF.stochastic_depth(torch.zeros(2, 3), p, mode)


def test_stochastic_depth_repr_as_torchvision():
    assert repr(refimpl.StochasticDepth(0.1, "row")) == "StochasticDepth(p=0.1, mode=row)"


# ---------------------------------------------------------------------------- LayerScale


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 4, 3, 3), (4, 5, 5)], ids=["batched", "unbatched"])
def test_layer_scale_equals_twin(shape, dtype):
    theirs = torch_twin.LayerScale(4, dtype=dtype)
    ours = refimpl.LayerScale(4, dtype=dtype)
    assert torch.equal(ours.gamma, theirs.gamma)  # both start at 1e-6
    with torch.no_grad():
        theirs.gamma.normal_()
        ours.gamma.copy_(theirs.gamma)
    check_module_parity(ours, theirs, torch.randn(shape, dtype=dtype))


def test_layer_scale_starts_at_init_value_per_channel():
    scale = refimpl.LayerScale(3, init_value=1e-6)
    assert scale.gamma.shape == (3, 1, 1)  # torchvision's CNBlock.layer_scale shape
    assert torch.equal(scale.gamma, torch.full((3, 1, 1), 1e-6))
    x = torch.randn(2, 3, 4, 4)
    torch.testing.assert_close(scale(x), x * 1e-6)
    with torch.no_grad():
        scale.gamma[1] = 2.0
    torch.testing.assert_close(scale(x)[:, 1], 2 * x[:, 1])  # each channel its own gain


def test_layer_scale_gradient_sums_over_batch_and_pixels():
    scale = refimpl.LayerScale(2, dtype=torch.float64)
    x = torch.randn(3, 2, 4, 4, dtype=torch.float64)
    scale(x).sum().backward()
    torch.testing.assert_close(scale.gamma.grad, x.sum(dim=(0, 2, 3)).reshape(2, 1, 1))
