"""PyTorch's own module tests, run against refimpl's layers.

The samples come from the test database that ships in the torch wheel:
``torch.testing._internal.common_modules.module_db`` (one ``ModuleInfo`` per module:
constructor and forward inputs, error inputs, dtypes) and the older lists of
``torch.testing._internal.common_nn`` (``module_tests`` and ``new_module_tests``).
Every sample for a ``torch.nn`` class that refimpl provides runs twice: once through
torch's module, once through refimpl's, which gets torch's state with
``load_state_dict(strict=True)``. Outputs (values and memory layout), input
gradients, parameter gradients, buffers after the forward and warnings must agree,
in train and in eval mode, in every dtype the ``ModuleInfo`` lists, and in the
variants torch's own ``test_modules.py`` applies: channels-last inputs, non-contiguous
inputs and gradients, and modules built with ``device=``/``dtype=`` arguments. An
error input must fail the same way in both: the same exception type, at the same
stage (construction or forward).

The lazy modules torch has no entry for (``LazyLinear``, ``LazyBatchNorm1d/2d``) take
their eager twin's samples, less the argument they infer.

In float16 and bfloat16 the two are compared with the float64 answer, not with each
other: refimpl's error must be no larger than torch's.
"""

from __future__ import annotations

import copy
import inspect
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from torch import Tensor

from refimpl import modules as ours
from refimpl.models.torch_twin import constructor_arguments

CUDA = torch.cuda.is_available()
DEVICES = [
    pytest.param("cpu"),
    pytest.param(
        "cuda", marks=pytest.mark.skipif(not CUDA, reason="no CUDA device on this machine")
    ),
]
LOW_PRECISION = (torch.float16, torch.bfloat16)


def _import_test_database() -> tuple[Any, Any, list[dict[str, Any]]]:
    """Import torch's test database, undoing the global changes its import makes.

    ``common_utils`` locks ``torch.backends``' flags (setting one then raises outside a
    ``flags()`` block), wraps TorchScript's call operators for profiling and may touch
    the environment; ``get_new_module_tests`` reseeds the global generator. None of
    that may leak into the rest of the suite, whatever order the files run in.
    """
    import torch.backends

    # the lock is a global of torch/backends/__init__.py, read through its functions' globals
    backends_globals = torch.backends.flags_frozen.__globals__
    flag = "__allow_nonbracketed_mutation_flag"
    saved_flag = backends_globals[flag]
    saved_calls = (torch._C.ScriptFunction.__call__, torch._C.ScriptMethod.__call__)
    saved_environ = dict(os.environ)
    saved_dtype = torch.get_default_dtype()
    saved_rng = torch.get_rng_state()
    saved_filters = list(warnings.filters)
    try:
        from torch.testing._internal import common_modules, common_nn

        new_module_tests = common_nn.get_new_module_tests()
    finally:
        backends_globals[flag] = saved_flag
        torch._C.ScriptFunction.__call__, torch._C.ScriptMethod.__call__ = saved_calls  # type: ignore[method-assign]
        os.environ.clear()
        os.environ.update(saved_environ)
        torch.set_default_dtype(saved_dtype)
        torch.set_rng_state(saved_rng)
        warnings.filters[:] = saved_filters
    return common_modules, common_nn, new_module_tests


common_modules, common_nn, NEW_MODULE_TESTS = _import_test_database()
ModuleErrorEnum = common_modules.ModuleErrorEnum

OURS: dict[str, type[torch.nn.Module]] = {name: getattr(ours, name) for name in ours.__all__}
# lazy modules torch's module_db has no entry for: (eager twin, how many leading
# constructor arguments the lazy module infers instead of taking)
LAZY_TWINS = {"LazyLinear": ("Linear", 1), "LazyBatchNorm1d": ("BatchNorm1d", 1),
              "LazyBatchNorm2d": ("BatchNorm2d", 1)}  # fmt: skip


