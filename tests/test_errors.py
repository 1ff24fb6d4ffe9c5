"""Bad input gives a clear error, never silent garbage or a hang.

For every case the same call is made twice: once with ``torch.nn`` and once with
``refimpl`` (they share class names, so ``nn.Conv2d`` and ``nn.functional.dropout``
work for both). torch must raise some exception type ``T``; refimpl must raise ``T``
(or a subclass) too, with a message that names the argument and shows the value.
Each call builds the module *and* runs it, because refimpl sometimes raises at
construction where torch raises at the first forward.

A refimpl-side difference (a wrong type, a message without the argument or value,
no error at all, a slow call) raises ``RefimplMismatch``.
"""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Callable, Sequence
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
import torch
import torch.nn.functional as TF
from torch import nn as torch_nn

import refimpl
from refimpl import shapes
from refimpl.models import torch_twin

CALL_BUDGET_S = 2.0
"""Each call (torch's or refimpl's) must finish within this; all of them take milliseconds."""

HARD_TIMEOUT_S = 10
"""A test still running after this many seconds is stopped as a hang."""

Fragment = str | re.Pattern[str]


class RefimplMismatch(AssertionError):
    """refimpl's behaviour on a bad input differs from what the requirement asks."""


class Hang(BaseException):
    """Raised by the alarm; a BaseException so that no ``except Exception`` swallows it."""


@pytest.fixture(autouse=True)
def _no_hang() -> Any:
    """Stop any test of this file that runs longer than ``HARD_TIMEOUT_S`` (a hang)."""
    if not hasattr(signal, "setitimer"):  # pragma: no cover - not on Linux
        yield
        return

    def _alarm(signum: int, frame: Any) -> None:
        raise Hang(f"test still running after {HARD_TIMEOUT_S} s: a hang")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, HARD_TIMEOUT_S)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _timed_raise(call: Callable[[], Any]) -> tuple[BaseException | None, Any, float]:
    """Run ``call``; return ``(exception or None, result, seconds)``."""
    start = time.perf_counter()
    try:
        result = call()
    except Exception as exc:  # noqa: BLE001 - the point is to capture any type
        return exc, None, time.perf_counter() - start
    return None, result, time.perf_counter() - start


def _describe(result: Any) -> str:
    if isinstance(result, torch.Tensor):
        return f"a tensor of shape {list(result.shape)}"
    if isinstance(result, tuple) and all(isinstance(r, torch.Tensor) for r in result):
        return f"tensors of shapes {[list(r.shape) for r in result]}"
    return repr(result)


def _missing(message: str, names: Sequence[Fragment]) -> list[str]:
    missing = []
    for fragment in names:
        if isinstance(fragment, re.Pattern):
            if not fragment.search(message):
                missing.append(f"/{fragment.pattern}/")
        elif fragment not in message:
            missing.append(repr(fragment))
    return missing


def expect_same_error(
    build: Callable[[ModuleType], Any],
    names: Sequence[Fragment],
    *,
    torch_type: type[Exception] | None = None,
    ref_build: Callable[[ModuleType], Any] | None = None,
) -> BaseException:
    """``build(torch.nn)`` raises some ``T``; ``build(refimpl)`` must raise ``T`` naming ``names``.

    ``names`` are substrings (or compiled patterns) refimpl's message must contain:
    the argument's name and the offending value. ``torch_type``, if given, pins the
    type torch raises (documents the case; a torch upgrade that changes it fails
    loudly). ``ref_build`` replaces ``build`` for refimpl where the names differ.
    Both calls must finish within ``CALL_BUDGET_S``. Returns refimpl's exception.
    """
    theirs, result, seconds = _timed_raise(lambda: build(torch_nn))
    if theirs is None:
        pytest.fail(f"test case is wrong: torch raised nothing, returned {_describe(result)}")
    assert seconds < CALL_BUDGET_S, f"torch took {seconds:.2f} s"
    expected = type(theirs)
    if torch_type is not None:
        assert expected is torch_type, (
            f"test case is wrong: torch raises {expected.__name__} ({theirs}), "
            f"not {torch_type.__name__}"
        )

    ours, result, seconds = _timed_raise(lambda: (ref_build or build)(refimpl))
    if ours is None:
        raise RefimplMismatch(
            f"refimpl raised nothing and returned {_describe(result)}; torch raises "
            f"{expected.__name__}: {theirs}"
        )
    if seconds >= CALL_BUDGET_S:
        raise RefimplMismatch(f"refimpl took {seconds:.2f} s to raise (budget {CALL_BUDGET_S} s)")
    if not isinstance(ours, expected):
        raise RefimplMismatch(
            f"refimpl raised {type(ours).__name__} ({ours}), torch raises "
            f"{expected.__name__} ({theirs})"
        )
    missing = _missing(str(ours), names)
    if missing:
        raise RefimplMismatch(
            f"refimpl's message {str(ours)!r} lacks {', '.join(missing)} "
            "(it should name the argument and show the value)"
        )
    return ours


def zeros(*shape: int) -> torch.Tensor:
    return torch.zeros(*shape)


def case(
    case_id: str,
    error: type[Exception],
    names: Sequence[Fragment],
    build: Callable[..., Any],
    *marks: pytest.MarkDecorator,
) -> Any:
    """One row of a table: its id, the exception type, the message fragments, the call.

    ``build`` takes the library (``torch.nn`` or ``refimpl``), or nothing for
    ``refimpl.shapes`` cases, which have no torch twin.
    """
    return pytest.param(build, error, names, id=case_id, marks=marks)


def zero(name: str) -> re.Pattern[str]:
    """``name=0`` or ``name=(0, ...)``: the argument with its zero value."""
    return re.compile(rf"{name}=\(?0\b")


def _run_cases(build: Callable[[ModuleType], Any], torch_type: type[Exception], names: Any) -> None:
    expect_same_error(build, names, torch_type=torch_type)


# --------------------------------------------------------------------------- convolution

