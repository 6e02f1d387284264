"""The training loop drives the optimizers that need more than ``step()``: schedule-free ones
(``train()``/``eval()``: the validation loss is the loss at x) and SAM (``step(closure)`` after
the gradient at w). Each against a hand-written loop of the same steps."""

from __future__ import annotations

import numpy as np
import pytest

import gdlab
from gdlab import nn, optim, train
from gdlab.data import DataLoader, TensorDataset


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = np.tanh(X @ np.array([[1.0], [-2.0], [0.5], [0.3]])) + 0.1 * rng.normal(size=(60, 1))
    return X, y


def _model() -> nn.Module:
    gdlab.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 1)).double()


def _loss(model: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    return float(nn.MSELoss()(model(gdlab.tensor(X)), gdlab.tensor(y)).item())


def _batches(X: np.ndarray, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(X[i : i + 20], y[i : i + 20]) for i in range(0, 40, 20)]


@pytest.mark.parametrize("name", ["SGDScheduleFree", "AdamWScheduleFree", "RAdamScheduleFree"])
def test_schedule_free_validation_loss_is_at_x(name):
    X, y = _data()
    kw = {"lr": 0.5} if name == "SGDScheduleFree" else {"lr": 0.05}
    model = _model()
    opt = getattr(optim, name)(model.parameters(), **kw)
    t = train.Trainer(
        model, nn.MSELoss(), opt, DataLoader(TensorDataset(X[:40], y[:40]), batch_size=20),
        val_loader=DataLoader(TensorDataset(X[40:], y[40:]), batch_size=20),
    )  # fmt: skip
    history = t.fit(3)

    manual = _model()  # the schedulefree package's loop: train(), steps, eval(), evaluate
    mopt = getattr(optim, name)(manual.parameters(), **kw)
    want_val, at_y = [], []
    for _ in range(3):
        mopt.train()
        for xb, yb in _batches(X, y):
            mopt.zero_grad()
            nn.MSELoss()(manual(gdlab.tensor(xb)), gdlab.tensor(yb)).backward()
            mopt.step()
        at_y.append(_loss(manual, X[40:], y[40:]))
        mopt.eval()
        want_val.append(_loss(manual, X[40:], y[40:]))
    got = history.epochs["val_loss"]
    np.testing.assert_allclose(got, want_val, rtol=1e-12)
    assert np.abs(np.array(at_y) - want_val).max() > 1e-6  # x and y differ: the switch matters
    assert opt.param_groups[0]["train_mode"]  # fit leaves y (and z) as they are
    after = t.evaluate(DataLoader(TensorDataset(X[40:], y[40:]), batch_size=20))
    assert after["loss"] == pytest.approx(want_val[-1], rel=1e-12)  # outside fit: left at x
    for p, q in zip(model.parameters(), manual.parameters(), strict=True):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-12)
    t.fit(4)  # a further epoch starts from y again
    mopt.train()
    for xb, yb in _batches(X, y):
        mopt.zero_grad()
        nn.MSELoss()(manual(gdlab.tensor(xb)), gdlab.tensor(yb)).backward()
        mopt.step()
    mopt.eval()
    opt.eval()
    for p, q in zip(model.parameters(), manual.parameters(), strict=True):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-10)


def test_evaluation_during_fit_does_not_change_the_run():
    """y is restored exactly after each validation: a run with a validation set takes the
    same steps, bit for bit, as one without."""
    X, y = _data()
    runs = []
    for val in (None, DataLoader(TensorDataset(X[40:], y[40:]), batch_size=20)):
        model = _model()
        opt = optim.AdamWScheduleFree(model.parameters(), lr=0.05)
        loader = DataLoader(TensorDataset(X[:40], y[:40]), batch_size=20)
        train.Trainer(model, nn.MSELoss(), opt, loader, val_loader=val).fit(3)
        runs.append([p.data.copy() for p in model.parameters()])
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("adaptive", [False, True], ids=["SAM", "ASAM"])
def test_sam_in_the_trainer_equals_the_authors_two_step_loop(adaptive):
    X, y = _data()
    kw = dict(rho=0.1, adaptive=adaptive, lr=0.1, momentum=0.9)
    model = _model()
    opt = optim.SAM(model.parameters(), optim.SGD, **kw)
    loader = DataLoader(TensorDataset(X[:40], y[:40]), batch_size=20)
    history = train.Trainer(model, nn.MSELoss(), opt, loader).fit(2)

    manual = _model()  # davda54's README loop: first_step, second forward/backward, second_step
    mopt = optim.SAM(manual.parameters(), optim.SGD, **kw)
    losses = []
    for _ in range(2):
        for xb, yb in _batches(X, y):
            loss = nn.MSELoss()(manual(gdlab.tensor(xb)), gdlab.tensor(yb))
            loss.backward()
            losses.append(float(loss.item()))
            mopt.first_step(zero_grad=True)
            nn.MSELoss()(manual(gdlab.tensor(xb)), gdlab.tensor(yb)).backward()
            mopt.second_step(zero_grad=True)
    for p, q in zip(model.parameters(), manual.parameters(), strict=True):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-12)
    np.testing.assert_allclose(history.steps["loss"], losses, rtol=1e-12)


def test_sam_step_without_closure_says_what_it_needs():
    w = nn.Parameter(np.array([1.0]))
    opt = optim.SAM([w], optim.SGD, lr=0.1)
    w.grad = np.array([1.0])
    with pytest.raises(ValueError, match="SAM.step requires a closure"):
        opt.step()
