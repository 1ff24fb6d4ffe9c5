"""The fast kernels equal the reference ops they replace: values, gradients, ties, layouts.

``refimpl.fast.conv2d`` (im2col in blocks with its own backward: the input gradient as a
transposed convolution or folded back tap by tap; a tap loop for depthwise filters),
``max_pool2d`` (a running maximum over kernel taps, first-hit masks in the backward),
``batch_norm`` (two summing passes, a closed-form backward) and ``relu`` (a 0/1 mask in
the backward) are each compared here with the reference in ``refimpl.functional`` or
a slow definition, and with torch. Tests about behaviour both must share (ties, NaN,
layouts) run on both, parametrized ``reference`` / ``fast``. The switch itself
(``refimpl.fast.kernels``, ``set_enabled``, ``REFIMPL_FAST_KERNELS``) is tested last.
"""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.autograd import gradcheck, gradgradcheck

import refimpl
from refimpl import fast as FAST
from refimpl import functional as RF
from refimpl.fast import conv as conv_module

# the reference bodies, whatever the switch says (the suite may run with it on)
REFERENCE = SimpleNamespace(
    conv2d=RF.conv2d.reference,
    max_pool2d=RF.max_pool2d.reference,
    batch_norm=RF.batch_norm.reference,
    relu=RF.relu.reference,
)
BOTH = [pytest.param(REFERENCE, id="reference"), pytest.param(FAST, id="fast")]


def f64(*shape: int, requires_grad: bool = True) -> torch.Tensor:
    return torch.randn(*shape, dtype=torch.float64, requires_grad=requires_grad)


def values_and_grads(fn, *inputs: torch.Tensor, grad: torch.Tensor | None = None):
    """``fn(*inputs)`` and the gradients of every input for the upstream gradient ``grad``."""
    leaves = [t.detach().clone().requires_grad_() for t in inputs]
    out = fn(*leaves)
    upstream = torch.randn_like(out) if grad is None else grad
    grads = torch.autograd.grad(out, leaves, upstream)
    return out.detach(), upstream, grads


def assert_same_function(fast, slow, *inputs: torch.Tensor, atol: float = 1e-10) -> None:
    out_fast, upstream, grads_fast = values_and_grads(fast, *inputs)
    out_slow, _, grads_slow = values_and_grads(slow, *inputs, grad=upstream)
    torch.testing.assert_close(out_fast, out_slow, atol=atol, rtol=atol)
    for g_fast, g_slow in zip(grads_fast, grads_slow, strict=True):
        torch.testing.assert_close(g_fast, g_slow, atol=atol, rtol=atol)


# --- convolution -------------------------------------------------------------------------