# fmt: off
CONV_CASES = [
    case("in_channels-not-divisible-by-groups", ValueError, ["in_channels=5", "groups=2"],
         lambda nn: nn.Conv2d(5, 4, 3, groups=2)),
    case("out_channels-not-divisible-by-groups", ValueError, ["out_channels=5", "groups=2"],
         lambda nn: nn.Conv2d(4, 5, 3, groups=2)),
    case("padding-same-with-stride-2", ValueError, ["padding='same'", "stride=2"],
         lambda nn: nn.Conv2d(1, 1, 3, stride=2, padding="same")(zeros(1, 1, 5, 5))),
    case("padding-same-with-stride-(1,2)", ValueError, ["padding='same'", "stride=(1, 2)"],
         lambda nn: nn.Conv2d(1, 1, 3, stride=(1, 2), padding="same")(zeros(1, 1, 5, 5))),
    case("unknown-padding-string", ValueError, ["padding", "'full'"],
         lambda nn: nn.Conv2d(1, 1, 3, padding="full")(zeros(1, 1, 5, 5))),
    case("unknown-padding_mode", ValueError, ["padding_mode", "'mirror'"],
         lambda nn: nn.Conv2d(1, 1, 3, padding_mode="mirror")(zeros(1, 1, 5, 5))),
    case("zero-stride", RuntimeError, [zero("stride")],
         lambda nn: nn.Conv2d(1, 1, 3, stride=0)(zeros(1, 1, 5, 5))),
    case("negative-stride", RuntimeError, ["stride=", "-2"],
         lambda nn: nn.Conv2d(1, 1, 3, stride=-2)(zeros(1, 1, 5, 5))),
    case("negative-padding", RuntimeError, ["padding=", "-1"],
         lambda nn: nn.Conv2d(1, 1, 3, padding=-1)(zeros(1, 1, 5, 5))),
    case("zero-dilation", RuntimeError, [zero("dilation")],
         lambda nn: nn.Conv2d(1, 1, 3, dilation=0)(zeros(1, 1, 5, 5))),
    case("zero-kernel_size", RuntimeError, [zero("kernel_size")],
         lambda nn: nn.Conv2d(1, 1, 0)(zeros(1, 1, 5, 5)),
         pytest.mark.filterwarnings("ignore:Initializing zero-element tensors:UserWarning")),
    case("2d-input", RuntimeError, ["input", "[5, 5]"], lambda nn: nn.Conv2d(1, 1, 3)(zeros(5, 5))),
    case("5d-input", RuntimeError, ["input", "[1, 1, 1, 5, 5]"],
         lambda nn: nn.Conv2d(1, 1, 3)(zeros(1, 1, 1, 5, 5))),
    case("input-channels-vs-weight", RuntimeError,
         ["input[1, 2, 5, 5]", "3 channels", "2 channels"],
         lambda nn: nn.Conv2d(3, 4, 3)(zeros(1, 2, 5, 5))),
    case("input-channels-vs-weight-grouped", RuntimeError,
         ["groups=2", "input[1, 6, 5, 5]", "6 channels"],
         lambda nn: nn.Conv2d(4, 4, 3, groups=2)(zeros(1, 6, 5, 5))),
    case("kernel-larger-than-input", RuntimeError, ["Kernel size", "(5 x 5)", "(3 x 3)"],
         lambda nn: nn.Conv2d(1, 1, 5)(zeros(1, 1, 3, 3))),
    case("kernel-larger-than-padded-input", RuntimeError, ["Kernel size", "(5 x 5)", "(4 x 4)"],
         lambda nn: nn.Conv2d(1, 1, 5, padding=1)(zeros(1, 1, 2, 2))),
    case("dilated-kernel-larger-than-input", RuntimeError, ["Kernel size", "(7 x 7)", "(5 x 5)"],
         lambda nn: nn.Conv2d(1, 1, 3, dilation=3)(zeros(1, 1, 5, 5))),
    case("reflect-padding-larger-than-input", RuntimeError, ["padding", "3", "[1, 1, 2, 2]"],
         lambda nn: nn.Conv2d(1, 1, 3, padding=3, padding_mode="reflect")(zeros(1, 1, 2, 2))),
    case("reflect-padding-equal-to-input", RuntimeError, ["padding", "2", "[1, 1, 2, 2]"],
         lambda nn: nn.Conv2d(1, 1, 3, padding=2, padding_mode="reflect")(zeros(1, 1, 2, 2))),
    case("reflect-padding-same-larger-than-input", RuntimeError, ["padding", "2", "[1, 1, 2, 2]"],
         lambda nn: nn.Conv2d(1, 1, 5, padding="same", padding_mode="reflect")(zeros(1, 1, 2, 2))),
    case("circular-padding-wraps-twice", RuntimeError, ["padding", "3", "[1, 1, 2, 2]"],
         lambda nn: nn.Conv2d(1, 1, 3, padding=3, padding_mode="circular")(zeros(1, 1, 2, 2))),
    case("replicate-padding-of-empty-input", RuntimeError, ["input", "[1, 1, 0, 2]"],
         lambda nn: nn.Conv2d(1, 1, 1, padding=1, padding_mode="replicate")(zeros(1, 1, 0, 2))),
    case("reflect-padding-of-2d-input", NotImplementedError, ["input", "[4, 4]"],
         lambda nn: nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect")(zeros(4, 4))),
    case("padding-of-three-values", RuntimeError, ["padding", "(1, 2, 3)"],
         lambda nn: nn.Conv2d(1, 1, 3, padding=(1, 2, 3))(zeros(1, 1, 5, 5))),
    case("stride-of-three-values", RuntimeError, ["stride", "(1, 2, 3)"],
         lambda nn: nn.Conv2d(1, 1, 3, stride=(1, 2, 3))(zeros(1, 1, 5, 5))),
]
# fmt: on


@pytest.mark.parametrize(("build", "torch_type", "names"), CONV_CASES)
def test_conv2d(build: Any, torch_type: type[Exception], names: Any) -> None:
    _run_cases(build, torch_type, names)


# fmt: off
FUNCTIONAL_CONV_CASES = [
    case("padding-same-with-stride-2", RuntimeError, ["padding='same'", "stride=2"],
         lambda nn: nn.functional.conv2d(zeros(1, 1, 5, 5), zeros(1, 1, 3, 3), stride=2,
             padding="same")),
    case("unknown-padding-string", RuntimeError, ["padding", "'full'"],
         lambda nn: nn.functional.conv2d(zeros(1, 1, 5, 5), zeros(1, 1, 3, 3), padding="full")),
    case("zero-stride", RuntimeError, [zero("stride")],
         lambda nn: nn.functional.conv2d(zeros(1, 1, 5, 5), zeros(1, 1, 3, 3), stride=0)),
    case("negative-padding", RuntimeError, ["padding=", "-1"],
         lambda nn: nn.functional.conv2d(zeros(1, 1, 5, 5), zeros(1, 1, 3, 3), padding=-1)),
    case("zero-groups", RuntimeError, [zero("groups")],
         lambda nn: nn.functional.conv2d(zeros(1, 4, 5, 5), zeros(4, 4, 3, 3), groups=0)),
    case("out-channels-not-divisible-by-groups", RuntimeError, ["groups=2", "[5, 2, 3, 3]"],
         lambda nn: nn.functional.conv2d(zeros(1, 4, 5, 5), zeros(5, 2, 3, 3), groups=2)),
    case("input-channels-vs-weight", RuntimeError,
         ["input[1, 2, 5, 5]", "3 channels", "2 channels"],
         lambda nn: nn.functional.conv2d(zeros(1, 2, 5, 5), zeros(4, 3, 3, 3))),
    case("bias-of-wrong-size", RuntimeError, ["bias", "[2]"],
         lambda nn: nn.functional.conv2d(zeros(1, 1, 5, 5), zeros(4, 1, 3, 3), zeros(2))),
    case("bias-of-shape-(4,1)", RuntimeError, ["bias", "[4, 1]"],
         lambda nn: nn.functional.conv2d(zeros(1, 1, 5, 5), zeros(4, 1, 3, 3), zeros(4, 1))),
]
# fmt: on


@pytest.mark.parametrize(("build", "torch_type", "names"), FUNCTIONAL_CONV_CASES)
def test_functional_conv2d(build: Any, torch_type: type[Exception], names: Any) -> None:
    _run_cases(build, torch_type, names)


# fmt: off
DEFINITION_CASES = [
    case("padding-same-with-stride-2", RuntimeError, ["padding='same'", "stride=2"],
         lambda F: F.conv2d_definition(zeros(1, 1, 5, 5), zeros(1, 1, 3, 3), stride=2,
             padding="same")),
    case("kernel-larger-than-input", RuntimeError, ["Kernel size", "(5 x 5)", "(3 x 3)"],
         lambda F: F.conv2d_definition(zeros(1, 1, 3, 3), zeros(1, 1, 5, 5))),
    case("input-channels-vs-weight", RuntimeError,
         ["input[1, 2, 5, 5]", "3 channels", "2 channels"],
         lambda F: F.conv2d_definition(zeros(1, 2, 5, 5), zeros(4, 3, 3, 3))),
]
# fmt: on


@pytest.mark.parametrize(("build", "torch_type", "names"), DEFINITION_CASES)
def test_conv2d_definition(build: Any, torch_type: type[Exception], names: Any) -> None:
    """``conv2d_definition`` is checked against ``torch.nn.functional.conv2d``."""
    expect_same_error(
        lambda nn: build(_DefinitionAsConv),
        names,
        torch_type=torch_type,
        ref_build=lambda nn: build(nn.functional),
    )


class _DefinitionAsConv:
    """torch's side of ``conv2d_definition``: ``torch.nn.functional.conv2d``."""

    conv2d_definition = staticmethod(TF.conv2d)


# fmt: off
LAZY_CONV_CASES = [
    case("in_channels-not-divisible-by-groups", ValueError, ["in_channels=3", "groups=2"],
         lambda nn: nn.LazyConv2d(4, 3, groups=2)(zeros(1, 3, 5, 5))),
    case("2d-input", RuntimeError, ["input", "[5, 5]"],
         lambda nn: nn.LazyConv2d(4, 3)(zeros(5, 5))),
    case("5d-input", RuntimeError, ["input", "[1, 1, 1, 5, 5]"],
         lambda nn: nn.LazyConv2d(4, 3)(zeros(1, 1, 1, 5, 5))),
    case("second-input-with-other-channels", RuntimeError,
         ["input[1, 2, 5, 5]", "3 channels", "2 channels"],
         lambda nn: (lambda m: (m(zeros(1, 3, 5, 5)), m(zeros(1, 2, 5, 5))))(nn.LazyConv2d(4, 3))),
    case("out_channels-not-divisible-by-groups", RuntimeError, ["groups=2", "5"],
         lambda nn: nn.LazyConv2d(5, 3, groups=2)(zeros(1, 4, 5, 5))),
]
# fmt: on


@pytest.mark.parametrize(("build", "torch_type", "names"), LAZY_CONV_CASES)
def test_lazy_conv2d(build: Any, torch_type: type[Exception], names: Any) -> None:
    _run_cases(build, torch_type, names)


def test_lazy_conv2d_failed_first_call_leaves_it_usable() -> None:
    conv = refimpl.LazyConv2d(4, 3, groups=2)
    with pytest.raises(ValueError, match="in_channels=3"):
        conv(zeros(1, 3, 5, 5))
    assert conv(zeros(1, 4, 5, 5)).shape == (1, 4, 3, 3)
    assert conv.in_channels == 4
    assert conv.weight.shape == (4, 2, 3, 3)


# --------------------------------------------------------------------------------- linear

# fmt: off
LINEAR_CASES = [
    case("in_features-vs-input-last-dim", RuntimeError, ["in_features=3", "[2, 5]"],
         lambda nn: nn.Linear(3, 4)(zeros(2, 5))),
    case("in_features-vs-1d-input", RuntimeError, ["in_features=3", "[5]"],
         lambda nn: nn.Linear(3, 4)(zeros(5))),
    case("0d-input", RuntimeError, ["input", "[]"], lambda nn: nn.Linear(3, 4)(torch.zeros(()))),
    case("functional-in_features-vs-input", RuntimeError, ["in_features=3", "[2, 5]"],
         lambda nn: nn.functional.linear(zeros(2, 5), zeros(4, 3))),
    case("lazy-second-input-with-other-features", RuntimeError, ["in_features=3", "[2, 5]"],
         lambda nn: (lambda m: (m(zeros(2, 3)), m(zeros(2, 5))))(nn.LazyLinear(4))),
    case("negative-in_features", RuntimeError, ["in_features", "-1"], lambda nn: nn.Linear(-1, 3)),
]
# fmt: on


@pytest.mark.parametrize(("build", "torch_type", "names"), LINEAR_CASES)
def test_linear(build: Any, torch_type: type[Exception], names: Any) -> None:
    _run_cases(build, torch_type, names)


# ------------------------------------------------------------------------- normalization

# fmt: off
BATCH_NORM_CASES = [
    case("BatchNorm1d-4d-input", ValueError, ["input", "4D", "[2, 3, 4, 4]"],
         lambda nn: nn.BatchNorm1d(3)(zeros(2, 3, 4, 4))),
    case("BatchNorm2d-2d-input", ValueError, ["input", "2D", "[2, 3]"],
         lambda nn: nn.BatchNorm2d(3)(zeros(2, 3))),
    case("BatchNorm2d-3d-input", ValueError, ["input", "3D", "[3, 4, 4]"],
         lambda nn: nn.BatchNorm2d(3)(zeros(3, 4, 4))),
    case("LazyBatchNorm1d-4d-input", ValueError, ["input", "4D", "[2, 3, 4, 4]"],
         lambda nn: nn.LazyBatchNorm1d()(zeros(2, 3, 4, 4))),
    case("LazyBatchNorm2d-2d-input", ValueError, ["input", "2D", "[2, 3]"],
         lambda nn: nn.LazyBatchNorm2d()(zeros(2, 3))),
    case("BatchNorm2d-channel-mismatch", RuntimeError, ["running_mean", "4 elements", "not 3"],
         lambda nn: nn.BatchNorm2d(3)(zeros(2, 4, 2, 2))),
    case("BatchNorm1d-channel-mismatch", RuntimeError, ["running_mean", "4 elements", "not 3"],
         lambda nn: nn.BatchNorm1d(3)(zeros(2, 4))),
    case("BatchNorm2d-channel-mismatch-eval", RuntimeError, ["running_mean", "4 elements", "not 3"],
         lambda nn: nn.BatchNorm2d(3).eval()(zeros(2, 4, 2, 2))),
    case("BatchNorm2d-channel-mismatch-untracked", RuntimeError, ["weight", "4 elements", "not 3"],
         lambda nn: nn.BatchNorm2d(3, track_running_stats=False)(zeros(2, 4, 2, 2))),
    case("BatchNorm1d-one-value-per-channel", ValueError, ["per channel", "[1, 3]"],
         lambda nn: nn.BatchNorm1d(3)(zeros(1, 3))),
    case("BatchNorm1d-3d-one-value-per-channel", ValueError, ["per channel", "[1, 3, 1]"],
         lambda nn: nn.BatchNorm1d(3)(zeros(1, 3, 1))),
    case("BatchNorm2d-one-value-per-channel", ValueError, ["per channel", "[1, 3, 1, 1]"],
         lambda nn: nn.BatchNorm2d(3)(zeros(1, 3, 1, 1))),
    case("LazyBatchNorm1d-one-value-per-channel", ValueError, ["per channel", "[1, 3]"],
         lambda nn: nn.LazyBatchNorm1d()(zeros(1, 3))),
    case("functional-one-value-per-channel", ValueError, ["per channel", "[1, 3]"],
         lambda nn: nn.functional.batch_norm(zeros(1, 3), zeros(3), torch.ones(3), training=True)),
    case("functional-channel-mismatch", RuntimeError, ["running_mean", "4 elements", "not 3"],
         lambda nn: nn.functional.batch_norm(zeros(2, 4), zeros(3), torch.ones(3))),
    case("functional-eval-without-running-stats", RuntimeError, ["running_mean"],
         lambda nn: nn.functional.batch_norm(zeros(2, 3), None, None, training=False)),
    case("functional-1d-input", RuntimeError, ["input", "[3]"],
         lambda nn: nn.functional.batch_norm(zeros(3), zeros(3), torch.ones(3))),
    case("negative-num_features", RuntimeError, ["num_features", "-1"],
         lambda nn: nn.BatchNorm1d(-1)),
    case("BatchNorm1d-eps-zero", ValueError, ["eps=0.0"],
         lambda nn: nn.BatchNorm1d(3, eps=0.0)(zeros(2, 3))),
    case("BatchNorm2d-eps-negative", ValueError, ["eps=-1.0"],
         lambda nn: nn.BatchNorm2d(3, eps=-1.0)(zeros(2, 3, 2, 2))),
    case("BatchNorm2d-eps-negative-eval", ValueError, ["eps=-1.0"],
         lambda nn: nn.BatchNorm2d(3, eps=-1.0).eval()(zeros(2, 3, 2, 2))),
    case("BatchNorm1d-eps-zero-eval-untracked", ValueError, ["eps=0.0"],
         lambda nn: nn.BatchNorm1d(3, eps=0.0, track_running_stats=False).eval()(zeros(2, 3))),
    case("LazyBatchNorm1d-eps-zero", ValueError, ["eps=0.0"],
         lambda nn: nn.LazyBatchNorm1d(eps=0.0)(zeros(2, 3))),
    case("functional-eps-zero", ValueError, ["eps=0.0"],
         lambda nn: nn.functional.batch_norm(zeros(2, 3), None, None, training=True, eps=0.0)),
]
# fmt: on


@pytest.mark.parametrize(("build", "torch_type", "names"), BATCH_NORM_CASES)
def test_batch_norm(build: Any, torch_type: type[Exception], names: Any) -> None:
    _run_cases(build, torch_type, names)


def _state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


@pytest.mark.parametrize("momentum", [0.1, None], ids=["momentum=0.1", "momentum=None"])
@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        pytest.param("BatchNorm1d", (4, 3), (1, 3), id="BatchNorm1d-(1,C)"),
        pytest.param("BatchNorm1d", (4, 3, 5), (1, 3, 1), id="BatchNorm1d-(1,C,1)"),
        pytest.param("BatchNorm2d", (4, 3, 2, 2), (1, 3, 1, 1), id="BatchNorm2d-(1,C,1,1)"),
    ],
)
def test_batch_norm_failed_training_call_changes_no_state(
    name: str, good: tuple[int, ...], bad: tuple[int, ...], momentum: float | None
) -> None:
    """A rejected batch leaves ``num_batches_tracked`` and the running statistics alone."""
    bn = getattr(refimpl, name)(3, momentum=momentum)
    bn(torch.randn(good) * 3 + 1)  # one real step, so the statistics are not the defaults
    before = _state(bn)
    assert int(before["num_batches_tracked"]) == 1
    with pytest.raises(ValueError, match="per channel"):
        bn(torch.randn(bad))
    after = _state(bn)
    assert after.keys() == before.keys()
    for key, value in before.items():
        assert torch.equal(after[key], value), f"{key} changed from {value} to {after[key]}"
    # and it still works afterwards, counting from where it was
    bn(torch.randn(good))
    assert int(bn.num_batches_tracked) == 2


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        pytest.param("LazyBatchNorm1d", (1, 3), id="LazyBatchNorm1d-(1,C)"),
        pytest.param("LazyBatchNorm2d", (1, 3, 1, 1), id="LazyBatchNorm2d-(1,C,1,1)"),
    ],
)
def test_lazy_batch_norm_failed_first_call_changes_no_state(
    name: str, bad: tuple[int, ...]
) -> None:
    bn = getattr(refimpl, name)()
    with pytest.raises(ValueError, match="per channel"):
        bn(torch.randn(bad))
    assert int(bn.num_batches_tracked) == 0
    assert torch.equal(bn.running_mean, torch.zeros(3))
    assert torch.equal(bn.running_var, torch.ones(3))


