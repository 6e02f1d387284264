"""``WeightAveraging``: the callback's average equals a hand-written loop that calls
``AveragedModel.update_parameters`` at the same steps, and its evaluation is logged."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import gdlab
from gdlab import nn, optim, train
from gdlab.data import DataLoader, TensorDataset
from gdlab.optim.swa_utils import SWALR, AveragedModel, get_ema_multi_avg_fn


def _setup():
    gdlab.manual_seed(0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = X @ np.array([[1.0], [-2.0], [0.5], [0.0]]) + 0.1 * rng.normal(size=(60, 1))
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 1)).double()
    train_loader = DataLoader(TensorDataset(X[:40], y[:40]), batch_size=10)
    val_loader = DataLoader(TensorDataset(X[40:], y[40:]), batch_size=20)
    return model, train_loader, val_loader, (X[40:], y[40:])


def _by_hand(model, loader, epochs, due_step, due_epoch, **avg_kwargs):
    """The same training written out, averaging where the callback should."""
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    averaged = AveragedModel(model, **avg_kwargs)
    step = 0
    for epoch in range(epochs):
        for x, y in loader:
            opt.zero_grad()
            nn.MSELoss()(model(x), y).backward()
            opt.step()
            if due_step(step):
                averaged.update_parameters(model)
            step += 1
        if due_epoch(epoch):
            averaged.update_parameters(model)
    return averaged


ROWS = [
    ("swa_epochs", {"start": 2}, lambda s: False, lambda e: e >= 2, {}),
    ("swa_every_2", {"start": 1, "every": 2}, lambda s: False, lambda e: e in (1, 3), {}),
    ("ema_steps", {"interval": "step", "every": 3, "multi_avg_fn": get_ema_multi_avg_fn(0.8)},
     lambda s: s % 3 == 0, lambda e: False, {"multi_avg_fn": get_ema_multi_avg_fn(0.8)}),
    ("swa_buffers", {"use_buffers": True}, lambda s: False, lambda e: True,
     {"use_buffers": True}),
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_callback_average_equals_the_hand_written_loop(row):
    _, cb_kwargs, due_step, due_epoch, avg_kwargs = row
    model, tl, vl, (xv, yv) = _setup()
    twin = copy.deepcopy(model)
    callback = train.WeightAveraging(**cb_kwargs)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    history = train.fit(model, nn.MSELoss(), opt, tl, epochs=5, val_loader=vl,
                        callbacks=[callback])  # fmt: skip
    expected = _by_hand(twin, tl, 5, due_step, due_epoch, **avg_kwargs)
    for (name, a), (_, b) in zip(callback.averaged.state_dict().items(),
                                 expected.state_dict().items(), strict=True):  # fmt: skip
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=name)
    expected.eval()
    with gdlab.no_grad():
        want = float(nn.MSELoss()(expected(gdlab.tensor(xv)), gdlab.tensor(yv)).item())
    assert history.epochs["avg_val_loss"][-1] == pytest.approx(want, rel=1e-12)
    assert len(history.epochs["avg_val_loss"]) == len(history.epochs["val_loss"]) == 5


def test_swa_recipe_with_swalr_and_update_bn():
    model, tl, vl, _ = _setup()
    opt = optim.SGD(model.parameters(), lr=0.05)
    callback = train.WeightAveraging(start=3, update_bn=True)
    history = train.fit(model, nn.MSELoss(), opt, tl, epochs=6, val_loader=vl,
                        scheduler=SWALR(opt, swa_lr=0.01, anneal_epochs=2),
                        callbacks=[callback])  # fmt: skip
    assert history.epochs["avg_val_loss"][:3] == [None, None, None]
    assert all(v is not None for v in history.epochs["avg_val_loss"][3:])
    assert int(callback.averaged.n_averaged.data) == 3
    assert history.epochs["lr"][-1] == pytest.approx(0.01)


def test_state_dict_round_trip_before_training():
    model, tl, vl, _ = _setup()
    first = train.WeightAveraging()
    train.fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.05), tl, epochs=2,
              callbacks=[first])  # fmt: skip
    second = train.WeightAveraging()
    second.load_state_dict(first.state_dict())
    second.set_trainer(train.Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), 0.1), tl))
    second.on_train_begin()
    assert int(second.averaged.n_averaged.data) == 2
    for (name, a), (_, b) in zip(first.averaged.state_dict().items(),
                                 second.averaged.state_dict().items(), strict=True):  # fmt: skip
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=name)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"interval": "batch"}, "interval must be 'epoch' or 'step', got 'batch'"),
        ({"every": 0}, "every"),
        ({"start": -1}, "start"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        train.WeightAveraging(**kwargs)
