"""refimpl.training: the digits split, the training loop, and refimpl == torch.nn under training."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

import refimpl
from refimpl.models import to_torch
from refimpl.models.small import deep_cnn, digits_cnn, he_init, lenet8
from refimpl.training import History, load_digits_split, materialize, train, train_many


@pytest.fixture(scope="module")
def data():
    return load_digits_split()


@pytest.fixture(scope="module")
def subset(data):
    return data._replace(x_train=data.x_train[:320], y_train=data.y_train[:320])


def test_split_is_deterministic_disjoint_and_stratified(data):
    again = load_digits_split()
    for a, b in zip(data, again):
        assert torch.equal(a, b)
    assert data.x_train.shape[1:] == (1, 8, 8) and data.x_train.dtype == torch.float32
    assert data.y_train.dtype == torch.int64
    assert len(data.x_train) + len(data.x_val) == 1797
    other = load_digits_split(seed=1)
    assert not torch.equal(other.y_val, data.y_val)  # the seed picks the split
    fraction = torch.bincount(data.y_val) / (
        torch.bincount(data.y_train) + torch.bincount(data.y_val)
    )
    assert torch.allclose(fraction, torch.full_like(fraction, 0.25), atol=0.01)  # stratified
    assert float(data.x_train.min()) == 0.0 and float(data.x_train.max()) == 1.0


def test_split_indices_are_disjoint():
    from sklearn.datasets import load_digits

    images = torch.tensor(load_digits().images, dtype=torch.float32).unsqueeze(1) / 16
    data = load_digits_split()
    # every image of the split is one of the data set's, and the sizes add up exactly
    assert len(data.x_train) + len(data.x_val) == len(images)
    joined = torch.cat([data.x_train, data.x_val]).flatten(1)
    assert torch.equal(joined.sum(0), images.flatten(1).sum(0))


def test_bad_arguments(subset):
    with pytest.raises(ValueError):
        load_digits_split(validation_fraction=1.0)
    net = nn.Sequential(refimpl.Flatten(), refimpl.LazyLinear(10))
    with pytest.raises(ValueError):
        train(net, subset, epochs=0, lr=0.1)
    with pytest.raises(ValueError):
        train(net, subset, epochs=1, lr=0.1, optimizer="lbfgs")


@pytest.mark.parametrize(
    "factory",
    [lambda: lenet8(batch_norm=True), lambda: deep_cnn(2, channels=4, residual=True)],
    ids=["lenet8-bn", "deep-residual"],
)
def test_refimpl_and_torch_twin_train_the_same_curve(factory, subset):
    torch.manual_seed(0)
    ours = materialize(factory(), subset.x_train[:2])
    twin = to_torch(ours)
    a = train(ours, subset, epochs=3, lr=0.1, batch_size=32)
    b = train(twin, subset, epochs=3, lr=0.1, batch_size=32)
    for field in ("train_loss", "val_loss", "val_accuracy"):
        assert getattr(a, field) == pytest.approx(getattr(b, field), rel=1e-4, abs=1e-5), field
    assert a.train_loss[-1] < a.train_loss[0]


def test_same_seed_same_history_and_fields(subset):
    runs = [train(digits_cnn(head="gap"), subset, epochs=2, lr=0.1, seed=3) for _ in range(2)]
    assert isinstance(runs[0], History)
    assert runs[0].epochs == 2
    assert runs[0].train_loss == runs[1].train_loss
    assert runs[0].val_accuracy == runs[1].val_accuracy
    assert len(runs[0].val_loss) == len(runs[0].val_accuracy) == 2
    assert all(0.0 <= acc <= 1.0 for acc in runs[0].val_accuracy)
    assert runs[0].seconds > 0


def test_adam_trains(subset):
    net = nn.Sequential(refimpl.Flatten(), refimpl.LazyLinear(10))
    history = train(net, subset, epochs=3, lr=0.01, optimizer="adam")
    assert history.train_loss[-1] < history.train_loss[0]


class _FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal(subset, capsys):
    net = nn.Sequential(refimpl.Flatten(), refimpl.LazyLinear(10))
    quiet = io.StringIO()
    train(net, subset, epochs=2, lr=0.1, stream=quiet)
    assert quiet.getvalue() == ""
    train(net, subset, epochs=2, lr=0.1)  # stdout captured by pytest: not a terminal
    assert capsys.readouterr().out == ""
    tty = _FakeTty()
    train(net, subset, epochs=2, lr=0.1, stream=tty)
    text = tty.getvalue()
    assert text.count("\r") == 2 and "epoch 2/2" in text and text.endswith("\n")
    forced = io.StringIO()
    train(net, subset, epochs=1, lr=0.1, stream=forced, progress=True)
    assert "epoch 1/1" in forced.getvalue()


def test_digits_read_from_the_file_equal_scikit_learns_loader():
    from sklearn.datasets import load_digits

    from refimpl.training import _digits

    pixels, labels = _digits()
    digits = load_digits()
    assert torch.equal(pixels, torch.tensor(digits.data, dtype=torch.int64))
    assert torch.equal(labels, torch.tensor(digits.target, dtype=torch.int64))


def _job(subset, lr, **kwargs):
    # a fresh lazy model per job, built here: train seeds itself and materializes it
    return lambda: train(lenet8(batch_norm=True), subset, epochs=2, lr=lr, batch_size=32, **kwargs)


def test_train_many_equals_training_one_after_another(subset):
    rates = (0.1, 0.5, 1.0)
    parallel = train_many({lr: _job(subset, lr) for lr in rates}, processes=2)
    serial = train_many({lr: _job(subset, lr) for lr in rates}, processes=1)
    direct = {lr: _job(subset, lr)() for lr in rates}
    assert list(parallel) == list(rates)
    for lr in rates:
        for field in ("train_loss", "val_loss", "val_accuracy"):
            # the same seed and one thread everywhere: the same floats, not just close ones
            assert (
                getattr(parallel[lr], field)
                == getattr(serial[lr], field)
                == getattr(direct[lr], field)
            ), (lr, field)
    assert parallel[1.0].train_loss != parallel[0.1].train_loss  # the jobs really differ


def test_train_many_reports_a_failing_job_and_can_run_again(subset):
    def broken():
        raise ValueError("this job fails")

    with pytest.raises(ValueError, match="this job fails"):
        train_many({"ok": _job(subset, 0.1), "broken": broken}, processes=2)
    again = train_many({"ok": _job(subset, 0.1)}, processes=2)
    assert again["ok"].epochs == 2


def test_train_many_bad_arguments(subset):
    with pytest.raises(ValueError, match="processes must be at least 1, got 0"):
        train_many({"a": _job(subset, 0.1)}, processes=0)

    def nested():
        return train_many({"inner": _job(subset, 0.1)}, processes=1)["inner"]

    with pytest.raises(RuntimeError, match="inside one of its own jobs"):
        train_many({"outer": nested}, processes=1)
    assert train_many({}) == {}


def test_train_runs_on_the_requested_threads_and_restores_them(subset):
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(torch.get_num_threads())
            return x

    before = torch.get_num_threads()
    net = nn.Sequential(Probe(), refimpl.Flatten(), refimpl.LazyLinear(10))
    train(net, subset, epochs=1, lr=0.1)
    assert set(seen[1:]) == {1}  # seen[0]: the materializing pass, before the loop
    assert torch.get_num_threads() == before
    seen.clear()
    train(net, subset, epochs=1, lr=0.1, threads=None)
    assert set(seen) == {before}
    with pytest.raises(ValueError, match="threads must be at least 1, got 0"):
        train(net, subset, epochs=1, lr=0.1, threads=0)


def test_he_init_draws_the_he_scale_and_zero_biases():
    net = he_init(lenet8(activation="relu"), torch.zeros(1, 1, 8, 8), seed=3)
    again = he_init(lenet8(activation="relu"), torch.zeros(1, 1, 8, 8), seed=3)

    def weighted(model):
        return [m for m in model.modules() if isinstance(m, (refimpl.Conv2d, refimpl.Linear))]

    layers = weighted(net)
    assert len(layers) == 5
    for layer, twin in zip(layers, weighted(again), strict=True):
        assert torch.equal(layer.weight, twin.weight)  # the seed fixes the draw
    wide = layers[2]  # 64 -> 120: 7,680 weights, enough for the standard deviation
    fan_in = wide.weight.shape[1]
    assert abs(float(wide.weight.detach().std()) / (2 / fan_in) ** 0.5 - 1) < 0.05
    assert all(not m.bias.any() for m in layers)


def test_lenet_activation_choice():
    assert sum(isinstance(m, refimpl.ReLU) for m in lenet8(activation="relu")) == 4
    assert sum(isinstance(m, nn.Sigmoid) for m in lenet8()) == 4
    with pytest.raises(ValueError, match="activation must be 'sigmoid' or 'relu', got 'tanh'"):
        lenet8(activation="tanh")
