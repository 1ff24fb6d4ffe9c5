"""Numerical gradient checks of every functional form, in float64."""

from __future__ import annotations

import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck

from refimpl import functional as RF

GRAD = {"dtype": torch.float64, "requires_grad": True}


def rand(*shape):
    return torch.randn(*shape, dtype=torch.float64, requires_grad=True)


def _batch_norm_eval():
    mean, var = torch.rand(3, dtype=torch.float64), torch.rand(3, dtype=torch.float64) + 0.5
    return lambda x, w, b: RF.batch_norm(x, mean, var, w, b), (rand(4, 3), rand(3), rand(3))


CASES = {
    "conv2d": lambda: (
        lambda x, w, b: RF.conv2d(x, w, b, 1, 1),
        (rand(2, 2, 5, 5), rand(3, 2, 3, 3), rand(3)),
    ),
    "conv2d_strided_dilated": lambda: (
        lambda x, w: RF.conv2d(x, w, None, (2, 1), (1, 2), (1, 2)),
        (rand(1, 2, 6, 7), rand(2, 2, 3, 2)),
    ),
    "conv2d_groups_same": lambda: (
        lambda x, w, b: RF.conv2d(x, w, b, 1, "same", 1, 2),
        (rand(2, 4, 5, 5), rand(4, 2, 2, 3), rand(4)),
    ),
    "conv2d_depthwise": lambda: (
        lambda x, w: RF.conv2d(x, w, groups=3),
        (rand(1, 3, 5, 5), rand(3, 1, 3, 3)),
    ),
    "pad2d_reflect": lambda: (lambda x: RF.pad2d(x, (2, 1, 1, 2), "reflect"), (rand(1, 2, 4, 4),)),
    "pad2d_replicate": lambda: (lambda x: RF.pad2d(x, (2, 1, 1, 2), "replicate"), (rand(2, 4, 4),)),
    "pad2d_circular": lambda: (
        lambda x: RF.pad2d(x, (2, 1, 1, 2), "circular"),
        (rand(1, 2, 4, 4),),
    ),
    "linear": lambda: (RF.linear, (rand(3, 4), rand(5, 4), rand(5))),
    "max_pool2d": lambda: (
        lambda x: RF.max_pool2d(x, 3, 2, 1, ceil_mode=True),
        (rand(2, 2, 7, 7),),
    ),
    "max_pool2d_dilated": lambda: (lambda x: RF.max_pool2d(x, 2, 1, 1, 2), (rand(1, 2, 6, 6),)),
    "avg_pool2d": lambda: (lambda x: RF.avg_pool2d(x, 3, 2, 1, True, False), (rand(2, 2, 7, 7),)),
    "avg_pool2d_divisor": lambda: (
        lambda x: RF.avg_pool2d(x, 2, divisor_override=3),
        (rand(1, 2, 4, 4),),
    ),
    "adaptive_avg_pool2d": lambda: (
        lambda x: RF.adaptive_avg_pool2d(x, (3, 2)),
        (rand(2, 2, 5, 7),),
    ),
    "adaptive_max_pool2d": lambda: (
        lambda x: RF.adaptive_max_pool2d(x, (3, 4)),
        (rand(2, 2, 5, 7),),
    ),
    "batch_norm_train": lambda: (
        lambda x, w, b: RF.batch_norm(x, None, None, w, b, training=True),
        (rand(4, 3, 2, 2), rand(3), rand(3)),
    ),
    "batch_norm_eval": lambda: _batch_norm_eval(),
    "layer_norm": lambda: (
        lambda x, w, b: RF.layer_norm(x, (3, 4), w, b),
        (rand(2, 3, 4), rand(3, 4), rand(3, 4)),
    ),
    "group_norm": lambda: (
        lambda x, w, b: RF.group_norm(x, 2, w, b),
        (rand(2, 4, 3, 3), rand(4), rand(4)),
    ),
    "relu": lambda: (
        RF.relu,
        (torch.tensor([-1.5, -0.2, 0.3, 2.0], dtype=torch.float64, requires_grad=True),),
    ),
    # inputs away from the kinks (0 and 6; -3 and 3), where a numerical slope straddles two pieces
    "relu6": lambda: (RF.relu6, (torch.tensor([-1.5, 0.3, 5.2, 7.0], **GRAD),)),
    "hardswish": lambda: (RF.hardswish, (torch.tensor([-4.0, -2.5, 0.3, 2.9, 3.5], **GRAD),)),
    "gelu": lambda: (RF.gelu, (rand(2, 3, 4) * 3,)),
    "gelu_tanh": lambda: (lambda x: RF.gelu(x, approximate="tanh"), (rand(2, 3, 4) * 3,)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name):
    fn, inputs = CASES[name]()
    assert gradcheck(fn, inputs, eps=1e-6, atol=1e-5)


@pytest.mark.parametrize(
    "name", ["conv2d", "batch_norm_train", "layer_norm", "adaptive_avg_pool2d", "gelu", "gelu_tanh"]
)
def test_gradgradcheck(name):
    fn, inputs = CASES[name]()
    assert gradgradcheck(fn, inputs, eps=1e-6, atol=1e-4)


def test_dropout_gradient_is_the_mask():
    torch.manual_seed(0)
    x = rand(50)
    y = RF.dropout(x, 0.4)
    y.backward(torch.ones_like(y))
    torch.testing.assert_close(x.grad, (y != 0).double() / 0.6)
