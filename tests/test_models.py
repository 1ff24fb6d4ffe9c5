"""The chapter's architectures: equal to their torch.nn twins, and shaped as in the book."""

from __future__ import annotations

import pytest
import torch
from torch.nn.modules.lazy import LazyModuleMixin

import refimpl
from refimpl import models
from refimpl.models import layer_summary, small

# factory, a small input side for the parity runs (fast in float64), the book's input side
MODELS = {
    "alexnet": (models.alexnet, 127, 224),
    "vgg11": (models.vgg11, 32, 224),
    "nin": (models.nin, 127, 224),
    "googlenet": (models.googlenet, 32, 96),
    "lenet_bn": (models.lenet_bn, 28, 28),
    "resnet18": (models.resnet18, 32, 96),
    "densenet": (models.densenet, 32, 96),
    "regnetx32": (models.regnetx32, 32, 96),
}

# The output shape of each top-level child for a (1, 1, side, side) input, as the book
# prints it in each section's layer summary.
BOOK_SHAPES = {
    "nin": [(96, 54, 54), (96, 26, 26), (256, 26, 26), (256, 12, 12), (384, 12, 12),
            (384, 5, 5), (384, 5, 5), (10, 5, 5), (10, 1, 1), (10,)],
    "googlenet": [(64, 24, 24), (192, 12, 12), (480, 6, 6), (832, 3, 3), (1024,), (10,)],
    "resnet18": [(64, 24, 24), (64, 24, 24), (128, 12, 12), (256, 6, 6), (512, 3, 3), (10,)],
    "densenet": [(64, 24, 24), (192, 24, 24), (96, 12, 12), (224, 12, 12), (112, 6, 6),
                 (240, 6, 6), (120, 3, 3), (248, 3, 3), (10,)],
    "regnetx32": [(32, 48, 48), (32, 24, 24), (80, 12, 12), (10,)],
    "vgg11": [(64, 112, 112), (128, 56, 56), (256, 28, 28), (512, 14, 14), (512, 7, 7),
              (25088,), (4096,), (4096,), (4096,), (4096,), (4096,), (4096,), (10,)],
}  # fmt: skip


def twins(name: str) -> tuple[torch.nn.Module, torch.nn.Module, torch.Tensor]:
    """The refimpl model, materialized in float64, and its torch twin from ``to_torch``."""
    factory, side, _ = MODELS[name]
    x = torch.randn(2, 1, side, side, dtype=torch.float64)
    ours = factory().double()
    ours.eval()(x)  # materialize the lazy layers
    return ours, models.to_torch(ours), x


def refimpl_layers(model: torch.nn.Module) -> list[str]:
    return [n for n, m in model.named_modules() if type(m).__module__.startswith("refimpl.modules")]


def assert_near(actual: torch.Tensor, expected: torch.Tensor, **tolerances: float) -> None:
    """``torch.testing.assert_close``, with a quick pass for tensors of one shape, dtype and
    device whose every element is within ``atol + rtol * |expected|``, its own test: the
    dense layers' gradients have millions of elements. The rest, NaNs and infinities
    included, goes to ``assert_close`` for its verdict and its message."""
    rtol, atol = tolerances["rtol"], tolerances["atol"]
    same_kind = (actual.shape, actual.dtype, actual.device) == (
        expected.shape,
        expected.dtype,
        expected.device,
    )
    if same_kind and bool(((actual - expected).abs_() <= atol + rtol * expected.abs()).all()):
        return
    torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol)


def assert_twins_agree(ours: torch.nn.Module, theirs: torch.nn.Module, x: torch.Tensor) -> None:
    """Outputs, input and parameter gradients, then buffers: in eval mode, then in training."""
    for training in (False, True):
        ours.train(training)
        theirs.train(training)
        x_ours, x_theirs = x.clone().requires_grad_(), x.clone().requires_grad_()
        torch.manual_seed(1)  # same dropout masks
        y_ours = ours(x_ours)
        torch.manual_seed(1)
        y_theirs = theirs(x_theirs)
        assert_near(y_ours, y_theirs, rtol=1e-9, atol=1e-9)
        y_ours.square().sum().backward()
        y_theirs.square().sum().backward()
        # batch norm over tiny batches is ill-conditioned: gradients agree to ~1e-7 here
        assert x_ours.grad is not None and x_theirs.grad is not None
        assert_near(x_ours.grad, x_theirs.grad, rtol=1e-6, atol=1e-6)
        grads_theirs = dict(theirs.named_parameters())
        assert grads_theirs.keys() == dict(ours.named_parameters()).keys()
        for key, p in ours.named_parameters():
            grad, grad_theirs = p.grad, grads_theirs[key].grad
            assert grad is not None and grad_theirs is not None, key
            assert_near(grad, grad_theirs, rtol=1e-6, atol=1e-6)
        buffers_theirs = dict(theirs.named_buffers())
        assert buffers_theirs.keys() == dict(ours.named_buffers()).keys()
        for key, b in ours.named_buffers():  # running statistics after the training step
            torch.testing.assert_close(b, buffers_theirs[key], msg=key)
        ours.zero_grad()
        theirs.zero_grad()