# --- the cases --------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One module built one way and called on one input."""

    name: str  # the torch.nn class name
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    inputs: tuple[Any, ...]
    input_kwargs: dict[str, Any] = field(default_factory=dict)
    torch_module: torch.nn.Module | None = None  # common_nn's `constructor` entries


def _seed(device: str) -> None:
    """Seed the generators the samples draw from (``torch.manual_seed`` also walks every
    accelerator backend, formatting a stack trace each time: slow over thousands of calls)."""
    torch.default_generator.manual_seed(0)
    if device == "cuda":
        torch.cuda.manual_seed(0)


def _module_info(name: str) -> Any:
    cls = getattr(torch.nn, name, None)  # None for the layers torch.nn lacks (LayerNorm2d)
    for info in common_modules.module_db:
        if cls is not None and info.module_cls is cls:
            return info
    return None


def _in_db(name: str) -> bool:
    return _module_info(name) is not None or name in LAZY_TWINS


def _info_and_dropped(name: str) -> tuple[Any, int]:
    """``name``'s ModuleInfo, or its eager twin's and how many leading arguments to drop."""
    info = _module_info(name)
    if info is not None:
        return info, 0
    twin, dropped = LAZY_TWINS[name]
    return _module_info(twin), dropped


def _db_samples(name: str, device: str, dtype: torch.dtype, training: bool) -> list[Sample]:
    """``module_db``'s samples for ``name``, or its eager twin's for a derived lazy module."""
    info, dropped = _info_and_dropped(name)
    _seed(device)  # the same tensors at collection and at run time
    made = info.module_inputs_func(
        info, device=device, dtype=dtype, requires_grad=True, training=training
    )
    return [
        Sample(
            name,
            m.constructor_input.args[dropped:],
            dict(m.constructor_input.kwargs),
            m.forward_input.args,
            dict(m.forward_input.kwargs),
        )
        for m in made
    ]


def _db_error_samples(name: str, device: str, dtype: torch.dtype, training: bool) -> list[Any]:
    info, dropped = _info_and_dropped(name)
    if info.module_error_inputs_func is None:
        return []
    _seed(device)
    made = info.module_error_inputs_func(
        info, device=device, dtype=dtype, requires_grad=True, training=training
    )
    return [
        (
            Sample(
                name,
                e.module_error_input.constructor_input.args[dropped:],
                dict(e.module_error_input.constructor_input.kwargs),
                e.module_error_input.forward_input.args,
                dict(e.module_error_input.forward_input.kwargs),
            ),
            e,
        )
        for e in made
    ]


def _db_dtypes(name: str) -> list[torch.dtype]:
    info = _module_info(name) or _module_info(LAZY_TWINS[name][0])
    return sorted(info.dtypes, key=str)


def _nn_entries() -> list[dict[str, Any]]:
    """The ``common_nn`` entries for modules refimpl provides, each with an ``id``."""
    entries = []
    for entry in [*common_nn.module_tests, *NEW_MODULE_TESTS]:
        if "module_name" in entry:
            name = entry["module_name"]
            ident = name + ("_" + entry["desc"] if "desc" in entry else "")
        elif "fullname" in entry and "constructor" in entry:
            name = entry["fullname"].split("_")[0]
            ident = entry["fullname"]
        else:
            continue
        if name in OURS:
            entries.append({**entry, "name": name, "id": ident})
    return entries


NN_ENTRIES = {entry["id"]: entry for entry in _nn_entries()}


def _nn_dtypes(entry: dict[str, Any]) -> list[torch.dtype]:
    dtypes = [torch.float32, torch.float64]
    if entry.get("check_half"):
        dtypes.append(torch.float16)
    if entry.get("check_bfloat16"):
        dtypes.append(torch.bfloat16)
    return dtypes


