"""Checkpoint files: exact round trip, atomic directories, keep-last-N, corrupt files named."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from gdlab import Tensor, train
from gdlab.train import CheckpointError, latest_checkpoint, load_checkpoint, save_checkpoint
from gdlab.train.checkpoint import clean_stale, find_checkpoints


def _state() -> dict:
    rng = np.random.default_rng(0)
    return {
        "model": {"0.weight": rng.normal(size=(3, 2)).astype(np.float32), "0.bias": np.zeros(3)},
        "optimizer": {
            "state": {0: {"step": 3.0, "exp_avg": rng.normal(size=4)}},
            "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0]}],
        },
        "rng": rng.bit_generator.state,  # 128-bit ints
        "scalars": [np.float64(0.1), np.int64(7), None, True, "x", float("inf")],
        "tensor": Tensor(np.arange(3.0)),
    }


def _equal(a, b) -> bool:
    if isinstance(a, dict):
        return type(b) is dict and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return type(a) is type(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Tensor):
        return isinstance(b, Tensor) and _equal(a.data, b.data)
    if isinstance(a, np.ndarray | np.generic):
        return type(a) is type(b) and a.dtype == b.dtype and np.array_equal(a, b)
    return type(a) is type(b) and a == b


def test_round_trip_is_exact(tmp_path):
    state = _state()
    path = save_checkpoint(tmp_path, state, step=12)
    assert path.name == "step-000000012"
    assert sorted(p.name for p in path.iterdir()) == ["manifest.json", "state.json", "state.npz"]
    assert _equal(load_checkpoint(path), state)


def test_keep_last_and_latest(tmp_path):
    for step in (1, 2, 3, 4):
        save_checkpoint(tmp_path, {"step": step}, step=step, keep_last=2)
    assert [p.name for p in find_checkpoints(tmp_path)] == ["step-000000003", "step-000000004"]
    assert latest_checkpoint(tmp_path).name == "step-000000004"
    save_checkpoint(tmp_path, {"step": 40}, step=4)  # same step again: replaced atomically
    assert load_checkpoint(tmp_path / "step-000000004") == {"step": 40}


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage, file",
    [
        (_truncate, "state.npz"),
        (_flip, "state.npz"),
        (_truncate, "state.json"),
        (_truncate, "manifest.json"),
        (lambda p: p.unlink(), "state.npz"),
    ],
)
def test_corrupt_checkpoint_names_file_and_previous(tmp_path, damage, file):
    save_checkpoint(tmp_path, _state(), step=1)
    bad = save_checkpoint(tmp_path, _state(), step=2)
    damage(bad / file)
    with pytest.raises(CheckpointError, match=rf"{file}.*step-000000001"):
        load_checkpoint(bad)
    with pytest.warns(RuntimeWarning, match="corrupt"):
        assert latest_checkpoint(tmp_path).name == "step-000000001"


def test_stale_temp_dirs_are_ignored_and_cleaned(tmp_path):
    save_checkpoint(tmp_path, {"a": 1}, step=1)
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # a writer that is gone: its temporaries are stale
    stale = tmp_path / f".tmp-{proc.pid}-new-step-000000002-0123abcd"
    stale.mkdir()
    (stale / "state.npz").write_bytes(b"partial")
    assert latest_checkpoint(tmp_path).name == "step-000000001"
    assert clean_stale(tmp_path) == [stale]
    assert not stale.exists()


def test_refuses_objects_and_pickles(tmp_path):
    with pytest.raises(TypeError, match="object array"):
        save_checkpoint(tmp_path, {"x": np.array([{}, 1], dtype=object)}, step=1)
    with pytest.raises(TypeError, match="cannot save a set"):
        save_checkpoint(tmp_path, {"x": {1, 2}}, step=1)
    assert find_checkpoints(tmp_path) == [] and clean_stale(tmp_path) == []


def test_missing_directory(tmp_path):
    with pytest.raises(CheckpointError, match="not a checkpoint directory"):
        load_checkpoint(tmp_path / "nope")


@pytest.mark.parametrize("keep_last", [0, -1, 2.5, True])
def test_bad_keep_last(tmp_path, keep_last):
    with pytest.raises(ValueError, match="keep_last must be a positive int or None"):
        save_checkpoint(tmp_path, {"a": 1}, step=1, keep_last=keep_last)
    with pytest.raises(ValueError, match="Checkpoint: keep_last must be a positive int or None"):
        train.Checkpoint(keep_last=keep_last)
    assert not find_checkpoints(tmp_path)
