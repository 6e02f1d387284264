"""History: columns stay aligned, JSON round trip, deterministic bytes, wall times apart."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

from gdlab.train import History


def _history() -> History:
    h = History()
    h.log_step({"step": 1, "loss": 2.5, "wall_time": 0.1})
    h.log_step({"step": 2, "loss": float("nan"), "grad_norm/w": 1.0, "wall_time": 0.2})
    h.log_epoch({"epoch": 0, "loss": 1.0 / 3.0, "val_loss": 0.1})
    h.events.append({"event": "rollback", "step": 2})
    return h


def test_late_columns_are_padded():
    h = _history()
    assert h.steps["grad_norm/w"] == [None, 1.0]
    assert all(len(v) == 2 for v in h.steps.values())


def test_columns_keep_the_order_they_first_appear_in():
    """Issue 12, bug 2: the order came from a set difference, so it changed per process."""
    h = History()
    h.log_step({"step": 1, "loss": 1.0, "grad_norm/0.weight": 0.5, "grad_norm/0.bias": 0.1,
                "lr": 0.1, "samples_seen": 8, "epoch": 0})  # fmt: skip
    h.log_step({"step": 2, "zeta": 1, "alpha": 2})
    assert list(h.steps) == ["step", "loss", "grad_norm/0.weight", "grad_norm/0.bias", "lr",
                             "samples_seen", "epoch", "zeta", "alpha"]  # fmt: skip


def test_column_order_is_the_same_in_every_process():
    code = (
        "from gdlab.train import History\n"
        "h = History()\n"
        "h.log_step({'loss': 1.0, 'grad_norm/a': 1.0, 'grad_norm/b': 2.0, 'lr': 0.1, 'step': 1})\n"
        "print(','.join(h.steps))"
    )
    headers = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env=dict(os.environ, PYTHONHASHSEED=str(seed)),
        ).stdout  # fmt: skip
        for seed in (1, 2, 3, 4)
    }
    assert headers == {"loss,grad_norm/a,grad_norm/b,lr,step\n"}


def test_round_trip_and_equality(tmp_path):
    h = _history()
    assert History.from_dict(h.to_dict()).equals(h, timing=True)
    path = h.save(tmp_path / "h.json")
    loaded = History.load(path)
    assert loaded.epochs["loss"] == [1.0 / 3.0]  # shortest repr round-trips exactly
    assert loaded.steps["loss"][1] is None  # NaN is null in strict JSON
    assert "wall_time" not in loaded.steps
    assert "wall_time" in History.load(h.save(tmp_path / "t.json", timing=True)).steps


def test_file_is_strict_json_and_deterministic(tmp_path):
    a = _history().save(tmp_path / "a.json").read_bytes()
    h = _history()
    h.steps["wall_time"] = [9.0, 9.5]  # different timings, same bytes
    b = h.save(tmp_path / "b.json").read_bytes()
    assert a == b
    json.loads(a, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


def test_equals_treats_nan_as_equal():
    h = _history()
    assert h.equals(_history())
    assert math.isnan(h.steps["loss"][1])