def _nn_sample(entry: dict[str, Any], device: str, dtype: torch.dtype) -> Sample:
    _seed(device)
    if "input_fn" in entry:
        made = entry["input_fn"]()
        inputs = made if isinstance(made, tuple) else (made,)
    else:
        inputs = (torch.randn(entry["input_size"], dtype=torch.float64),)
    inputs = tuple(
        x.detach().to(device, dtype).requires_grad_(True) if x.is_floating_point() else x
        for x in inputs
    )
    args = tuple(entry.get("constructor_args", ()))
    kwargs = dict(entry.get("constructor_kwargs", {}))
    module = None
    if "constructor" in entry:  # a lambda building torch's module: refimpl's reads its settings
        module = entry["constructor"](*args, **kwargs)
    return Sample(entry["name"], args, kwargs, inputs, {}, module)


VARIANTS = ("plain", "noncontiguous", "channels_last", "factory_kwargs")


def _applies(variant: str, sample: Sample) -> bool:
    """Whether ``variant`` changes anything for ``sample`` (channels-last needs a 4D input)."""
    if variant == "channels_last":
        return any(isinstance(x, Tensor) and x.dim() == 4 for x in sample.inputs)
    if variant == "noncontiguous":
        return any(isinstance(x, Tensor) and x.numel() > 1 for x in sample.inputs)
    if variant == "factory_kwargs":
        return "dtype" in inspect.signature(getattr(torch.nn, sample.name)).parameters
    return True


def _sample_cases() -> Iterator[Any]:
    for name in filter(_in_db, OURS):
        for dtype in _db_dtypes(name):
            for training in (True, False):
                for index, sample in enumerate(_db_samples(name, "cpu", dtype, training)):
                    for variant in VARIANTS:
                        if not _applies(variant, sample):
                            continue
                        mode = "train" if training else "eval"
                        ident = f"{name}-db{index}-{str(dtype)[6:]}-{mode}-{variant}"
                        yield pytest.param(("db", name, index), dtype, training, variant, id=ident)
    # common_nn's entries run as torch's test_nn.py runs them: as they are (no layout or
    # factory variants), in training, and in eval too where the entry asks (check_eval)
    for ident, entry in NN_ENTRIES.items():
        for dtype in _nn_dtypes(entry):
            for training in (True, False) if entry.get("check_eval") else (True,):
                mode = "train" if training else "eval"
                param_id = f"{entry['name']}-nn_{ident}-{str(dtype)[6:]}-{mode}-plain"
                yield pytest.param(("nn", ident, 0), dtype, training, "plain", id=param_id)


def _error_cases() -> Iterator[Any]:
    for name in filter(_in_db, OURS):
        for dtype in _db_dtypes(name):
            for training in (True, False):
                for index, _ in enumerate(_db_error_samples(name, "cpu", dtype, training)):
                    mode = "train" if training else "eval"
                    ident = f"{name}-error{index}-{str(dtype)[6:]}-{mode}"
                    yield pytest.param(name, index, dtype, training, id=ident)


_rng = torch.get_rng_state()  # listing the cases draws samples: leave the generator as it was
SAMPLE_CASES = list(_sample_cases())
ERROR_CASES = list(_error_cases())
torch.set_rng_state(_rng)


# --- building and running ---------------------------------------------------------------


def _build(sample: Sample, device: str, dtype: torch.dtype, factory: bool) -> tuple[Any, Any]:
    """torch's module and refimpl's, built from the same arguments (torch's first)."""
    factory_kwargs = {"device": device, "dtype": dtype} if factory else {}
    if sample.torch_module is not None:  # already built: moved as a factory would build it
        theirs = sample.torch_module.to(device, dtype) if factory else sample.torch_module
        cls = OURS[sample.name]
        mine = cls(**constructor_arguments(theirs, cls), **factory_kwargs)
    else:
        theirs = getattr(torch.nn, sample.name)(*sample.args, **sample.kwargs, **factory_kwargs)
        mine = OURS[sample.name](*sample.args, **sample.kwargs, **factory_kwargs)
    return theirs, mine