def test_functional_batch_norm_failed_call_changes_no_running_stats() -> None:
    mean, var = torch.tensor([0.5, -1.0, 2.0]), torch.tensor([1.5, 0.25, 4.0])
    with pytest.raises(ValueError, match="per channel"):
        refimpl.functional.batch_norm(torch.randn(1, 3), mean, var, training=True)
    assert torch.equal(mean, torch.tensor([0.5, -1.0, 2.0]))
    assert torch.equal(var, torch.tensor([1.5, 0.25, 4.0]))


# fmt: off
LAYER_GROUP_NORM_CASES = [
    case("LayerNorm-normalized_shape-vs-input", RuntimeError, ["normalized_shape=[4]", "[2, 5]"],
         lambda nn: nn.LayerNorm(4)(zeros(2, 5))),
    case("LayerNorm-2d-normalized_shape-vs-input", RuntimeError,
         ["normalized_shape=[3, 4]", "[2, 4, 3]"], lambda nn: nn.LayerNorm([3, 4])(zeros(2, 4, 3))),
    case("LayerNorm-input-with-fewer-dims", RuntimeError, ["normalized_shape=[2, 3, 4]", "[3, 4]"],
         lambda nn: nn.LayerNorm([2, 3, 4])(zeros(3, 4))),
    case("functional-layer_norm-normalized_shape-vs-input", RuntimeError,
         ["normalized_shape=[4]", "[2, 5]"], lambda nn: nn.functional.layer_norm(zeros(2, 5), [4])),
    case("LayerNorm-negative-normalized_shape", RuntimeError, ["normalized_shape", "-1"],
         lambda nn: nn.LayerNorm(-1)),
    case("GroupNorm-channels-not-divisible-by-groups", ValueError,
         ["num_channels (4)", "num_groups (3)"], lambda nn: nn.GroupNorm(3, 4)),
    case("GroupNorm-input-channels-vs-num_channels", RuntimeError, ["4", "[2, 6, 3, 3]"],
         lambda nn: nn.GroupNorm(2, 4)(zeros(2, 6, 3, 3))),
    case("GroupNorm-1d-input", RuntimeError, ["dimensions", "1"],
         lambda nn: nn.GroupNorm(2, 4)(zeros(4))),
    case("functional-group_norm-channels-not-divisible", RuntimeError,
         ["num_groups=3", "[2, 4, 3, 3]"],
         lambda nn: nn.functional.group_norm(zeros(2, 4, 3, 3), 3)),
]
# fmt: on