@pytest.mark.parametrize("name", MODELS)
def test_model_equals_its_torch_twin(name):
    ours, theirs, x = twins(name)
    assert refimpl_layers(theirs) == []  # every layer is torch's now ...
    assert refimpl_layers(ours) != []  # ... and the model converted is unchanged
    assert repr(theirs) == repr(ours)
    state_ours, state_theirs = ours.state_dict(), theirs.state_dict()
    assert state_theirs.keys() == state_ours.keys()
    assert all(torch.equal(state_ours[k], v) for k, v in state_theirs.items())
    assert_twins_agree(ours, theirs, x)


@pytest.mark.parametrize("name", MODELS)
def test_twin_of_an_unmaterialized_model_is_lazy_and_draws_the_same_weights(name):
    factory, side, _ = MODELS[name]
    ours = factory()
    theirs = models.to_torch(ours)
    lazy = [type(m).__name__ for m in theirs.modules() if isinstance(m, LazyModuleMixin)]
    assert lazy and all(kind.startswith("Lazy") for kind in lazy)
    assert refimpl_layers(theirs) == []
    x = torch.randn(2, 1, side, side)
    for model in (ours, theirs):
        torch.manual_seed(0)
        model.eval()(x)  # materialize: refimpl and torch initialize alike, draw for draw
    state_ours, state_theirs = ours.state_dict(), theirs.state_dict()
    assert state_theirs.keys() == state_ours.keys()
    assert all(torch.equal(state_ours[k], v) for k, v in state_theirs.items())
    # the same function too; gradients and training mode: test_model_equals_its_torch_twin
    ours, theirs, x = ours.double(), theirs.double(), x.double()
    torch.testing.assert_close(ours(x), theirs(x), rtol=1e-9, atol=1e-9)


def test_twin_keeps_blocks_and_their_forward():
    block = models.Residual(6, use_1x1conv=True, strides=2)
    block.eval()(torch.randn(2, 3, 8, 8))
    twin = models.to_torch(block)
    assert type(twin) is models.Residual and twin is not block
    assert type(twin.conv1) is torch.nn.Conv2d and type(block.conv1) is refimpl.Conv2d
    assert not twin.training  # each module's mode is kept
    block.conv3.weight.requires_grad_(False)
    assert not models.to_torch(block).conv3.weight.requires_grad


def test_twin_of_a_torch_module_is_a_copy():
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Sigmoid())
    twin = models.to_torch(net)
    assert repr(twin) == repr(net) and twin[0] is not net[0]
    assert torch.equal(twin[0].weight, net[0].weight)


class _Scale(torch.nn.Module):
    """A module with a parameter of its own: neither a refimpl layer nor torch's."""

    def __init__(self) -> None:
        super().__init__()
        self.gain = torch.nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gain * x


class _MyConv(refimpl.Conv2d):
    """A refimpl layer subclassed: its forward may no longer be Conv2d's."""


@pytest.mark.parametrize(
    "module, named",
    [
        (torch.nn.Sequential(refimpl.ReLU(), torch.nn.Sequential(_Scale())), "_Scale"),
        (_MyConv(1, 2, 3), "_MyConv"),
    ],
    ids=["own-parameter", "refimpl-subclass"],
)
def test_twin_refuses_what_it_cannot_convert(module, named):
    with pytest.raises(TypeError, match=f"cannot convert .*{named}"):
        models.to_torch(module)


@pytest.mark.parametrize("name", BOOK_SHAPES)
def test_stage_shapes_match_the_book(name):
    factory, _, side = MODELS[name]
    table = layer_summary(factory(), (1, 1, side, side))
    assert [row.output_shape[1:] for row in table.rows] == BOOK_SHAPES[name]