def _noncontiguous(x: Any) -> Any:
    """The same values in a tensor whose last dim has stride 2 (not contiguous)."""
    if not isinstance(x, Tensor) or x.numel() <= 1:
        return x
    spread = torch.stack([x.detach(), torch.zeros_like(x)], dim=-1)[..., 0]
    assert not spread.is_contiguous()
    return spread.requires_grad_(x.requires_grad)


def _prepare(inputs: tuple[Any, ...], variant: str) -> tuple[Any, ...]:
    """A fresh copy of the inputs, laid out for ``variant``, with their own ``.grad``."""
    prepared = []
    for x in inputs:
        if isinstance(x, Tensor):
            y = x.detach().clone()
            if variant == "channels_last" and y.dim() == 4:
                y = y.contiguous(memory_format=torch.channels_last)
            if variant == "noncontiguous":
                y = _noncontiguous(y)
            x = y.requires_grad_(x.requires_grad)
        prepared.append(x)
    return tuple(prepared)


def _flat(output: Any) -> list[Tensor]:
    return list(output) if isinstance(output, tuple | list) else [output]


@dataclass
class Run:
    outputs: list[Tensor]
    input_grads: list[Tensor | None]
    param_grads: dict[str, Tensor | None]
    buffers: dict[str, Tensor]
    warnings: set[str]


def _run(
    module: torch.nn.Module,
    inputs: tuple[Any, ...],
    input_kwargs: dict[str, Any],
    grad_outputs: Callable[[list[Tensor]], list[Tensor | None]],
) -> Run:
    """Forward, backward with the given output gradients, and everything to compare."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outputs = _flat(module(*inputs, **input_kwargs))
        pairs = [
            (out, grad)
            for out, grad in zip(outputs, grad_outputs(outputs), strict=True)
            if grad is not None and out.requires_grad
        ]
        if pairs:
            torch.autograd.backward([o for o, _ in pairs], [g for _, g in pairs])
    return Run(
        [o.detach() for o in outputs],
        [x.grad if isinstance(x, Tensor) else None for x in inputs],
        {name: p.grad for name, p in module.named_parameters()},
        {name: b.detach().clone() for name, b in module.named_buffers()},
        {f"{w.category.__name__}: {w.message}" for w in caught},
    )


def _random_grads(
    variant: str, dtype: torch.dtype
) -> Callable[[list[Tensor]], list[Tensor | None]]:
    """Output gradients drawn once from a fixed seed, then reused for the other modules.

    They are rounded to the sample's ``dtype`` first, so that the float64 run that gives
    the half types their answer starts from the very values the half-precision runs get.
    """
    drawn: list[Tensor | None] = []

    def grads(outputs: list[Tensor]) -> list[Tensor | None]:
        if not drawn:
            generator = torch.Generator().manual_seed(1)
            for out in outputs:
                if not out.is_floating_point():
                    drawn.append(None)
                    continue
                g = torch.randn(out.shape, generator=generator, dtype=torch.float64)
                g = g.to(dtype).double()
                drawn.append(_noncontiguous(g) if variant == "noncontiguous" else g)
        return [
            None if g is None else g.to(out.device, out.dtype)
            for g, out in zip(drawn, outputs, strict=True)
        ]

    return grads


def _materialize_lazy(module: torch.nn.Module, inputs: tuple[Any, ...], kwargs: dict) -> None:
    """Give torch's lazy module its shapes with a forward that changes no state."""
    training = module.training
    with torch.no_grad():
        module.eval()(*_prepare(inputs, "plain"), **kwargs)
    module.train(training)


def _quantities(run: Run) -> dict[str, Tensor | None]:
    named: dict[str, Tensor | None] = {}
    named.update({f"output {i}": t for i, t in enumerate(run.outputs)})
    named.update({f"grad of input {i}": t for i, t in enumerate(run.input_grads)})
    named.update({f"grad of {k}": t for k, t in run.param_grads.items()})
    named.update({f"buffer {k}": t for k, t in run.buffers.items()})
    return named