@pytest.mark.parametrize(("build", "torch_type", "names"), LAYER_GROUP_NORM_CASES)
def test_layer_and_group_norm(build: Any, torch_type: type[Exception], names: Any) -> None:
    _run_cases(build, torch_type, names)


# ------------------------------------------------------------------ dropout and flatten

# fmt: off
DROPOUT_CASES = [
    case("module-p=1.5", ValueError, ["p=1.5"], lambda nn: nn.Dropout(1.5)(zeros(3))),
    case("module-p=-0.1", ValueError, ["p=-0.1"], lambda nn: nn.Dropout(-0.1)(zeros(3))),
    case("functional-p=1.5", ValueError, ["p=1.5"],
         lambda nn: nn.functional.dropout(zeros(3), 1.5)),
    case("functional-p=-0.1", ValueError, ["p=-0.1"],
         lambda nn: nn.functional.dropout(zeros(3), -0.1)),
    case("functional-p=1.5-eval", ValueError, ["p=1.5"],
         lambda nn: nn.functional.dropout(zeros(3), 1.5, training=False)),
    case("functional-p=1.5-inplace", ValueError, ["p=1.5"],
         lambda nn: nn.functional.dropout(zeros(3), 1.5, inplace=True)),
]
# fmt: on


@pytest.mark.parametrize(("build", "torch_type", "names"), DROPOUT_CASES)
def test_dropout(build: Any, torch_type: type[Exception], names: Any) -> None:
    _run_cases(build, torch_type, names)