def test_alexnet_first_convolution_gives_54():
    table = layer_summary(models.alexnet(), (1, 1, 224, 224))
    assert table.rows[0].output_shape == (1, 96, 54, 54)
    assert table.rows[13].output_shape == (1, 6400)  # flattened 256 x 5 x 5


@pytest.mark.parametrize("name", MODELS)
def test_summary_counts_every_parameter(name):
    factory, _, side = MODELS[name]
    model = factory()
    table = layer_summary(model, (1, 1, side, side))
    assert table.total_params == sum(p.numel() for p in model.parameters())


def test_summary_macs_by_hand():
    table = layer_summary(models.alexnet(), (1, 1, 224, 224))
    first_conv = 96 * 54 * 54 * (1 * 11 * 11)  # outputs x (in_channels * kH * kW)
    assert table.rows[0].macs == first_conv
    assert table.rows[14].macs == 6400 * 4096  # dense: inputs x outputs
    assert table.rows[1].macs == 0  # ReLU
    deeper = layer_summary(models.ResNeXtBlock(32, 4, 1), (1, 32, 8, 8), depth=1)
    by_name = {row.name: row for row in deeper.rows}
    assert by_name["conv2"].macs == 32 * 8 * 8 * (32 // 4 * 3 * 3)  # grouped: C_in/groups


def test_summary_depth_two_partitions_the_model():
    model = models.resnet18()
    shallow = layer_summary(model, (1, 1, 96, 96))
    deep = layer_summary(model, (1, 1, 96, 96), depth=2)
    assert len(deep.rows) > len(shallow.rows)
    assert deep.total_params == shallow.total_params
    assert deep.total_macs == shallow.total_macs
    assert deep.rows[-1].name == "last.2"


def test_resnext_groups_is_the_cardinality():
    block = models.ResNeXtBlock(64, cardinality=8, bot_mul=0.5)
    assert block.conv2.groups == 8
    block(torch.zeros(1, 64, 4, 4))
    assert block.conv2.weight.shape == (32, 32 // 8, 3, 3)


def test_regnet_stage_cardinality_from_group_width():
    net = models.regnetx32()
    assert [b.conv2.groups for b in net.stage1] == [2] * 4  # 32 channels / width 16
    assert [b.conv2.groups for b in net.stage2] == [5] * 6  # 80 channels / width 16


def test_resnext_rejects_indivisible_cardinality():
    with pytest.raises(ValueError, match="cardinality=3"):
        models.ResNeXtBlock(32, cardinality=3, bot_mul=1)


def test_nn_is_refimpl_layers_and_torch_containers():
    for name in refimpl.modules.__all__:
        assert getattr(refimpl.nn, name) is getattr(refimpl.modules, name)
    from_torch = set(refimpl.nn.__all__) - set(refimpl.modules.__all__)
    assert from_torch == set(refimpl.nn.FROM_TORCH)
    for name in from_torch:  # torch's own class, and one that refimpl does not reimplement
        assert getattr(refimpl.nn, name) is getattr(torch.nn, name)
        assert name not in refimpl.modules.__all__


FACTORIES = {
    **{name: (factory, side) for name, (factory, side, _) in MODELS.items()},
    "lenet8": (small.lenet8, 8),
    "deep_cnn": (lambda: small.deep_cnn(2, residual=True), 8),
    "digits_cnn-gap": (lambda: small.digits_cnn(head="gap"), 8),
    "digits_cnn-fc": (lambda: small.digits_cnn(head="fc"), 8),
}


@pytest.mark.parametrize("name", FACTORIES)
def test_models_use_refimpl_layers_only(name):
    """Every module is refimpl's, or a torch.nn class that refimpl.nn takes from torch."""
    allowed = {getattr(torch.nn, n) for n in refimpl.nn.FROM_TORCH}
    factory, side = FACTORIES[name]
    model = factory()
    model.eval()(torch.zeros(2, 1, side, side))
    for key, module in model.named_modules():
        kind = type(module)
        if kind.__module__.startswith("torch."):
            assert kind in allowed, f"{name}.{key}: torch's {kind.__name__}"
        else:
            assert kind.__module__.startswith("refimpl."), f"{name}.{key}: {kind}"


def test_summary_restores_each_modules_mode():
    net = models.lenet_bn()
    net.train()
    net[1].eval()  # one layer deliberately left in eval mode
    layer_summary(net, (2, 1, 28, 28))
    assert net.training and not net[1].training and net[5].training
