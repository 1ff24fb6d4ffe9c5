"""refimpl.training: the digits split, the training loop, and refimpl == torch.nn under training."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

import refimpl
from refimpl.models import to_torch
from refimpl.models.small import deep_cnn, digits_cnn, lenet8
from refimpl.training import History, load_digits_split, materialize, train


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
