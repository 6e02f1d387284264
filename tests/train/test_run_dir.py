"""Run directories that never lie (issue 14, library side): the lock, own temporaries only,
the config in every checkpoint, the last good state on divergence, tampered counters,
symbolic links."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import gdlab
from gdlab import nn, optim, train
from gdlab._runlock import LOCK_NAME, RunDirLocked, RunLock
from gdlab.data import DataLoader, TensorDataset
from gdlab.train import CheckpointError, DivergenceError, latest_checkpoint, load_checkpoint
from gdlab.train.checkpoint import (
    _sha256,
    clean_stale,
    find_checkpoints,
    load_checkpoint_config,
    save_checkpoint,
)


def _trainer(run_dir: Path | None, lr: float = 0.05, **kwargs) -> train.Trainer:
    gdlab.manual_seed(0)
    X = np.random.default_rng(0).uniform(size=(40, 8))
    y = X.sum(axis=1, keepdims=True)
    model = nn.Sequential(nn.Linear(8, 4), nn.Sigmoid(), nn.Linear(4, 1)).double()
    loader = DataLoader(TensorDataset(X * 30, y * 30), batch_size=10)
    return train.Trainer(
        model, nn.MSELoss(), optim.SGD(model.parameters(), lr=lr), loader, run_dir=run_dir, **kwargs
    )


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


_HOLD = textwrap.dedent(
    """
    import sys, time
    from gdlab._runlock import RunLock
    with RunLock(sys.argv[1]):
        print("locked", flush=True)
        time.sleep(60)
    """
)


@pytest.fixture
def other_process_holding(tmp_path):
    """A live process that holds the lock on ``tmp_path/run``."""
    run = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(run)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield run, proc.pid
    finally:
        proc.kill()
        proc.wait()


# ------------------------------------------------------------------ 3: one writer per run
def test_a_second_process_cannot_train_into_a_locked_run(other_process_holding):
    run, pid = other_process_holding
    t = _trainer(run)
    with pytest.raises(RunDirLocked, match=rf"{run} is in use by process {pid}"):
        t.fit(1)
    assert not (run / "checkpoints").exists()  # nothing written, nothing cleaned


def test_the_lock_is_released_by_a_killed_process_and_is_reentrant(tmp_path):
    run = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(run)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "locked"
    proc.kill()
    proc.wait()
    with RunLock(run), RunLock(run):  # the stale lock is free; the same process may nest
        _trainer(run).fit(1)
        assert (run / LOCK_NAME).read_text().strip() == str(os.getpid())
    assert not (run / LOCK_NAME).exists()  # released (and removed) after the nesting unwinds
    with RunLock(run):
        pass


def test_o_excl_fallback_takes_over_a_stale_lock_only(tmp_path, monkeypatch):
    import gdlab._runlock as runlock

    monkeypatch.setattr(runlock, "fcntl", None)  # the platform without flock
    run = tmp_path / "run"
    run.mkdir()
    (run / LOCK_NAME).write_text(f"{_dead_pid()}\n")
    with RunLock(run):
        assert (run / LOCK_NAME).read_text().strip() == str(os.getpid())
    assert not (run / LOCK_NAME).exists()
    (run / LOCK_NAME).write_text(f"{os.getppid()}\n")  # a live process
    with pytest.raises(RunDirLocked, match=f"process {os.getppid()}"):
        RunLock(run).acquire()


def test_a_live_writers_temporary_checkpoint_is_not_deleted(tmp_path, other_process_holding):
    # the deterministic repro of the race: process B cleaned process A's in-progress .tmp-*
    _, live_pid = other_process_holding
    ckpts = tmp_path / "checkpoints"
    in_progress = ckpts / f".tmp-{live_pid}-new-step-000000003-0123abcd"
    dead = ckpts / f".tmp-{_dead_pid()}-new-step-000000002-89abcdef"
    for d in (in_progress, dead):
        d.mkdir(parents=True)
        (d / "state.npz").write_bytes(b"partial")
    assert clean_stale(ckpts) == [dead]
    assert in_progress.exists()


def test_killed_writers_temporaries_in_the_run_dir_are_cleaned_at_start(tmp_path):
    # issue 14.12: .metrics.xxxx.tmp.csv of a killed write stayed forever
    run = tmp_path / "run"
    run.mkdir()
    leftover = run / f".log.{_dead_pid()}-0123abcd.tmp.csv"
    leftover.write_text("partial")
    keep = run / "notes.tmp.csv"
    keep.write_text("the user's")
    _trainer(run, callbacks=[train.CSVLogger()]).fit(1)
    assert not leftover.exists() and keep.exists()
    assert not [p for p in run.iterdir() if ".tmp" in p.name and p != keep]


# ------------------------------------------------------------------ 1: config per checkpoint
def test_every_checkpoint_stores_the_config(tmp_path):
    config = {"optimizer": {"name": "sgd", "lr": 0.05}, "train": {"epochs": 2}}
    t = _trainer(tmp_path, config=config, callbacks=[train.Checkpoint(keep_last=None)])
    t.fit(2)
    found = find_checkpoints(tmp_path / "checkpoints")
    assert len(found) == 2
    assert all(load_checkpoint_config(p) == config for p in found)
    manifest = json.loads((found[-1] / "manifest.json").read_text())
    assert set(manifest["files"]) == {"config.json", "state.json", "state.npz"}
    assert load_checkpoint_config(save_checkpoint(tmp_path / "bare", {"a": 1}, 1)) is None


# ------------------------------------------------------------------ 5: last good state
def test_divergence_writes_the_last_good_state(tmp_path):
    # issue 14.5: the run stopped at step 8 and the newest checkpoint was older
    t = _trainer(tmp_path, lr=8.0)  # diverges at step 92, mid-epoch (4 steps per epoch)
    with pytest.raises(DivergenceError) as info:
        t.fit(50)
    step = info.value.step
    latest = latest_checkpoint(tmp_path)
    assert step % 4 != 1 and latest.name == f"step-{step - 1:09d}"
    state = load_checkpoint(latest)
    for name, p in t.model.named_parameters():
        assert np.isfinite(p.data).all()
        assert np.array_equal(state["model"][name], p.data), name
    history = json.loads((tmp_path / "history.json").read_text())
    events = [e for e in history["events"] if e["event"] == "divergence"]
    assert events and events[0]["step"] == step and events[0]["lr"] == 8.0


def test_divergence_checkpoint_can_be_switched_off(tmp_path):
    cb = train.Checkpoint(every_n_epochs=None, save_on_train_end=False, save_on_divergence=False)
    with pytest.raises(DivergenceError):
        _trainer(tmp_path, lr=3.0, callbacks=[cb]).fit(50)
    assert find_checkpoints(tmp_path / "checkpoints") == []


# ------------------------------------------------------------------ 8: tampered counters
def _rehash(ckpt: Path) -> None:
    manifest = json.loads((ckpt / "manifest.json").read_text())
    for name, info in manifest["files"].items():
        info.update(size=(ckpt / name).stat().st_size, sha256=_sha256(ckpt / name))
    (ckpt / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("global_step", 1.5, r"counters\['global_step'\] must be a non-negative int, got 1.5"),
        ("epoch", 1.5, r"counters\['epoch'\] must be a non-negative int, got 1.5"),
        ("epoch", "x", r"counters\['epoch'\] must be a non-negative int, got 'x'"),
        ("samples_seen", -4, r"counters\['samples_seen'\] must be a non-negative int, got -4"),
        ("in_epoch", 0, r"counters\['in_epoch'\] must be a bool, got 0"),
        ("wall_time", None, r"counters\['wall_time'\] must be a finite number >= 0, got None"),
    ],
)
def test_tampered_counters_are_refused_before_loading(tmp_path, key, value, message):
    _trainer(tmp_path).fit(1)
    ckpt = latest_checkpoint(tmp_path)
    doc = json.loads((ckpt / "state.json").read_text())
    doc["state"]["counters"][key] = value
    (ckpt / "state.json").write_text(json.dumps(doc))
    _rehash(ckpt)
    fresh = _trainer(tmp_path)
    before = [p.data.copy() for p in fresh.model.parameters()]
    with pytest.raises(CheckpointError, match=message):
        fresh.resume(ckpt)
    assert all(
        np.array_equal(a, p.data) for a, p in zip(before, fresh.model.parameters(), strict=True)
    )


def test_a_manifest_listing_other_files_is_refused(tmp_path):
    ckpt = save_checkpoint(tmp_path, {"a": 1}, 1)
    manifest = json.loads((ckpt / "manifest.json").read_text())
    manifest["files"] = {"../../etc/passwd": {"size": 1, "sha256": "0"}}
    (ckpt / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="lists the files"):
        load_checkpoint(ckpt)


# ------------------------------------------------------------------ 13: links
def test_a_symlinked_checkpoints_directory_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    victim = elsewhere / "step-000000001"
    victim.mkdir()
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoints").symlink_to(elsewhere)
    with pytest.raises(ValueError, match="is a symbolic link .*refusing"):
        _trainer(run, callbacks=[train.Checkpoint(keep_last=1)]).fit(2)
    assert victim.exists()


def test_a_symlinked_checkpoint_is_neither_loaded_nor_pruned(tmp_path):
    outside = save_checkpoint(tmp_path / "outside", {"a": 1}, 999)
    ckpts = tmp_path / "run" / "checkpoints"
    ckpts.mkdir(parents=True)
    (ckpts / "step-000000999").symlink_to(outside)
    save_checkpoint(ckpts, {"a": 2}, 1, keep_last=1)
    save_checkpoint(ckpts, {"a": 3}, 2, keep_last=1)
    assert [p.name for p in find_checkpoints(ckpts)] == ["step-000000002"]
    assert (outside / "state.json").exists()  # the link's target is untouched


def test_csv_logger_does_not_append_through_a_planted_symlink(tmp_path):
    target = tmp_path / "target.txt"
    target.write_text("precious\n")
    run = tmp_path / "run"

    class Plant(train.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                (run / "log.csv").unlink()
                (run / "log.csv").symlink_to(target)

    t = _trainer(run, callbacks=[Plant(), train.CSVLogger()])
    with pytest.raises(OSError, match="log.csv became a symbolic link"):
        t.fit(2)
    assert target.read_text() == "precious\n"


def test_lock_wait_message_names_the_directory(tmp_path, other_process_holding):
    run, pid = other_process_holding
    started = time.monotonic()
    with pytest.raises(RunDirLocked) as info:
        RunLock(run).acquire()
    assert info.value.pid == pid and info.value.run_dir == run
    assert time.monotonic() - started < 5  # never blocks


def test_a_full_disk_names_the_checkpoint_and_leaves_no_temporary(tmp_path, monkeypatch):
    # issue 14.11
    import errno

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    with pytest.raises(OSError, match="No space left on device while writing .*step-000000001"):
        save_checkpoint(tmp_path, {"a": np.zeros(3)}, 1)
    assert list(tmp_path.iterdir()) == []