def _layout(t: Tensor) -> tuple[bool, bool]:
    """(contiguous, channels-last): torch's test_memory_format expects a channels-last
    result from a channels-last input (or convolution weight)."""
    if t.numel() == 0:
        return (True, True)
    return t.is_contiguous(), t.is_contiguous(memory_format=torch.channels_last)


def _max_error(t: Tensor, answer: Tensor) -> float:
    if t.numel() == 0:
        return 0.0
    return (t.double() - answer.double()).abs().max().item()


# --- the tests --------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    """Run these small tensors on one thread: on a busy machine, waking a second thread
    for every op costs more than the op. Set back afterwards for the rest of the suite."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _sample_for(source: tuple[str, str, int], device: str, dtype: Any, training: bool) -> Sample:
    kind, key, index = source
    if kind == "db":
        return _db_samples(key, device, dtype, training)[index]
    return _nn_sample(NN_ENTRIES[key], device, dtype)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("source", "dtype", "training", "variant"), SAMPLE_CASES)
def test_sample_matches_torch(
    source: tuple[str, str, int], dtype: torch.dtype, training: bool, variant: str, device: str
) -> None:
    sample = _sample_for(source, device, dtype, training)
    factory = variant == "factory_kwargs"
    lazy = sample.name.startswith("Lazy")
    theirs, mine = _build(sample, device, dtype, factory or lazy)
    if not (factory or lazy):
        theirs, mine = theirs.to(device, dtype), mine.to(device, dtype)
    theirs.train(training)
    mine.train(training)
    if lazy:
        _materialize_lazy(theirs, sample.inputs, sample.input_kwargs)
    if variant == "channels_last":
        theirs = theirs.to(memory_format=torch.channels_last)
    # a float64 copy of torch's module gives the answer the half types are measured against
    exact = copy.deepcopy(theirs).double() if dtype in LOW_PRECISION else None
    if factory:  # built in place: parameters and buffers already on the device, in the dtype
        got = {k: (t.dtype, t.device) for k, t in mine.state_dict().items()}
        want = {k: (t.dtype, t.device) for k, t in theirs.state_dict().items()}
        if not lazy:
            assert got == want
    mine.load_state_dict(theirs.state_dict(), strict=True)
    if variant == "channels_last":  # after the state: a lazy module has no shapes before
        mine = mine.to(memory_format=torch.channels_last)

    grads = _random_grads(variant, dtype)
    inputs = _prepare(sample.inputs, variant)
    torch_run = _run(theirs, inputs, sample.input_kwargs, grads)
    our_run = _run(mine, _prepare(sample.inputs, variant), sample.input_kwargs, grads)

    if lazy:
        assert type(mine).__name__ == type(theirs).__name__  # became its eager class
    assert our_run.warnings <= torch_run.warnings, "refimpl warns where torch does not"
    for got, want in zip(our_run.outputs, torch_run.outputs, strict=True):
        assert _layout(got) == _layout(want), "output memory layout"
    torch_values, our_values = _quantities(torch_run), _quantities(our_run)
    assert our_values.keys() == torch_values.keys()
    if exact is None:
        for name, want in torch_values.items():
            got = our_values[name]
            assert (got is None) == (want is None), name
            if want is not None and got is not None:
                assert got.shape == want.shape and got.dtype == want.dtype, name
                torch.testing.assert_close(got, want, msg=lambda m, n=name: f"{n}: {m}")
        return

    double_inputs = tuple(
        x.detach().double().requires_grad_(x.requires_grad) if isinstance(x, Tensor) else x
        for x in _prepare(sample.inputs, "plain")
    )
    exact_values = _quantities(_run(exact, double_inputs, sample.input_kwargs, grads))
    for name, answer in exact_values.items():
        want, got = torch_values[name], our_values[name]
        assert (got is None) == (want is None), name
        if answer is None or want is None or got is None:
            continue
        assert got.shape == want.shape and got.dtype == want.dtype, name
        if not want.is_floating_point():
            torch.testing.assert_close(got, want, msg=lambda m, n=name: f"{n}: {m}")
            continue
        ours_off, theirs_off = _max_error(got, answer), _max_error(want, answer)
        assert ours_off <= theirs_off, (  # no slack: at least as close as torch, exactly
            f"{name}: refimpl is {ours_off:.3g} off the float64 answer, torch {theirs_off:.3g}"
        )


