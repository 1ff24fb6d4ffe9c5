"""MobileNetV2 and ConvNeXt-T: torchvision's architectures, counts and twins.

The published figures are torchvision's weights metadata (``num_params``, and ``_ops`` in
GMACs: ``torchvision/models/mobilenetv2.py`` and ``convnext.py``). The 224x224 counts are
taken on the ``meta`` device: shapes only, nothing computed, so they cost no time. The
parity runs use small inputs in float64.
"""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

import refimpl
from refimpl import models
from refimpl.models import layer_summary, small
from tests.test_models import assert_twins_agree, refimpl_layers

# builder, torchvision's num_params, torchvision's _ops (GMACs at 224x224, 3 decimals)
PUBLISHED = {
    "mobilenet_v2": (models.mobilenet_v2, 3_504_872, 0.301),
    "convnext_tiny": (models.convnext_tiny, 28_589_128, 4.456),
}


def on_meta(factory, **kwargs):
    with torch.device("meta"):
        return factory(**kwargs)


# our exact counts, so a change of even one multiply-accumulate shows
EXACT_MACS = {"mobilenet_v2": 300_774_272, "convnext_tiny": 4_455_531_264}


@pytest.mark.parametrize("name", PUBLISHED)
def test_parameters_and_macs_at_224_are_torchvision_figures(name):
    factory, params, gmacs = PUBLISHED[name]
    model = on_meta(factory)
    assert sum(p.numel() for p in model.parameters()) == params
    table = layer_summary(model, (1, 3, 224, 224), device="meta")
    assert table.total_params == params
    assert round(table.total_macs / 1e9, 3) == gmacs
    assert table.total_macs == EXACT_MACS[name]
    assert table.rows[-1].output_shape == (1, 1000)


@pytest.mark.parametrize(
    "factory", [lambda: models.mobilenet_v2(num_classes=5), small.convnext_96], ids=["mobile", "cn"]
)
def test_macs_are_half_of_torch_flop_counter(factory):
    """torch's FlopCounterMode on the torch.nn twin counts 2 FLOPs per multiply-accumulate
    of convolutions and matrix products, and nothing for norms, activations or sums:
    torchvision's ``_ops`` are that count halved, the MACs ``layer_summary`` counts."""
    model = factory().eval()
    shape = (1, model.stem[0].in_channels, 32, 32)
    table = layer_summary(model, shape)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        models.to_torch(model)(torch.zeros(shape))
    assert counter.get_total_flops() == 2 * table.total_macs


# --------------------------------------------------------------------------- MobileNetV2


def test_make_divisible_is_torchvisions_rounding():
    cases = {(32, 1.0): 32, (32, 0.5): 16, (24, 0.75): 24, (16, 0.35): 8, (1280, 1.4): 1792,
             (96, 0.35): 32, (160, 1.3): 208, (24, 1.4): 32, (320, 0.75): 240,
             (10, 1.0): 16}  # fmt: skip
    for (channels, mult), expected in cases.items():
        assert models.make_divisible(channels * mult) == expected, (channels, mult)
    # never more than 10% below the scaled width: 0.35 * 64 = 22.4 rounds to 24, 26.6 to 24
    assert models.make_divisible(22.4) == 24 and models.make_divisible(26.6) == 24
    assert models.make_divisible(91.0) == 88 and models.make_divisible(95.0) == 96