def test_dropout_inplace_failure_leaves_input_alone() -> None:
    x = torch.arange(1.0, 5.0)
    with pytest.raises(ValueError, match="p=1.5"):
        refimpl.functional.dropout(x, 1.5, inplace=True)
    assert torch.equal(x, torch.arange(1.0, 5.0))


# ------------------------------------------------------------------------------ activations

# fmt: off
ACTIVATION_CASES = [
    case("GELU-approximate-unknown", RuntimeError, ["approximate", "'sigmoid'"],
         lambda nn: nn.GELU(approximate="sigmoid")(zeros(3))),
    case("GELU-approximate-None", TypeError, ["approximate", "None"],
         lambda nn: nn.GELU(approximate=None)(zeros(3))),
    case("functional-gelu-approximate-unknown", RuntimeError, ["approximate", "'erf'"],
         lambda nn: nn.functional.gelu(zeros(3), approximate="erf")),
    case("GELU-integer-input", NotImplementedError, ["gelu", "torch.int64"],
         lambda nn: nn.GELU()(torch.arange(3))),
    case("Hardswish-integer-input", NotImplementedError, ["hardswish", "torch.int64"],
         lambda nn: nn.Hardswish()(torch.arange(3))),
    case("ReLU6-inplace-on-leaf-requiring-grad", RuntimeError, ["leaf", "in-place"],
         lambda nn: nn.ReLU6(inplace=True)(torch.zeros(3, requires_grad=True))),
    case("Hardswish-inplace-on-leaf-requiring-grad", RuntimeError, ["leaf", "in-place"],
         lambda nn: nn.Hardswish(inplace=True)(torch.zeros(3, requires_grad=True))),
]
# fmt: on


@pytest.mark.parametrize(("build", "torch_type", "names"), ACTIVATION_CASES)
def test_activations(build: Any, torch_type: type[Exception], names: Any) -> None:
    _run_cases(build, torch_type, names)


# ----------------------------------------------------------- ConvNeXt's layers (torchvision's)

TORCHVISION_TWINS = SimpleNamespace(
    LayerNorm2d=torch_twin.LayerNorm2d,
    StochasticDepth=torch_twin.StochasticDepth,
    LayerScale=torch_twin.LayerScale,
)


def beyond_torch_nn(nn: ModuleType) -> Any:
    """refimpl, or in torch's place the twins of the layers torch.nn lacks: torchvision's
    forms of them, written from torch.nn (``refimpl.models.torch_twin``)."""
    return nn if nn is refimpl else TORCHVISION_TWINS


# fmt: off
CONVNEXT_LAYER_CASES = [
    case("LayerNorm2d-3d-input", RuntimeError, ["LayerNorm2d", "[4, 3, 3]"],
         lambda nn: beyond_torch_nn(nn).LayerNorm2d(4)(zeros(4, 3, 3))),
    case("LayerNorm2d-channels-vs-normalized_shape", RuntimeError, ["(N, 4, H, W)", "[2, 5, 3, 3]"],
         lambda nn: beyond_torch_nn(nn).LayerNorm2d(4)(zeros(2, 5, 3, 3))),
    case("StochasticDepth-p=1.5", ValueError, ["p=1.5"],
         lambda nn: beyond_torch_nn(nn).StochasticDepth(1.5, "row")(zeros(2, 3))),
    case("StochasticDepth-p=-0.1", ValueError, ["p=-0.1"],
         lambda nn: beyond_torch_nn(nn).StochasticDepth(-0.1, "batch")(zeros(2, 3))),
    case("StochasticDepth-unknown-mode", ValueError, ["mode", "'column'"],
         lambda nn: beyond_torch_nn(nn).StochasticDepth(0.1, "column")(zeros(2, 3))),
    case("StochasticDepth-bad-mode-in-eval", ValueError, ["mode", "'column'"],
         lambda nn: beyond_torch_nn(nn).StochasticDepth(0.1, "column").eval()(zeros(2, 3))),
    case("LayerScale-channels", RuntimeError, ["LayerScale", "[2, 5, 3, 3]"],
         lambda nn: beyond_torch_nn(nn).LayerScale(4)(zeros(2, 5, 3, 3))),
]
# fmt: on


