"""Output a person watches while a run goes: the line per epoch, TensorBoard's event files,
best-only checkpoints (issue 12, "Output a person reads, and runs a person can browse")."""

from __future__ import annotations

import io
import math
import re
import sys

import numpy as np
import pytest

import gdlab
from gdlab import nn, optim, train
from gdlab.data import DataLoader, TensorDataset
from gdlab.train.loggers import epoch_line
from tensorboard_events import read_scalars


def _setup() -> tuple:
    gdlab.manual_seed(0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = X @ np.array([[1.0], [-2.0], [0.5], [0.0]]) + 0.1 * rng.normal(size=(60, 1))
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1)).double()
    train_loader = DataLoader(TensorDataset(X[:40], y[:40]), batch_size=10)
    val_loader = DataLoader(TensorDataset(X[40:], y[40:]), batch_size=20)
    return model, train_loader, val_loader


def _fit(callbacks, epochs=3, **kwargs):
    model, tl, vl = _setup()
    opt = optim.SGD(model.parameters(), lr=0.05)
    return train.fit(model, nn.MSELoss(), opt, tl, val_loader=vl, epochs=epochs,
                     callbacks=callbacks, **kwargs)  # fmt: skip


# ------------------------------------------------------------------ the line per epoch
@pytest.mark.parametrize(
    "epoch, epochs, seconds, logs, line",
    [(3, 10, 0.4, {"epoch": 2, "loss": 0.31234, "lr": 0.1, "val_loss": 0.2981,
                   "val_accuracy": 0.91, "wall_time": 1.2},
      "epoch 3/10 - 0.4s - loss 0.3123 - val_loss 0.2981 - val_accuracy 0.91 - lr 0.1"),
     (1, None, 12.25, {"accuracy": 0.5, "loss": 2.0, "val_loss": float("nan")},
      "epoch 1 - 12.2s - loss 2 - accuracy 0.5 - val_loss nan"),
     (2, 2, 0.0, {"loss": 1e-7, "note": "text is left out"}, "epoch 2/2 - 0.0s - loss 1e-07")],
)  # fmt: skip
def test_epoch_line(epoch, epochs, seconds, logs, line):
    """Keras' order: loss, training metrics, validation, then the rest (lr); 4 digits."""
    assert epoch_line(epoch, epochs, seconds, logs) == line


def test_epoch_progress_writes_one_line_per_epoch_with_the_history_numbers():
    out = io.StringIO()
    history = _fit([train.EpochProgress(disable=True, file=out)])
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    for i, line in enumerate(lines):
        assert line.startswith(f"epoch {i + 1}/3 - ")
        assert f"loss {history.epochs['loss'][i]:.4g}" in line
        assert f"val_loss {history.epochs['val_loss'][i]:.4g}" in line


def test_epoch_progress_bar_counts_epochs_and_closes(monkeypatch):
    import types

    seen = []

    class Bar:
        def __init__(self, total=None, initial=0, **kwargs):
            seen.append(("open", total, initial, kwargs["unit"]))

        def update(self, n=1):
            seen.append(("update", n))

        def close(self):
            seen.append(("close",))

        @staticmethod
        def write(line, file=None):
            seen.append(("write", line.split(" - ")[0]))

    monkeypatch.setitem(sys.modules, "tqdm.auto", types.SimpleNamespace(tqdm=Bar))
    _fit([train.EpochProgress()], epochs=2)
    assert seen == [("open", 2, 0, "epoch"), ("write", "epoch 1/2"), ("update", 1),
                    ("write", "epoch 2/2"), ("update", 1), ("close",)]  # fmt: skip


def test_bars_and_the_event_writer_are_closed_when_fit_fails(monkeypatch, tmp_path):
    import types

    pytest.importorskip("tensorboardX")
    closed = []

    class Bar:
        def __init__(self, *args, **kwargs):
            self.n = 0

        def __getattr__(self, name):  # update, set_postfix, write: not looked at here
            return lambda *args, **kwargs: None

        def close(self):
            closed.append(self)

    class Boom(train.Callback):
        def on_batch_end(self, step, logs=None):
            raise KeyboardInterrupt

    monkeypatch.setitem(sys.modules, "tqdm.auto", types.SimpleNamespace(tqdm=Bar))
    holders = [train.ProgressBar(), train.EpochProgress(lines=False),
               train.TensorBoardLogger(tmp_path / "tb")]  # fmt: skip
    with pytest.raises(KeyboardInterrupt):
        _fit([*holders, Boom()])
    assert len(closed) == 2
    assert [h.bar for h in holders[:2]] == [None, None] and holders[2].writer is None