def test_mobilenet_v2_blocks_are_torchvisions():
    model = on_meta(models.mobilenet_v2)
    blocks = [m for m in model.modules() if isinstance(m, models.InvertedResidual)]
    assert len(blocks) == 17
    widths = [b.project[0].out_channels for b in blocks]
    assert widths == [16, 24, 24, 32, 32, 32, 64, 64, 64, 64, 96, 96, 96, 160, 160, 160, 320]
    strides = [b.depthwise[0].stride[0] for b in blocks]
    assert strides == [1, 2, 1, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1]
    assert blocks[0].expand is None  # expand ratio 1: no expansion convolution
    assert all(b.expand[0].out_channels == 6 * b.expand[0].in_channels for b in blocks[1:])
    assert sum(b.use_shortcut for b in blocks) == 10
    for b in blocks:
        depthwise = b.depthwise[0]
        assert depthwise.groups == depthwise.in_channels == depthwise.out_channels
        assert depthwise.kernel_size == (3, 3) and depthwise.padding == (1, 1)
        assert len(b.project) == 2  # conv and batch norm: the linear bottleneck, no ReLU6
    convs = [m for m in model.modules() if isinstance(m, refimpl.Conv2d)]
    assert len(convs) == 52 and all(c.bias is None for c in convs)
    norms = [m for m in model.modules() if isinstance(m, refimpl.BatchNorm2d)]
    assert len(norms) == 52 and all(n.eps == 1e-5 and n.momentum == 0.1 for n in norms)
    activations = [m for m in model.modules() if isinstance(m, refimpl.ReLU6)]
    assert len(activations) == 35 and all(a.inplace for a in activations)
    assert [type(m).__name__ for m in model.classifier] == [
        "AdaptiveAvgPool2d", "Flatten", "Dropout", "Linear"]  # fmt: skip
    assert model.classifier[2].p == 0.2 and model.head[0].out_channels == 1280


def test_mobilenet_v2_width_multiplier():
    model = on_meta(models.mobilenet_v2, width_mult=0.5)
    assert model.stem[0].out_channels == 16
    assert model.stage7[0].project[0].out_channels == 160
    assert model.head[0].out_channels == 1280  # the last width never shrinks
    wide = on_meta(models.mobilenet_v2, width_mult=1.4)
    assert wide.head[0].out_channels == 1792


def test_inverted_residual_rejects_stride_3():
    with pytest.raises(ValueError, match="stride=3"):
        models.InvertedResidual(8, 8, stride=3, expand_ratio=6)


# ---------------------------------------------------------------------------- ConvNeXt-T


def test_convnext_tiny_blocks_are_torchvisions():
    model = on_meta(models.convnext_tiny)
    blocks = [m for m in model.modules() if isinstance(m, models.ConvNeXtBlock)]
    assert [len(getattr(model, f"stage{i}")) for i in range(1, 5)] == [3, 3, 9, 3]
    rates = [b.stochastic_depth.p for b in blocks]
    assert rates == pytest.approx([0.1 * i / 17 for i in range(18)], abs=1e-15)
    assert all(b.stochastic_depth.mode == "row" for b in blocks)
    for b in blocks:
        c = b.depthwise.in_channels
        assert b.depthwise.kernel_size == (7, 7) and b.depthwise.padding == (3, 3)
        assert b.depthwise.groups == c and b.depthwise.bias is not None
        assert b.expand.out_features == 4 * c and b.project.out_features == c
        assert b.layer_scale.gamma.shape == (c, 1, 1) and b.layer_scale.init_value == 1e-6
        assert b.gelu.approximate == "none"
    norms = [m for m in model.modules() if isinstance(m, refimpl.LayerNorm)]
    assert len(norms) == 18 + 1 + 3 + 1 and all(n.eps == 1e-6 for n in norms)
    assert sum(isinstance(n, refimpl.LayerNorm2d) for n in norms) == 5  # stem, 3 down, head
    stem = model.stem[0]
    assert (stem.kernel_size, stem.stride, stem.padding) == ((4, 4), (4, 4), (0, 0))
    for i, (before, after) in enumerate([(96, 192), (192, 384), (384, 768)], start=2):
        norm, conv = getattr(model, f"downsample{i}")
        assert isinstance(norm, refimpl.LayerNorm2d) and norm.normalized_shape == (before,)
        assert (conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride) == (
            before, after, (2, 2), (2, 2))  # fmt: skip
    assert [type(m).__name__ for m in model.head] == [
        "AdaptiveAvgPool2d", "LayerNorm2d", "Flatten", "Linear"]  # fmt: skip