@pytest.mark.parametrize(("build", "torch_type", "names"), CONVNEXT_LAYER_CASES)
def test_convnext_layers(build: Any, torch_type: type[Exception], names: Any) -> None:
    _run_cases(build, torch_type, names)


# fmt: off
FLATTEN_CASES = [
    case("start_dim-out-of-range", IndexError, ["out of range", "3"],
         lambda nn: nn.Flatten(start_dim=3)(zeros(2, 3))),
    case("start_dim-after-end_dim", RuntimeError, ["start_dim", "end_dim"],
         lambda nn: nn.Flatten(start_dim=2, end_dim=1)(zeros(2, 3, 4))),
]
# fmt: on


@pytest.mark.parametrize(("build", "torch_type", "names"), FLATTEN_CASES)
def test_flatten(build: Any, torch_type: type[Exception], names: Any) -> None:
    _run_cases(build, torch_type, names)


# -------------------------------------------------------------------------------- pooling

# fmt: off
POOL_CASES = [
    case("MaxPool2d-2d-input", RuntimeError, ["input", "[4, 4]"],
         lambda nn: nn.MaxPool2d(2)(zeros(4, 4))),
    case("MaxPool2d-5d-input", RuntimeError, ["input", "[1, 1, 1, 4, 4]"],
         lambda nn: nn.MaxPool2d(2)(zeros(1, 1, 1, 4, 4))),
    case("AvgPool2d-2d-input", IndexError, ["input", "[4, 4]"],
         lambda nn: nn.AvgPool2d(2)(zeros(4, 4))),
    case("AvgPool2d-5d-input", RuntimeError, ["input", "[1, 1, 1, 4, 4]"],
         lambda nn: nn.AvgPool2d(2)(zeros(1, 1, 1, 4, 4))),
    case("AdaptiveAvgPool2d-2d-input", RuntimeError, ["input", "[4, 4]"],
         lambda nn: nn.AdaptiveAvgPool2d(2)(zeros(4, 4))),
    case("AdaptiveMaxPool2d-2d-input", RuntimeError, ["input", "[4, 4]"],
         lambda nn: nn.AdaptiveMaxPool2d(2)(zeros(4, 4))),
    case("MaxPool2d-empty-input", RuntimeError, ["input", "[1, 1, 0, 5]"],
         lambda nn: nn.MaxPool2d(1)(zeros(1, 1, 0, 5))),
    case("MaxPool2d-kernel-larger-than-input", RuntimeError, ["kernel_size=5", "3 x 3"],
         lambda nn: nn.MaxPool2d(5)(zeros(1, 1, 3, 3))),
    case("MaxPool2d-kernel-larger-than-padded-input", RuntimeError, ["kernel_size=4", "3 x 3"],
         lambda nn: nn.MaxPool2d(4, padding=1)(zeros(1, 1, 1, 1))),
    case("MaxPool2d-dilated-kernel-larger-than-input", RuntimeError,
         ["kernel_size=2", "dilation=5", "3 x 3"],
         lambda nn: nn.MaxPool2d(2, dilation=5)(zeros(1, 1, 3, 3))),
    case("AvgPool2d-kernel-larger-than-input", RuntimeError, ["kernel_size=5", "3 x 3"],
         lambda nn: nn.AvgPool2d(5)(zeros(1, 1, 3, 3))),
    case("MaxPool2d-padding-over-half-kernel", RuntimeError, ["padding=2", "kernel_size=2"],
         lambda nn: nn.MaxPool2d(2, padding=2)(zeros(1, 1, 5, 5))),
    case("MaxPool2d-padding-over-half-kernel-in-width", RuntimeError,
         ["padding=(1, 3)", "kernel_size=(2, 4)"],
         lambda nn: nn.MaxPool2d((2, 4), padding=(1, 3))(zeros(1, 1, 5, 5))),
    case("AvgPool2d-padding-over-half-kernel", RuntimeError, ["padding=2", "kernel_size=2"],
         lambda nn: nn.AvgPool2d(2, padding=2)(zeros(1, 1, 5, 5))),
    case("functional-max_pool2d-padding-over-half-kernel", RuntimeError,
         ["padding=2", "kernel_size=2"],
         lambda nn: nn.functional.max_pool2d(zeros(1, 1, 5, 5), 2, padding=2)),
    case("MaxPool2d-zero-stride", RuntimeError, [zero("stride")],
         lambda nn: nn.MaxPool2d(2, stride=0)(zeros(1, 1, 5, 5))),
    case("MaxPool2d-zero-stride-in-width", RuntimeError, ["stride=(1, 0)"],
         lambda nn: nn.functional.max_pool2d(zeros(1, 1, 5, 5), 2, stride=(1, 0))),
    case("AvgPool2d-zero-stride", RuntimeError, [zero("stride")],
         lambda nn: nn.AvgPool2d(2, stride=0)(zeros(1, 1, 5, 5))),
    case("MaxPool2d-negative-padding", RuntimeError, ["padding=", "-1"],
         lambda nn: nn.MaxPool2d(2, padding=-1)(zeros(1, 1, 5, 5))),
    case("MaxPool2d-zero-dilation", RuntimeError, [zero("dilation")],
         lambda nn: nn.MaxPool2d(2, dilation=0)(zeros(1, 1, 5, 5))),
    case("MaxPool2d-zero-kernel_size", RuntimeError, [zero("kernel_size")],
         lambda nn: nn.MaxPool2d(0)(zeros(1, 1, 5, 5))),
    case("MaxPool2d-kernel_size-of-three-values", RuntimeError, ["kernel_size", "(2, 2, 2)"],
         lambda nn: nn.MaxPool2d((2, 2, 2))(zeros(1, 1, 5, 5))),
    case("AvgPool2d-divisor_override-zero", RuntimeError, ["divisor_override=0"],
         lambda nn: nn.AvgPool2d(2, divisor_override=0)(zeros(1, 1, 4, 4))),
    case("functional-avg_pool2d-divisor_override-zero", RuntimeError, ["divisor_override=0"],
         lambda nn: nn.functional.avg_pool2d(zeros(1, 1, 4, 4), 2, divisor_override=0)),
    case("AdaptiveAvgPool2d-negative-output_size", RuntimeError, ["output_size", "-1"],
         lambda nn: nn.AdaptiveAvgPool2d(-1)(zeros(1, 1, 4, 4))),
    case("AdaptiveMaxPool2d-negative-output_size", RuntimeError, ["output_size", "-1"],
         lambda nn: nn.AdaptiveMaxPool2d(-1)(zeros(1, 1, 4, 4))),
    case("AdaptiveAvgPool2d-negative-output_width", RuntimeError, ["output_size", "-3"],
         lambda nn: nn.AdaptiveAvgPool2d((2, -3))(zeros(1, 1, 4, 4))),
    case("AdaptiveMaxPool2d-negative-output_width", RuntimeError, ["output_size", "-3"],
         lambda nn: nn.AdaptiveMaxPool2d((2, -3))(zeros(1, 1, 4, 4))),
    case("functional-adaptive_avg_pool2d-negative-output_size", RuntimeError, ["output_size", "-1"],
         lambda nn: nn.functional.adaptive_avg_pool2d(zeros(1, 1, 4, 4), -1)),
    case("AdaptiveAvgPool2d-output_size-of-three-values", RuntimeError,
         ["output_size", "(1, 2, 3)"],
         lambda nn: nn.AdaptiveAvgPool2d((1, 2, 3))(zeros(1, 1, 4, 4))),
    case("AdaptiveMaxPool2d-output_size-of-three-values", RuntimeError,
         ["output_size", "(1, 2, 3)"],
         lambda nn: nn.AdaptiveMaxPool2d((1, 2, 3))(zeros(1, 1, 4, 4))),
    case("AdaptiveAvgPool2d-float-output_size", TypeError, ["output_size", "2.5"],
         lambda nn: nn.AdaptiveAvgPool2d(2.5)(zeros(1, 1, 4, 4))),
]
# fmt: on