# ------------------------------------------------------------------ TensorBoard
def test_tensorboard_scalars_are_the_history(tmp_path):
    pytest.importorskip("tensorboardX")
    history = _fit([train.TensorBoardLogger(tmp_path / "tb")])
    scalars = read_scalars(tmp_path / "tb")
    assert [s for s, _ in scalars["epoch/val_loss"]] == [1, 2, 3]
    np.testing.assert_allclose([v for _, v in scalars["epoch/val_loss"]],
                               history.epochs["val_loss"], rtol=1e-6)  # fmt: skip
    np.testing.assert_allclose([v for _, v in scalars["epoch/loss"]], history.epochs["loss"],
                               rtol=1e-6)  # fmt: skip
    steps = scalars["step/loss"]
    assert [s for s, _ in steps] == history.steps["step"]  # 4 batches x 3 epochs
    np.testing.assert_allclose([v for _, v in steps], history.steps["loss"], rtol=1e-6)
    assert "epoch/wall_time" not in scalars and "epoch/epoch" not in scalars


def test_tensorboard_events_are_flushed_every_epoch(tmp_path):
    pytest.importorskip("tensorboardX")
    seen = []
    look = train.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(
            len(read_scalars(tmp_path / "tb").get("epoch/loss", []))
        )
    )
    _fit([train.TensorBoardLogger(tmp_path / "tb"), look])
    assert seen == [1, 2, 3]  # readable while the run goes


def test_tensorboard_missing_says_which_extra(monkeypatch, tmp_path):
    for name in [n for n in sys.modules if n.split(".")[0] == "tensorboardX"] + ["tensorboardX"]:
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install 'gdlab\[tensorboard\]'"):
        train.TensorBoardLogger(tmp_path)


@pytest.mark.parametrize("every", [0, -1, 1.5, True])
def test_tensorboard_bad_every_n_steps(every, tmp_path):
    with pytest.raises(ValueError, match=f"every_n_steps must be .* got {every!r}"):
        train.TensorBoardLogger(tmp_path, every_n_steps=every)


# ------------------------------------------------------------------ best-only checkpoints
class _Score(train.Callback):
    """Puts ``score`` (a scripted value per epoch) into the epoch logs."""

    def __init__(self, values):
        self.values = values

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = self.values[epoch]


NAN = math.nan


@pytest.mark.parametrize(
    "values, mode, saved_epochs, best",
    [([3.0, 2.0, 2.5, 1.0, 1.5], "min", [0, 1, 3], 1.0),
     ([3.0, 2.0, 2.5, 1.0, 1.5], "max", [0], 3.0),
     ([1.0, 1.0, 0.5], "min", [0, 2], 0.5),  # equal is no improvement (Keras: np.less)
     ([NAN, 2.0, NAN, 1.0], "min", [1, 3], 1.0),  # NaN never improves
     ([0.2, 0.5, 0.4, 0.9], "max", [0, 1, 3], 0.9)],
)  # fmt: skip
def test_checkpoint_save_best_only(values, mode, saved_epochs, best, tmp_path):
    """Keras' ModelCheckpoint(save_best_only=True): a save exactly at each new best."""
    ckpt = train.Checkpoint(monitor="score", mode=mode, save_best_only=True, keep_last=None)
    steps_per_epoch = 4
    _fit([_Score(values), ckpt], epochs=len(values), run_dir=tmp_path)
    saved = [int(p.name.split("-")[1]) for p in train.checkpoint.find_checkpoints(ckpt._dir())]
    assert saved == [(e + 1) * steps_per_epoch for e in saved_epochs]
    assert ckpt.best == best and ckpt.best_epoch == saved_epochs[-1]
    state = train.load_checkpoint(ckpt.last_saved)  # the best value travels with the run
    assert state["callbacks"]["Checkpoint:0"] == {"best": best, "best_epoch": saved_epochs[-1]}


def test_checkpoint_best_only_auto_mode_and_the_model_it_holds(tmp_path):
    ckpt = train.Checkpoint(monitor="val_loss", save_best_only=True, keep_last=1)
    assert ckpt.mode == "min"
    assert train.Checkpoint(monitor="val_accuracy", save_best_only=True).mode == "max"
    history = _fit([ckpt], epochs=4, run_dir=tmp_path)
    losses = history.epochs["val_loss"]
    assert ckpt.best == min(losses) and ckpt.best_epoch == int(np.argmin(losses))
    assert len(train.checkpoint.find_checkpoints(tmp_path / "checkpoints")) == 1


@pytest.mark.parametrize(
    "kwargs, message",
    [({"mode": "lowest"}, "mode must be 'auto', 'min' or 'max', got 'lowest'"),
     ({"save_best_only": True, "every_n_steps": 5},
      "save_best_only saves at the end of epochs; every_n_steps must be None, got 5")],
)  # fmt: skip
def test_checkpoint_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(f"Checkpoint: {message}")):
        train.Checkpoint(**kwargs)


def test_checkpoint_warns_when_the_monitor_is_missing(tmp_path):
    ckpt = train.Checkpoint(monitor="val_r2", save_best_only=True)
    with pytest.warns(RuntimeWarning, match="monitor 'val_r2' is not in the epoch logs"):
        _fit([ckpt], epochs=1, run_dir=tmp_path)
    assert ckpt.last_saved is None