def test_convnext_block_starts_close_to_the_identity():
    block = models.ConvNeXtBlock(8).eval()
    x = torch.randn(2, 8, 6, 6)
    assert (block(x) - x).abs().max() < 1e-4  # the branch is scaled by gamma = 1e-6


# ------------------------------------------------------------------------- torch twins

TWIN_CASES = {
    # a 40x40 input leaves MobileNetV2 a 2x2 map: 8 values per channel for the last batch
    # norms in training (with fewer, batch norm amplifies rounding past the tolerance)
    "mobilenet_v2": (lambda: models.mobilenet_v2(num_classes=5), (2, 3, 40, 40)),
    # ConvNeXt-T's own code at a third of its width and depth: the same blocks, cheaper
    "convnext_96": (small.convnext_96, (2, 1, 64, 64)),
}


@pytest.mark.parametrize("name", TWIN_CASES)
def test_model_equals_its_torch_twin(name):
    """Eval and training (stochastic depth and dropout drawn alike from one seed)."""
    factory, shape = TWIN_CASES[name]
    ours = factory().double()
    theirs = models.to_torch(ours)
    assert refimpl_layers(theirs) == [] and refimpl_layers(ours) != []
    assert repr(theirs) == repr(ours)
    state_ours, state_theirs = ours.state_dict(), theirs.state_dict()
    assert list(state_theirs) == list(state_ours)
    assert all(torch.equal(state_ours[k], v) for k, v in state_theirs.items())
    assert_twins_agree(ours, theirs, torch.randn(shape, dtype=torch.float64))


def test_convnext_tiny_equals_its_torch_twin_in_eval():
    """The full ConvNeXt-T, forward only (float32, one 32x32 image: its smallest input)."""
    ours = models.convnext_tiny(num_classes=5).eval()
    theirs = models.to_torch(ours)
    assert repr(theirs) == repr(ours) and refimpl_layers(theirs) == []
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("factory", [small.mobilenet_v2_96, small.convnext_96])
def test_page_sized_models_take_96x96_grayscale(factory):
    table = layer_summary(factory(), (1, 1, 96, 96))
    assert table.rows[-1].output_shape == (1, 10)


@pytest.mark.parametrize(
    "factory",
    [models.mobilenet_v2, models.convnext_tiny, small.mobilenet_v2_96, small.convnext_96],
)
def test_models_use_refimpl_layers_only(factory):
    allowed = {getattr(torch.nn, n) for n in refimpl.nn.FROM_TORCH}
    name = factory.__name__
    model = on_meta(factory)
    for key, module in model.named_modules():
        kind = type(module)
        if kind.__module__.startswith("torch."):
            assert kind in allowed, f"{name}.{key}: torch's {kind.__name__}"
        else:
            assert kind.__module__.startswith("refimpl."), f"{name}.{key}: {kind}"


def test_initialization_is_torchvisions():
    torch.manual_seed(0)
    mobile = models.mobilenet_v2()
    conv = mobile.stage6[0].expand[0]  # 1x1, 96 -> 576 channels
    fan_out = conv.out_channels * conv.kernel_size[0] * conv.kernel_size[1]
    assert abs(conv.weight.std().item() / (2 / fan_out) ** 0.5 - 1) < 0.05  # He, fan_out
    assert abs(mobile.classifier[3].weight.std().item() / 0.01 - 1) < 0.05
    assert not mobile.classifier[3].bias.any()
    convnext = small.convnext_96()
    dense = convnext.stage3[0].expand
    assert abs(dense.weight.std().item() / 0.02 - 1) < 0.05 and dense.weight.abs().max() <= 2
    assert not dense.bias.any() and not convnext.stem[0].bias.any()