@pytest.mark.parametrize(("build", "torch_type", "names"), POOL_CASES)
def test_pooling(build: Any, torch_type: type[Exception], names: Any) -> None:
    _run_cases(build, torch_type, names)


# bad pooling arguments that torch accepts at construction and refuses at the first forward
# fmt: off
POOL_BUILT_CASES = [
    pytest.param(lambda nn: nn.MaxPool2d(3, padding=5), id="MaxPool2d-padding-over-half-kernel"),
    pytest.param(lambda nn: nn.MaxPool2d(0), id="MaxPool2d-zero-kernel_size"),
    pytest.param(lambda nn: nn.MaxPool2d(2, stride=0), id="MaxPool2d-zero-stride"),
    pytest.param(lambda nn: nn.MaxPool2d(2, dilation=0), id="MaxPool2d-zero-dilation"),
    pytest.param(lambda nn: nn.AvgPool2d(2, padding=2), id="AvgPool2d-padding-over-half-kernel"),
    pytest.param(lambda nn: nn.AvgPool2d(2, divisor_override=0), id="AvgPool2d-divisor-zero"),
]
# fmt: on


@pytest.mark.parametrize("build", POOL_BUILT_CASES)
def test_pooling_fails_at_forward_not_construction(build: Any) -> None:
    """Construction succeeds in both libraries; the forward raises the same type in both."""
    theirs, ours = build(torch_nn), build(refimpl)
    with pytest.raises(RuntimeError) as expected:
        theirs(zeros(1, 1, 6, 6))
    with pytest.raises(type(expected.value)):
        ours(zeros(1, 1, 6, 6))


# ------------------------------------------------------------------- functional padding


@pytest.mark.parametrize(
    ("mode", "pads", "torch_mode"),
    [
        pytest.param("reflect", (3, 3, 3, 3), "reflect", id="reflect-larger-than-input"),
        pytest.param("reflect", (0, 0, 2, 2), "reflect", id="reflect-equal-to-input-height"),
        pytest.param("circular", (3, 3, 3, 3), "circular", id="circular-wraps-twice"),
    ],
)
def test_pad2d_larger_than_input(mode: str, pads: tuple[int, ...], torch_mode: str) -> None:
    """``functional.pad2d`` checked against ``torch.nn.functional.pad``."""
    expect_same_error(
        lambda nn: TF.pad(zeros(1, 1, 2, 2), pads, mode=torch_mode),
        [mode, "padding=", str(pads), "[1, 1, 2, 2]"],
        torch_type=RuntimeError,
        ref_build=lambda nn: nn.functional.pad2d(zeros(1, 1, 2, 2), pads, mode=mode),
    )


# --------------------------------------------------------------------------------- shapes