def _outcome(step: Callable[[], Any]) -> type[BaseException] | None:
    try:
        step()
    except Exception as error:
        return type(error)
    return None


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("name", "index", "dtype", "training"), ERROR_CASES)
def test_error_input_fails_like_torch(
    name: str, index: int, dtype: torch.dtype, training: bool, device: str
) -> None:
    sample, error = _db_error_samples(name, device, dtype, training)[index]
    built: dict[str, Any] = {}

    def construct(cls: type[torch.nn.Module], key: str) -> None:
        built[key] = cls(*sample.args, **sample.kwargs)

    torch_at_construction = _outcome(lambda: construct(getattr(torch.nn, name), "torch"))
    our_at_construction = _outcome(lambda: construct(OURS[name], "ours"))
    assert our_at_construction is torch_at_construction, "construction"
    if error.error_on == ModuleErrorEnum.CONSTRUCTION_ERROR and training:
        assert torch_at_construction is error.error_type  # the database's own claim holds
    if torch_at_construction is not None:
        return

    def forward(key: str) -> None:
        module = built[key].to(device, dtype).train(training)
        module(*_prepare(sample.inputs, "plain"), **sample.input_kwargs)

    torch_at_forward = _outcome(lambda: forward("torch"))
    our_at_forward = _outcome(lambda: forward("ours"))
    assert our_at_forward is torch_at_forward, "forward"
    if error.error_on == ModuleErrorEnum.FORWARD_ERROR and training:
        assert torch_at_forward is error.error_type


# refimpl modules torch's database holds no sample for, and where they are tested instead
NOT_IN_DATABASE = {
    "Dropout": "torch's module_db and common_nn hold no Dropout sample (its mask is random); "
    "tests/test_basic_layers.py compares it with torch.nn.Dropout",
    "LayerNorm2d": "not a torch.nn layer (torchvision's, for ConvNeXt); "
    "tests/test_normalization.py compares it with torch.nn.LayerNorm between two permutes",
    "StochasticDepth": "not a torch.nn layer (torchvision's); "
    "tests/test_stochastic_depth_layer_scale.py checks its masks and compares it with a twin "
    "drawing its mask with torch.nn.Dropout",
    "LayerScale": "not a torch.nn layer (torchvision's ConvNeXt parameter as a layer); "
    "tests/test_stochastic_depth_layer_scale.py compares it with its twin",
}


def test_every_refimpl_module_has_samples() -> None:
    """Each torch.nn class refimpl provides is covered, except those named above."""
    covered = {param.values[0][1] for param in SAMPLE_CASES if param.values[0][0] == "db"}
    covered |= {NN_ENTRIES[p.values[0][1]]["name"] for p in SAMPLE_CASES if p.values[0][0] == "nn"}
    assert covered == set(OURS) - set(NOT_IN_DATABASE), sorted(set(OURS) - covered)


@pytest.mark.parametrize("name", sorted(NOT_IN_DATABASE))
def test_module_without_samples(name: str) -> None:
    pytest.skip(f"{name}: {NOT_IN_DATABASE[name]}")


def test_import_left_no_global_change() -> None:
    """The database's import gave back torch.backends' flags: setting one still works."""
    assert not torch.backends.flags_frozen()
    previous = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = previous  # raises if the flags were still locked
    assert torch.backends.mkldnn.enabled == previous