@st.composite
def conv_configs(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    depthwise = groups > 1 and draw(st.booleans())
    group_in = 1 if depthwise else draw(st.integers(1, 3))
    group_out = draw(st.integers(1, 3))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    span = [di * (ki - 1) + 1 for ki, di in zip(k, d)]
    size = [draw(st.integers(max(1, sp - 2 * pd), sp + 6)) for sp, pd in zip(span, p)]
    bias = draw(st.booleans())
    return groups, group_in, group_out, k, s, d, p, size, bias


@given(conv_configs())
def test_fast_conv2d_equals_its_definition(config):
    """Every path (im2col, grouped, depthwise) against the one-pixel-at-a-time definition."""
    groups, group_in, group_out, k, s, d, p, (h, w), with_bias = config
    x = f64(2, groups * group_in, h, w)
    weight = f64(groups * group_out, group_in, *k)
    bias = f64(groups * group_out)
    args = (s, p, d, groups)
    if with_bias:
        assert_same_function(
            lambda x, w, b: FAST.conv2d(x, w, b, *args),
            lambda x, w, b: RF.conv2d_definition(x, w, b, *args),
            x,
            weight,
            bias,
        )
    else:
        assert_same_function(
            lambda x, w: FAST.conv2d(x, w, None, *args),
            lambda x, w: RF.conv2d_definition(x, w, None, *args),
            x,
            weight,
        )


@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_in_image_blocks_equals_one_block(monkeypatch, groups):
    """Columns built a few images at a time give what one block for the whole batch gives."""
    x, weight, bias = f64(5, 4, 9, 8), f64(6, 4 // groups, 3, 3), f64(6)

    def conv(x, w, b):
        return FAST.conv2d(x, w, b, 2, 1, 1, groups)

    whole = values_and_grads(conv, x, weight, bias)
    blocks = []
    image_blocks = conv_module._Geometry.image_blocks

    def spy(self, n, itemsize):
        blocks.append(image_blocks(self, n, itemsize))
        return blocks[-1]

    columns_per_image = 5 * 4 * 9 * 4 * x.element_size()  # (Ho * Wo) * (kH * kW * C_in)
    monkeypatch.setattr(conv_module, "_BLOCK_BYTES", 2 * columns_per_image)
    monkeypatch.setattr(conv_module._Geometry, "image_blocks", spy)
    out, _, grads = values_and_grads(conv, x, weight, bias, grad=whole[1])
    assert blocks[0] == [(0, 2), (2, 4), (4, 5)]
    torch.testing.assert_close(out, whole[0])
    for g, g_whole in zip(grads, whole[2], strict=True):
        torch.testing.assert_close(g, g_whole)


@pytest.mark.parametrize(
    "layout",
    [
        lambda x: x.contiguous(memory_format=torch.channels_last),
        lambda x: x.transpose(2, 3).contiguous().transpose(2, 3),
        lambda x: x[:, :, ::2, ::2],
    ],
    ids=["channels_last", "transposed", "strided"],
)
@pytest.mark.parametrize("ops", BOTH)
def test_conv2d_any_input_layout(layout, ops):
    x, weight = layout(f64(2, 3, 12, 12)), f64(4, 3, 3, 3)
    expected = RF.conv2d_definition(x.contiguous(), weight, padding=1)
    torch.testing.assert_close(ops.conv2d(x, weight, padding=1), expected)


@pytest.mark.parametrize("ops", BOTH)
@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_output_is_contiguous_like_torch(groups, ops):
    """Same layout as torch's output, so ``.view`` and dropout masks behave the same."""
    out = ops.conv2d(torch.randn(2, 4, 8, 8), torch.randn(6, 4 // groups, 3, 3), groups=groups)
    assert out.is_contiguous()


@pytest.mark.parametrize(
    "groups, weight_shape",
    [(1, (3, 2, 2, 3)), (2, (4, 1, 3, 2)), (4, (8, 1, 3, 3))],
    ids=["dense", "grouped", "depthwise-multiplier-2"],
)
@pytest.mark.parametrize("ops", BOTH)
def test_conv2d_double_backward(groups, weight_shape, ops):
    x = f64(2, weight_shape[1] * groups, 5, 6)
    weight, bias = f64(*weight_shape), f64(weight_shape[0])

    def conv(x, w, b):
        return ops.conv2d(x, w, b, (1, 2), 1, (2, 1), groups)

    assert gradcheck(conv, (x, weight, bias))
    assert gradgradcheck(conv, (x, weight, bias))


@pytest.mark.parametrize("path", ["as-conv", "by-taps"])
@pytest.mark.parametrize(
    "config",
    [
        # (kernel, padding, dilation, groups): every stride-1 case the as-conv path takes
        ((3, 3), 1, 1, 1),
        ((2, 3), (0, 2), (2, 1), 2),
        ((1, 1), 0, 1, 1),
        ((4, 4), "same", 1, 1),  # 'same' with an even kernel: unequal per-side padding
    ],
)
def test_conv2d_input_gradient_paths_equal_the_definition(monkeypatch, path, config):
    """Stride 1 picks a path by weight size: both must give the definition's gradients."""
    kernel, padding, dilation, groups = config
    ratio = 10**9 if path == "as-conv" else -1
    monkeypatch.setattr(conv_module, "_AS_CONV_MAX_WEIGHT_RATIO", ratio)
    spied = []
    for name in ("_input_gradient_as_conv", "_input_gradient_by_taps"):
        original = getattr(conv_module, name)

        def spy(*args, _original=original, _name=name):
            spied.append(_name)
            return _original(*args)

        monkeypatch.setattr(conv_module, name, spy)
    x, weight = f64(2, 2 * groups, 7, 8), f64(3 * groups, 2, *kernel)
    assert_same_function(
        lambda x, w: FAST.conv2d(x, w, None, 1, padding, dilation, groups),
        lambda x, w: RF.conv2d_definition(x, w, None, 1, padding, dilation, groups),
        x,
        weight,
    )
    assert spied == ["_input_gradient_" + path.replace("-", "_")]


@pytest.mark.parametrize("ops", BOTH)
def test_conv2d_float32_matches_torch_on_a_resnet_shape(ops):
    x, weight = torch.randn(2, 64, 14, 14), torch.randn(64, 64, 3, 3) * 0.05
    ours, upstream, grads = values_and_grads(lambda x, w: ops.conv2d(x, w, padding=1), x, weight)
    theirs, _, grads_torch = values_and_grads(
        lambda x, w: torch.nn.functional.conv2d(x, w, padding=1), x, weight, grad=upstream
    )
    torch.testing.assert_close(ours, theirs, atol=1e-4, rtol=1e-4)
    for g, g_torch in zip(grads, grads_torch, strict=True):
        torch.testing.assert_close(g, g_torch, atol=1e-3, rtol=1e-4)


# --- max pooling -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [(3, 2, 1, 1, False), (2, 2, 0, 1, True), (3, 1, 1, 2, False), ((2, 3), (1, 2), 1, 1, True)],
)
@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
def test_fast_max_pool_equals_the_reference(config, ties):
    """The reference gathers every window and takes its first maximum (autograd's max)."""
    x = torch.randint(0, 3, (2, 3, 9, 8)).double() if ties else f64(2, 3, 9, 8)
    assert_same_function(
        lambda x: FAST.max_pool2d(x, *config),
        lambda x: REFERENCE.max_pool2d(x, *config),
        x,
    )
    indices = [ops.max_pool2d(x, *config, return_indices=True)[1] for ops in (FAST, REFERENCE)]
    assert torch.equal(*indices)


@pytest.mark.parametrize("ops", BOTH)
def test_max_pool_sends_a_tie_to_the_first_maximum(ops):
    """All equal: each window's gradient goes to its top-left input, as torch sends it."""
    x = torch.ones(1, 1, 4, 4, requires_grad=True)
    ops.max_pool2d(x, 2, 1).sum().backward()
    expected = torch.tensor([[1.0, 1, 1, 0], [1, 1, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0]])
    torch.testing.assert_close(x.grad[0, 0], expected)


@pytest.mark.parametrize("ops", BOTH)
def test_max_pool_nan_and_all_minus_infinity_windows_match_torch(ops):
    x = torch.randn(1, 2, 6, 6)
    x[0, 0, 1, 2] = float("nan")
    x[0, 1, :3, :3] = float("-inf")
    ours_in, torch_in = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours = ops.max_pool2d(ours_in, 3, 2, 1)
    theirs = torch.nn.functional.max_pool2d(torch_in, 3, 2, 1)
    torch.testing.assert_close(ours, theirs, equal_nan=True)
    grad = torch.randn_like(theirs)
    ours.backward(grad)
    theirs.backward(grad)
    torch.testing.assert_close(ours_in.grad, torch_in.grad)


@pytest.mark.parametrize("ops", BOTH)
def test_max_pool_backward_with_non_finite_gradients_matches_torch(ops):
    """Masks multiply, and inf * 0 is NaN: such gradients must still reach only maxima."""
    x = torch.randn(1, 2, 7, 7)
    grads = []
    for max_pool in (ops.max_pool2d, torch.nn.functional.max_pool2d):
        leaf = x.clone().requires_grad_()
        out = max_pool(leaf, 3, 2, 1)
        upstream = torch.ones_like(out)
        upstream[0, 0, 1, 1], upstream[0, 1, 2, 0] = float("inf"), float("nan")
        out.backward(upstream)
        grads.append(leaf.grad)
    torch.testing.assert_close(grads[0], grads[1], equal_nan=True)
    assert grads[0].isinf().sum() >= 1 and grads[0].isnan().sum() >= 1


@pytest.mark.parametrize("ops", BOTH)
def test_relu_inplace_on_a_leaf_is_refused_before_writing(ops):
    x = torch.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        ops.relu(x, inplace=True)
    assert x.tolist() == [-1.0, 2.0]


@pytest.mark.parametrize("ops", BOTH)
def test_max_pool_takes_channels_last_and_integers(ops):
    x = torch.randn(2, 4, 9, 9).contiguous(memory_format=torch.channels_last)
    out = ops.max_pool2d(x, 3, 2, 1)
    torch.testing.assert_close(out, torch.nn.functional.max_pool2d(x, 3, 2, 1))
    ints = torch.randint(-5, 5, (1, 2, 7, 7))
    assert torch.equal(ops.max_pool2d(ints, 3, 2, 1), torch.nn.functional.max_pool2d(ints, 3, 2, 1))


def test_fast_max_pool_keeps_channels_last():
    x = torch.randn(2, 4, 9, 9).contiguous(memory_format=torch.channels_last)
    assert FAST.max_pool2d(x, 3, 2, 1).is_contiguous(memory_format=torch.channels_last)


# --- ReLU ---------------------------------------------------------------------------------


@pytest.mark.parametrize("ops", BOTH)
def test_relu_backward_with_non_finite_gradients_matches_torch(ops):
    """inf * 0 is NaN, so a mask multiply alone would differ; torch gives 0 there."""
    x = torch.tensor([-1.0, 0.0, 2.0, -3.0, float("nan"), 4.0])
    grad = torch.tensor([float("inf"), float("nan"), 1.0, float("-inf"), 5.0, float("nan")])
    grads = []
    for relu in (ops.relu, torch.relu):
        leaf = x.clone().requires_grad_()
        relu(leaf).backward(grad)
        grads.append(leaf.grad)
    torch.testing.assert_close(grads[0], grads[1], equal_nan=True)
    assert grads[0][0] == 0 and grads[0][3] == 0


@pytest.mark.parametrize("ops", BOTH)
def test_relu_inplace_under_autograd_matches_torch(ops):
    x = torch.randn(4, 5)
    results = []
    for relu in (lambda t: ops.relu(t, inplace=True), lambda t: torch.relu_(t)):
        leaf = x.clone().requires_grad_()
        hidden = leaf * 2.0  # in place needs a non-leaf
        out = relu(hidden)
        assert out is hidden
        out.backward(torch.ones_like(out))
        results.append((out.detach(), leaf.grad))
    for ours, theirs in zip(*results, strict=True):
        torch.testing.assert_close(ours, theirs)


# --- batch normalization -----------------------------------------------------------------


def batch_norm_unfolded(x, weight, bias, eps=1e-5):
    """``(x - mean) / sqrt(var + eps) * weight + bias``, step by step, as the formula reads."""
    dims = [0, *range(2, x.dim())]
    view = (1, -1, *[1] * (x.dim() - 2))
    mean = x.mean(dim=dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * weight.view(view) + bias.view(view)


@pytest.mark.parametrize("ops", BOTH)
@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 4, 5)])
def test_batch_norm_equals_the_unfolded_formula(shape, ops):
    x, weight, bias = f64(*shape), f64(shape[1]), f64(shape[1])
    assert_same_function(
        lambda x, w, b: ops.batch_norm(x, None, None, w, b, training=True),
        batch_norm_unfolded,
        x,
        weight,
        bias,
    )


@pytest.mark.parametrize("ops", BOTH)
def test_batch_norm_keeps_float32_accuracy_with_a_large_mean(ops):
    """Two passes (mean, then squared deviations) stay accurate when |mean| / std is 1000."""
    x = torch.randn(8, 4, 6, 6) + 1000.0
    ours = ops.batch_norm(x, None, None, training=True)
    exact = batch_norm_unfolded(x.double(), torch.ones(4).double(), torch.zeros(4).double())
    theirs = torch.nn.functional.batch_norm(x, None, None, training=True)
    error_ours = (ours.double() - exact).abs().max()
    error_torch = (theirs.double() - exact).abs().max()
    assert error_ours <= 2 * error_torch + 1e-6


@pytest.mark.parametrize("ops", BOTH)
def test_batch_norm_channels_last_input(ops):
    x = torch.randn(4, 3, 5, 5).contiguous(memory_format=torch.channels_last)
    mean, var = torch.zeros(3), torch.ones(3)
    mean_torch, var_torch = mean.clone(), var.clone()
    ours = ops.batch_norm(x, mean, var, training=True)
    theirs = torch.nn.functional.batch_norm(x, mean_torch, var_torch, training=True)
    torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(var, var_torch)
    assert ours.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("ops", BOTH)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batch_norm_without_autograd_equals_with_it(training, ops):
    """With no graph to record, the output reuses the centered copy: same values, x intact."""
    x, weight, bias = torch.randn(4, 3, 5, 5), torch.rand(3) + 0.5, torch.randn(3)
    kept = x.clone()
    stats = torch.randn(3), torch.rand(3) + 0.5
    with torch.no_grad():
        fast = ops.batch_norm(x, *(s.clone() for s in stats), weight, bias, training)
    recorded = ops.batch_norm(
        x.requires_grad_(), *(s.clone() for s in stats), weight, bias, training
    )
    torch.testing.assert_close(fast, recorded)
    assert torch.equal(x.detach(), kept)


@pytest.mark.parametrize("ops", BOTH)
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_batch_norm_low_precision_equals_torch(dtype, ops):
    """float32 statistics and gradient sums, as torch takes them: the low-precision output
    and input gradient are equal, the float32 parameter gradients and buffers agree to
    float32 rounding."""
    x, upstream = torch.randn(4, 3, 5, 5).to(dtype), torch.randn(4, 3, 5, 5).to(dtype)
    weight, bias = torch.rand(3) + 0.5, torch.randn(3)
    results = []
    for batch_norm in (ops.batch_norm, torch.nn.functional.batch_norm):
        leaves = [t.clone().requires_grad_() for t in (x, weight, bias)]
        running = torch.zeros(3), torch.ones(3)
        out = batch_norm(leaves[0], *running, leaves[1], leaves[2], training=True)
        out.backward(upstream)
        results.append((out, leaves[0].grad, leaves[1].grad, leaves[2].grad, *running))
    for ours, theirs in zip(*results, strict=True):
        assert ours.dtype == theirs.dtype
        exact = ours.dtype == dtype
        torch.testing.assert_close(
            ours, theirs, atol=0 if exact else 1e-5, rtol=0 if exact else 1e-5
        )


# --- both on edge cases ------------------------------------------------------------------


@pytest.mark.parametrize("ops", BOTH)
def test_conv2d_empty_batch_gives_zero_gradients_like_torch(ops):
    x = torch.randn(0, 3, 7, 5, requires_grad=True)
    weight, bias = torch.randn(4, 3, 3, 2, requires_grad=True), torch.randn(4, requires_grad=True)
    out = ops.conv2d(x, weight, bias)
    assert out.shape == (0, 4, 5, 4)
    out.sum().backward()
    assert torch.equal(weight.grad, torch.zeros_like(weight))
    assert torch.equal(bias.grad, torch.zeros_like(bias))
    assert x.grad.shape == x.shape


# --- the switch ---------------------------------------------------------------------------


def spy_on_fast(monkeypatch, name):
    """Count calls that reach the fast kernel ``name``."""
    calls = []
    kernel = getattr(FAST, name)

    def spy(*args, **kwargs):
        calls.append(name)
        return kernel(*args, **kwargs)

    monkeypatch.setattr(FAST, name, spy)
    return calls


@pytest.mark.parametrize("name", ["conv2d", "max_pool2d", "batch_norm", "relu"])
def test_the_switch_sends_calls_to_the_fast_kernel_and_back(monkeypatch, name):
    calls = spy_on_fast(monkeypatch, name)
    x = torch.randn(2, 3, 6, 6)
    call = {
        "conv2d": lambda: RF.conv2d(x, torch.randn(4, 3, 3, 3)),
        "max_pool2d": lambda: RF.max_pool2d(x, 2),
        "batch_norm": lambda: RF.batch_norm(x, None, None, training=True),
        "relu": lambda: RF.relu(x),
    }[name]
    previous = FAST.is_enabled()
    with FAST.kernels(False):
        call()
        assert calls == []
        with FAST.kernels():
            assert FAST.is_enabled()
            call()
        assert calls == [name] and not FAST.is_enabled()
    assert FAST.is_enabled() == previous


def test_the_switch_is_restored_after_an_exception():
    previous = FAST.is_enabled()
    with pytest.raises(ValueError), FAST.kernels(not previous):
        raise ValueError("inside the block")
    assert FAST.is_enabled() == previous


def test_set_enabled_switches_the_modules_too(monkeypatch):
    calls = spy_on_fast(monkeypatch, "conv2d")
    previous = FAST.is_enabled()
    conv = refimpl.Conv2d(2, 3, 3)
    try:
        FAST.set_enabled(True)
        conv(torch.randn(1, 2, 5, 5))
        FAST.set_enabled(False)
        conv(torch.randn(1, 2, 5, 5))
    finally:
        FAST.set_enabled(previous)
    assert calls == ["conv2d"]


@pytest.mark.parametrize("value, expected", [("1", True), ("0", False), (None, False)])
def test_environment_variable_switches_at_import(value, expected):
    env = {k: v for k, v in os.environ.items() if k != "REFIMPL_FAST_KERNELS"}
    if value is not None:
        env["REFIMPL_FAST_KERNELS"] = value
    code = "import refimpl; print(refimpl.fast.is_enabled())"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == str(expected)


def test_reference_source_is_the_decorated_body():
    """What a page prints of an op is its reference body, with the marker that names the switch."""
    import inspect

    source = inspect.getsource(RF.conv2d)
    assert source.startswith("@has_fast_kernel\ndef conv2d(")
    assert "unfold" in source and "_Im2colConv2d" not in source
