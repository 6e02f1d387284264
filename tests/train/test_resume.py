"""Checkpoint and resume: a resumed run equals the uninterrupted run bit for bit; kills are safe."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import gdlab
from gdlab import nn, optim, train
from gdlab.data import DataLoader, TensorDataset
from gdlab.random import default_generator
from gdlab.train import CheckpointError, latest_checkpoint, load_checkpoint
from gdlab.train.checkpoint import find_checkpoints

EPOCHS = 4
BATCHES_PER_EPOCH = 7  # 100 samples, batch 16: the last batch has 4


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 6))
    return X, (X[:, 0] - X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1)


def _trainer(kind: str, run_dir: Path | None = None) -> train.Trainer:
    """A fresh, identically built run: dropout, shuffling, a scheduler, callbacks with state."""
    gdlab.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3)).double()
    X, y = _data()
    if kind == "lbfgs":
        opt = optim.LBFGS(model.parameters(), max_iter=3, line_search_fn="strong_wolfe")
        sched = None
    elif kind == "adam":
        opt = optim.Adam(model.parameters(), lr=0.01)
        sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    else:  # any other optimizer, without a scheduler
        opt, sched = getattr(optim, kind)(model.parameters(), lr=0.01), None
    loader = DataLoader(TensorDataset(X[:80], y[:80]), batch_size=12, shuffle=True, seed=5)
    val = DataLoader(TensorDataset(X[80:], y[80:]), batch_size=8)
    callbacks = [train.EarlyStopping(monitor="val_loss", patience=50, restore_best_weights=True)]
    return train.Trainer(
        model,
        nn.CrossEntropyLoss(),
        opt,
        loader,
        val_loader=val,
        metrics=("accuracy",),
        scheduler=sched,
        callbacks=callbacks,
        run_dir=run_dir,
    )


def _assert_same_run(a: train.Trainer, b: train.Trainer) -> None:
    for (name, p), (_, q) in zip(
        a.model.named_parameters(), b.model.named_parameters(), strict=True
    ):
        assert np.array_equal(p.data, q.data), name
    sa, sb = a.optimizer.state_dict(), b.optimizer.state_dict()
    assert sa["param_groups"] == sb["param_groups"]  # includes the lr
    for key, state in sa["state"].items():
        for k, v in state.items():
            w = sb["state"][key][k]
            if isinstance(v, list):
                assert all(np.array_equal(x, y) for x, y in zip(v, w, strict=True)), k
            else:
                assert np.array_equal(v, w), k
    if a.scheduler is not None:
        assert a.scheduler.state_dict() == b.scheduler.state_dict()
    assert a.history.equals(b.history)
    assert a.train_loader.state_dict() == b.train_loader.state_dict()
    assert a.callbacks[0].state_dict()["best"] == b.callbacks[0].state_dict()["best"]
    assert (a.global_step, a.epoch, a.samples_seen) == (b.global_step, b.epoch, b.samples_seen)


OTHER_OPTIMIZERS = [
    "SGD",
    "Momentum",
    "AdamW",
    "Adagrad",
    "Adadelta",
    "RMSprop",
    "Adamax",
    "NAdam",
    "RAdam",
    "ASGD",
    "Rprop",
    "Adafactor",
    "SGDScheduleFree",  # y in the checkpoint, evaluated at x and put back exactly
    "AdamWScheduleFree",
    "Prodigy",  # the d estimate lives in the param groups
    "DAdaptAdam",
]  # Muon: 2-D parameters only


@pytest.mark.parametrize(
    "kind, stop_at",
    [("adam", 10), ("adam", 2 * BATCHES_PER_EPOCH), ("adam", 1), ("lbfgs", 9)]
    + [(name, 10) for name in OTHER_OPTIMIZERS],
    ids=["mid-epoch", "epoch-boundary", "first-step", "lbfgs-mid-epoch"] + OTHER_OPTIMIZERS,
)
def test_resumed_run_equals_uninterrupted_bit_for_bit(tmp_path, kind, stop_at):
    reference = _trainer(kind)
    reference.fit(EPOCHS)
    rng_after = default_generator().bit_generator.state

    first = _trainer(kind, tmp_path)
    first.fit(EPOCHS, max_steps=stop_at)  # stops and checkpoints (save_on_train_end)
    assert first.global_step == stop_at
    del first
    default_generator().random(5)  # disturb the global state: resume must restore it

    resumed = _trainer(kind, tmp_path)
    resumed.fit(EPOCHS, resume=tmp_path)
    _assert_same_run(reference, resumed)
    assert default_generator().bit_generator.state == rng_after  # dropout masks consumed alike


def test_resume_from_explicit_checkpoint_and_auto(tmp_path):
    t = _trainer("adam", tmp_path)
    t.fit(2)
    ckpt = latest_checkpoint(tmp_path)
    assert ckpt is not None and ckpt.parent.name == "checkpoints"
    again = _trainer("adam", tmp_path)
    assert again.resume(ckpt) == ckpt and again.epoch == 2
    fresh = _trainer("adam", tmp_path / "empty")
    assert fresh.resume("auto") is None and fresh.global_step == 0
    with pytest.raises(CheckpointError, match="no valid checkpoint"):
        _trainer("adam").resume(tmp_path / "empty")


def test_max_steps_below_current_step_is_rejected(tmp_path):
    t = _trainer("adam", tmp_path)
    t.fit(1)
    with pytest.raises(ValueError, match="max_steps=3 is less than the current step 7"):
        t.fit(2, max_steps=3)


def _files(run_dir: Path) -> dict[str, bytes]:
    return {n: (run_dir / n).read_bytes() for n in ("history.json", "log.csv", "steps.jsonl")}


def test_same_seed_gives_byte_identical_files(tmp_path):
    outputs = []
    for i in range(2):
        t = _trainer("adam", tmp_path / str(i))
        t.callbacks.insert(0, train.CSVLogger())
        t.callbacks.insert(0, train.JSONLinesLogger())
        for c in t.callbacks:
            c.set_trainer(t)
        t.fit(2)
        outputs.append(_files(tmp_path / str(i)))
    assert outputs[0] == outputs[1]
    lines = outputs[0]["log.csv"].decode().splitlines()
    assert lines[0].startswith("epoch,") and "wall_time" not in lines[0] and len(lines) == 3
    assert len(outputs[0]["steps.jsonl"].decode().splitlines()) == 2 * BATCHES_PER_EPOCH


_KILL_SCRIPT = textwrap.dedent(
    """
    import sys, numpy as np, gdlab
    from gdlab import nn, optim, train
    from gdlab.data import DataLoader, TensorDataset
    gdlab.manual_seed(0)
    model = nn.Sequential(*[nn.Linear(32, 32) for _ in range(6)]).double()
    X = np.random.default_rng(0).normal(size=(64, 32))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    ckpt = train.Checkpoint(every_n_steps=1, keep_last=2)
    t = train.Trainer(model, nn.MSELoss(), opt, DataLoader(TensorDataset(X, X), 8),
                      run_dir=sys.argv[1], callbacks=[ckpt])
    t.fit(10**6, resume="auto")
    """
)


def _newest_step(run_dir: Path) -> int:
    found = find_checkpoints(run_dir / "checkpoints")
    return int(found[-1].name.removeprefix("step-")) if found else 0


@pytest.mark.slow
def test_sigkill_during_checkpointing_always_leaves_a_loadable_checkpoint(tmp_path):
    rng = np.random.default_rng(1234)
    steps = []
    for _ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-c", _KILL_SCRIPT, str(tmp_path)],
            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
        )
        try:
            deadline = time.monotonic() + 60
            # poll names only: loading while the child rotates checkpoints would race it
            while _newest_step(tmp_path) <= (steps[-1] if steps else 0):
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.3))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        latest = latest_checkpoint(tmp_path)
        state = load_checkpoint(latest)  # always loads
        steps.append(state["counters"]["global_step"])
        assert latest.name == f"step-{steps[-1]:09d}"
    assert steps == sorted(steps) and steps[0] > 0  # each run resumed from the previous one


_CRASH_SCRIPT = textwrap.dedent(
    """
    import os, sys, numpy as np, gdlab
    import gdlab.train.checkpoint as C
    from gdlab import nn, optim, train
    from gdlab.data import DataLoader, TensorDataset
    calls = []
    real_dump = C.json.dump
    def dump(*args, **kwargs):  # the 3rd checkpoint dies after its arrays, before its JSON
        calls.append(1)
        if len(calls) == 5:
            os._exit(3)
        return real_dump(*args, **kwargs)
    C.json.dump = dump
    gdlab.manual_seed(0)
    model = nn.Linear(4, 1).double()
    X = np.random.default_rng(0).normal(size=(16, 4))
    t = train.Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1),
                      DataLoader(TensorDataset(X, X[:, :1]), 4), run_dir=sys.argv[1],
                      callbacks=[train.Checkpoint(every_n_steps=1, keep_last=None)])
    t.fit(1)
    """
)


def test_crash_mid_write_keeps_previous_checkpoint_and_cleans_temp(tmp_path):
    proc = subprocess.run([sys.executable, "-c", _CRASH_SCRIPT, str(tmp_path)], check=False)
    assert proc.returncode == 3
    ckpts = tmp_path / "checkpoints"
    stale = [p for p in ckpts.iterdir() if p.name.startswith(".tmp-")]
    assert len(stale) == 1 and (stale[0] / "state.npz").exists()
    assert latest_checkpoint(tmp_path).name == "step-000000002"
    resumed = _trainer("adam", None)  # any trainer: only the directory handling matters here
    ckpt = train.Checkpoint(directory=ckpts)
    ckpt.set_trainer(resumed)
    ckpt.on_train_begin()
    assert not any(p.name.startswith(".tmp-") for p in ckpts.iterdir())
