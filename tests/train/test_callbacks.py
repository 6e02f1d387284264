"""Callbacks: hook order, early stopping, loggers, progress bar, gradient health."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest

import gdlab
from gdlab import nn, optim, train
from gdlab.data import DataLoader, TensorDataset


def _setup(hidden: int = 8, depth: int = 1, act: type = nn.Tanh) -> tuple:
    gdlab.manual_seed(0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = X @ np.array([[1.0], [-2.0], [0.5], [0.0]]) + 0.1 * rng.normal(size=(60, 1))
    layers: list[nn.Module] = [nn.Linear(4, hidden), act()]
    for _ in range(depth - 1):
        layers += [nn.Linear(hidden, hidden), act()]
    model = nn.Sequential(*layers, nn.Linear(hidden, 1)).double()
    train_loader = DataLoader(TensorDataset(X[:40], y[:40]), batch_size=10)
    val_loader = DataLoader(TensorDataset(X[40:], y[40:]), batch_size=20)
    return model, train_loader, val_loader


class Recorder(train.Callback):
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def on_train_begin(self, logs=None):
        self.calls.append(("train_begin",))

    def on_train_end(self, logs=None):
        self.calls.append(("train_end",))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch, sorted(logs)))

    def on_batch_begin(self, step, logs=None):
        self.calls.append(("batch_begin", step))

    def on_batch_end(self, step, logs=None):
        self.calls.append(("batch_end", step))

    def on_before_optimizer_step(self, step, logs):
        self.calls.append(("before_step", step))


def test_hook_order_and_logs():
    model, tl, vl = _setup()
    rec = Recorder()
    train.fit(
        model,
        nn.MSELoss(),
        optim.SGD(model.parameters(), lr=0.01),
        tl,
        epochs=2,
        val_loader=vl,
        metrics=("mae",),
        callbacks=[rec],
    )
    names = [c[0] for c in rec.calls]
    assert names[0] == "train_begin" and names[-1] == "train_end"
    assert names[1:6] == ["epoch_begin", "batch_begin", "before_step", "batch_end", "batch_begin"]
    ends = [c for c in rec.calls if c[0] == "epoch_end"]
    assert [c[1] for c in ends] == [0, 1]
    assert ends[0][2] == ["epoch", "loss", "lr", "mae", "val_loss", "val_mae", "wall_time"]


def test_lambda_callback_and_stop_training():
    model, tl, _ = _setup()

    def stop(step, logs):
        if step == 3:
            trainer.stop_training = True

    trainer = train.Trainer(
        model,
        nn.MSELoss(),
        optim.SGD(model.parameters(), lr=0.01),
        tl,
        callbacks=[train.LambdaCallback(on_batch_end=stop)],
    )
    assert trainer.fit(5).num_steps == 3
    with pytest.raises(ValueError, match="unknown hook 'on_step'"):
        train.LambdaCallback(on_step=print)


def test_early_stopping_restores_best_weights():
    model, tl, vl = _setup()
    # a learning rate that first helps, then overshoots: val_loss rises after a few epochs
    opt = optim.SGD(model.parameters(), lr=0.3)
    stop = train.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    seen = []
    snap = train.LambdaCallback(
        on_epoch_end=lambda e, logs: seen.append((logs["val_loss"], model.state_dict()))
    )
    h = train.fit(model, nn.MSELoss(), opt, tl, epochs=200, val_loader=vl, callbacks=[snap, stop])
    n = len(h.epochs["epoch"])
    assert n < 200 and stop.stopped_epoch == n - 1 and stop.wait == 2
    best = int(np.argmin(h.epochs["val_loss"]))
    assert stop.best_epoch == best and stop.best == h.epochs["val_loss"][best]
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, seen[best][1][key])
    assert h.events[-1] == {"event": "early_stopping", "epoch": n - 1, "best_epoch": best}


@pytest.mark.parametrize("name", ["SGDScheduleFree", "AdamWScheduleFree"])
def test_early_stopping_restores_schedule_free_y_and_z(name, tmp_path):
    """The weights are y and val_loss was taken at x: the best epoch's optimizer state comes
    back with y, so eval() gives that epoch's x (its val_loss, bit for bit) and train() its y;
    a checkpoint of the callback carries it."""
    model, tl, vl = _setup()
    opt = getattr(optim, name)(model.parameters(), lr=0.05)
    scores = [3.0, 2.0, 1.0, 1.5, 1.7]  # best at epoch 2, stops at epoch 4 (patience 2)
    stop = train.EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    seen = []

    def snapshot(epoch, logs):
        logs["score"] = scores[epoch]
        z = {i: opt.state[p]["z"].copy() for i, p in enumerate(model.parameters())}
        seen.append((logs["val_loss"], model.state_dict(), z))

    snap = train.LambdaCallback(on_epoch_end=snapshot)
    trainer = train.Trainer(model, nn.MSELoss(), opt, tl, val_loader=vl, callbacks=[snap, stop])
    trainer.fit(10)
    assert (stop.best_epoch, stop.stopped_epoch) == (2, 4) and len(seen) == 5
    val_loss, y, z = seen[2]
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, y[key])
    for i, p in enumerate(model.parameters()):
        np.testing.assert_array_equal(opt.state[p]["z"], z[i])
    assert opt.param_groups[0]["train_mode"] is True
    assert trainer.evaluate(vl)["loss"] == val_loss  # outside fit: left at x
    assert stop.state_dict()["best_optimizer"]["state"][0]["z"].shape == z[0].shape
    fresh = train.EarlyStopping(monitor="score", restore_best_weights=True)
    saved = train.checkpoint.save_checkpoint(tmp_path, {"stop": stop.state_dict()}, step=1)
    fresh.load_state_dict(train.checkpoint.load_checkpoint(saved)["stop"])
    for i in range(len(z)):
        np.testing.assert_array_equal(fresh.best_optimizer["state"][i]["z"], z[i])
    assert fresh.best_optimizer["param_groups"] == stop.best_optimizer["param_groups"]
    older = {k: v for k, v in stop.state_dict().items() if k != "best_optimizer"}
    fresh.load_state_dict(older)
    assert fresh.best_optimizer is None


@pytest.mark.parametrize(
    "kwargs, match",
    [(dict(mode="up"), "mode must be"), (dict(patience=-1), "patience must be")],
)
def test_early_stopping_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        train.EarlyStopping(**kwargs)


def test_early_stopping_mode_auto_and_missing_monitor():
    assert train.EarlyStopping(monitor="val_accuracy").mode == "max"
    assert train.EarlyStopping(monitor="val_loss").mode == "min"
    model, tl, _ = _setup()
    with pytest.warns(RuntimeWarning, match="monitor 'val_loss' is not in the epoch logs"):
        train.fit(
            model,
            nn.MSELoss(),
            optim.SGD(model.parameters(), lr=0.01),
            tl,
            callbacks=[train.EarlyStopping()],
        )


def test_csv_logger_per_step_and_resume_rewrite(tmp_path):
    model, tl, _ = _setup()
    opt = optim.SGD(model.parameters(), lr=0.01)
    trainer = train.Trainer(
        model,
        nn.MSELoss(),
        opt,
        tl,
        run_dir=tmp_path,
        callbacks=[train.CSVLogger("steps.csv", per="step")],
    )
    trainer.fit(2)
    lines = (tmp_path / "steps.csv").read_text().splitlines()
    assert lines[0] == "step,epoch,grad_norm,loss,lr,samples_seen"
    assert len(lines) == 1 + 8 and lines[1].startswith("1,0,")
    trainer.fit(3)  # continuing: the file is rewritten from the history, then appended
    assert len((tmp_path / "steps.csv").read_text().splitlines()) == 1 + 12


def test_progress_bar_is_off_without_a_terminal(capsys):
    model, tl, _ = _setup()
    bar = train.ProgressBar()
    train.fit(
        model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.01), tl, epochs=2, callbacks=[bar]
    )
    assert capsys.readouterr().err == ""  # pytest's stderr is not a TTY: tqdm disables itself


def test_progress_bar_keeps_its_file_across_fit_calls():
    import io

    model, tl, _ = _setup()
    out = io.StringIO()
    trainer = train.Trainer(
        model,
        nn.MSELoss(),
        optim.SGD(model.parameters(), lr=0.01),
        tl,
        callbacks=[train.ProgressBar(disable=False, file=out)],
    )
    trainer.fit(1)
    first = out.getvalue()
    trainer.fit(2)  # continuing: the bar is rebuilt with the same file
    assert "4/4" in first and "8/8" in out.getvalue()[len(first) :]


@pytest.mark.parametrize("cls", [train.CSVLogger, train.JSONLinesLogger])
def test_loggers_reject_unknown_per(cls):
    with pytest.raises(ValueError, match=f"{cls.__name__}: per must be 'epoch' or 'step'"):
        cls(per="batch")


def test_json_lines_logger_per_epoch(tmp_path):
    import json

    model, tl, vl = _setup()
    train.fit(
        model,
        nn.MSELoss(),
        optim.SGD(model.parameters(), lr=0.01),
        tl,
        epochs=3,
        val_loader=vl,
        run_dir=tmp_path,
        callbacks=[train.JSONLinesLogger("epochs.jsonl", per="epoch")],
    )
    rows = [json.loads(line) for line in (tmp_path / "epochs.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [0, 1, 2]
    assert {"loss", "lr", "val_loss"} <= set(rows[0]) and "wall_time" not in rows[0]


def test_progress_bar_without_tqdm_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    model, tl, _ = _setup()
    with pytest.raises(ImportError, match=re.escape("pip install 'gdlab[progress]'")):
        train.fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.01), tl, progress=True)


def test_gradient_health_records_and_warns_on_vanishing_gradients():
    model, tl, _ = _setup(hidden=8, depth=12, act=nn.Sigmoid)  # the articles' deep sigmoid net
    health = train.GradientHealth(ratio=1e-3)
    with pytest.warns(
        train.GradientWarning, match=r"vanishing gradient at step 1: norm of .0\.weight."
    ):
        h = train.fit(
            model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.01), tl, callbacks=[health]
        )
    first, last = h.steps["grad_norm/0.weight"], h.steps["grad_norm/24.weight"]
    assert len(first) == 4 and first[0] < 1e-3 * last[0]


def test_gradient_health_warns_on_exploding_gradients():
    model, tl, _ = _setup()
    with pytest.warns(train.GradientWarning, match="exploding gradient at step 1: norm of"):
        train.fit(
            model,
            nn.MSELoss(),
            optim.SGD(model.parameters(), lr=1e-9),
            tl,
            callbacks=[train.GradientHealth(exploding=1e-3, ratio=None)],
        )


@pytest.mark.parametrize("n", [0, -1, 1.5, True])
def test_gradient_health_bad_every_n_steps(n):
    with pytest.raises(ValueError, match="GradientHealth: every_n_steps must be a positive int"):
        train.GradientHealth(every_n_steps=n)