# fmt: off
SHAPES_CASES = [
    # (call, exception, fragments of the message)
    case("conv_output_size-zero-stride", ValueError, ["stride=0"],
         lambda: shapes.conv_output_size(5, 3, stride=0)),
    case("conv_output_size-negative-stride", ValueError, ["stride=-1"],
         lambda: shapes.conv_output_size(5, 3, stride=-1)),
    case("conv_output_size-negative-padding", ValueError, ["padding=-1"],
         lambda: shapes.conv_output_size(5, 3, padding=-1)),
    case("conv_output_size-negative-padding-after", ValueError, ["padding", "-2"],
         lambda: shapes.conv_output_size(5, 3, padding=(1, -2))),
    case("conv_output_size-zero-dilation", ValueError, ["dilation=0"],
         lambda: shapes.conv_output_size(5, 3, dilation=0)),
    case("conv_output_size-zero-in_size", ValueError, ["in_size=0"],
         lambda: shapes.conv_output_size(0, 3)),
    case("conv_output_size-zero-kernel_size", ValueError, ["kernel_size=0"],
         lambda: shapes.conv_output_size(5, 0)),
    case("conv_output_size-same-with-stride-2", ValueError, ["padding='same'", "stride=2"],
         lambda: shapes.conv_output_size(5, 3, stride=2, padding="same")),
    case("conv_output_size-unknown-padding-string", ValueError, ["padding", "'full'"],
         lambda: shapes.conv_output_size(5, 3, padding="full")),
    case("conv_output_size-kernel-larger-than-input", ValueError, ["kernel_size=5", "2"],
         lambda: shapes.conv_output_size(2, 5)),
    case("conv_output_size-float-kernel_size", TypeError, ["kernel_size", "3.0"],
         lambda: shapes.conv_output_size(5, 3.0)),
    case("conv_output_size-bool-kernel_size", TypeError, ["kernel_size", "True"],
         lambda: shapes.conv_output_size(5, True)),
    case("conv_output_size-str-in_size", TypeError, ["in_size", "'5'"],
         lambda: shapes.conv_output_size("5", 3)),
    case("conv_output_size-float-padding", TypeError, ["padding", "1.5"],
         lambda: shapes.conv_output_size(5, 3, padding=1.5)),
    case("conv_output_size-padding-of-three-values", TypeError, ["padding", "(1, 2, 3)"],
         lambda: shapes.conv_output_size(5, 3, padding=(1, 2, 3))),
    case("conv_output_size-stride-None", TypeError, ["stride", "None"],
         lambda: shapes.conv_output_size(5, 3, stride=None)),
    case("d2l_output_size-negative-total_padding", ValueError, ["total_padding=-1"],
         lambda: shapes.d2l_output_size(5, 3, total_padding=-1)),
    case("d2l_output_size-kernel-larger-than-input", ValueError, ["kernel_size=5", "2"],
         lambda: shapes.d2l_output_size(2, 5)),
    case("d2l_output_size-zero-stride", ValueError, ["stride=0"],
         lambda: shapes.d2l_output_size(5, 3, stride=0)),
    case("pool_output_size-padding-over-half-kernel", ValueError, ["padding=2", "kernel_size=2"],
         lambda: shapes.pool_output_size(5, 2, padding=2)),
    case("pool_output_size-kernel-larger-than-input", ValueError, ["kernel_size=5", "2"],
         lambda: shapes.pool_output_size(2, 5)),
    case("pool_output_size-zero-stride", ValueError, ["stride=0"],
         lambda: shapes.pool_output_size(5, 2, stride=0)),
    case("pool_output_size-negative-padding", ValueError, ["padding=-1"],
         lambda: shapes.pool_output_size(5, 2, padding=-1)),
    case("pool_output_size-zero-dilation", ValueError, ["dilation=0"],
         lambda: shapes.pool_output_size(5, 2, dilation=0)),
    case("pool_output_size-float-stride", TypeError, ["stride", "2.0"],
         lambda: shapes.pool_output_size(5, 2, stride=2.0)),
    case("effective_kernel_size-zero-kernel_size", ValueError, ["kernel_size=0"],
         lambda: shapes.effective_kernel_size(0)),
    case("effective_kernel_size-negative-dilation", ValueError, ["dilation=-1"],
         lambda: shapes.effective_kernel_size(3, -1)),
    case("same_padding-zero-dilation", ValueError, ["dilation=0"],
         lambda: shapes.same_padding(3, dilation=0)),
    case("adaptive_bins-zero-out_size", ValueError, ["out_size=0"],
         lambda: shapes.adaptive_bins(4, 0)),
    case("adaptive_bins-negative-out_size", ValueError, ["out_size=-1"],
         lambda: shapes.adaptive_bins(4, -1)),
    case("adaptive_bins-zero-in_size", ValueError, ["in_size=0"],
         lambda: shapes.adaptive_bins(0, 2)),
    case("adaptive_bins-float-out_size", TypeError, ["out_size", "2.0"],
         lambda: shapes.adaptive_bins(4, 2.0)),
    case("conv2d_output_shape-three-sizes", TypeError, ["input_size", "(5, 5, 5)"],
         lambda: shapes.conv2d_output_shape((5, 5, 5), 3)),
    case("conv2d_output_shape-unknown-padding-string", ValueError, ["padding", "'full'"],
         lambda: shapes.conv2d_output_shape((5, 5), 3, padding="full")),
    case("conv2d_output_shape-zero-stride-in-width", ValueError, ["stride=0"],
         lambda: shapes.conv2d_output_shape((5, 5), 3, stride=(1, 0))),
    case("pool2d_output_shape-padding-over-half", ValueError, ["padding=2", "kernel_size=2"],
         lambda: shapes.pool2d_output_shape((5, 5), 2, padding=2)),
    case("pool2d_output_shape-kernel-of-three-values", TypeError, ["kernel_size", "(2, 2, 2)"],
         lambda: shapes.pool2d_output_shape((5, 5), (2, 2, 2))),
]
# fmt: on


# fmt: off
SHAPES_TYPE_CASES = [
    case("conv2d_output_shape-float-input_size", TypeError, ["input_size", "5.7"],
         lambda: shapes.conv2d_output_shape((5.7, 5), 3)),
    case("conv2d_output_shape-str-input_size", TypeError, ["input_size", "'5'"],
         lambda: shapes.conv2d_output_shape(("5", 5), 3)),
    case("conv2d_output_shape-float-kernel_size", TypeError, ["kernel_size", "3.9"],
         lambda: shapes.conv2d_output_shape((5, 5), (3.9, 3))),
    case("conv2d_output_shape-float-stride", TypeError, ["stride", "1.5"],
         lambda: shapes.conv2d_output_shape((5, 5), 3, stride=(1.5, 1))),
    case("conv2d_output_shape-float-dilation", TypeError, ["dilation", "2.5"],
         lambda: shapes.conv2d_output_shape((5, 5), 3, dilation=(2.5, 1))),
    case("conv2d_output_shape-bool-padding", TypeError, ["padding", "True"],
         lambda: shapes.conv2d_output_shape((5, 5), 3, padding=(True, 0))),
    case("pool2d_output_shape-float-input_size", TypeError, ["input_size", "5.9"],
         lambda: shapes.pool2d_output_shape((5.9, 5), 2)),
    case("conv2d_output_shape-nested-padding", TypeError, ["padding", "((1, 1), (1, 1))"],
         lambda: shapes.conv2d_output_shape((5, 5), 3, padding=((1, 1), (1, 1)))),
]
# fmt: on


@pytest.mark.parametrize(("call", "error", "names"), SHAPES_CASES + SHAPES_TYPE_CASES)
def test_shapes(call: Callable[[], Any], error: type[Exception], names: Sequence[str]) -> None:
    exc, result, seconds = _timed_raise(call)
    if exc is None:
        raise RefimplMismatch(f"returned {result!r} instead of raising {error.__name__}")
    if seconds >= CALL_BUDGET_S:
        raise RefimplMismatch(f"took {seconds:.2f} s")
    if type(exc) is not error:
        raise RefimplMismatch(f"raised {type(exc).__name__} ({exc}), not {error.__name__}")
    missing = _missing(str(exc), names)
    if missing:
        raise RefimplMismatch(f"message {str(exc)!r} lacks {', '.join(missing)}")


# ------------------------------------------------------------------- the helper itself


def test_helper_rejects_a_silent_result() -> None:
    with pytest.raises(RefimplMismatch, match="raised nothing"):
        expect_same_error(
            lambda nn: nn.Conv2d(1, 1, 3)(zeros(5, 5)) if nn is torch_nn else zeros(1),
            ["input"],
        )


def test_helper_rejects_another_exception_type() -> None:
    def build(nn: ModuleType) -> Any:
        if nn is torch_nn:
            raise RuntimeError("torch's")
        raise ValueError("input=1")

    with pytest.raises(RefimplMismatch, match="refimpl raised ValueError"):
        expect_same_error(build, ["input"])


def test_helper_rejects_a_message_without_the_value() -> None:
    with pytest.raises(RefimplMismatch, match="lacks '7'"):
        expect_same_error(lambda nn: nn.Conv2d(5, 4, 3, groups=2), ["in_channels", "7"])


def test_helper_rejects_a_slow_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(globals(), "CALL_BUDGET_S", 0.0)
    with pytest.raises(AssertionError, match="took"):
        expect_same_error(lambda nn: nn.Conv2d(5, 4, 3, groups=2), ["in_channels"])


def test_helper_fails_when_torch_does_not_raise() -> None:
    with pytest.raises(pytest.fail.Exception, match="torch raised nothing"):
        expect_same_error(lambda nn: nn.Conv2d(1, 1, 3)(zeros(1, 1, 5, 5)), [])
