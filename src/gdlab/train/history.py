"""History: what a training run recorded, per optimizer step and per epoch, as plain JSON.

``history.steps`` and ``history.epochs`` are dicts of equal-length lists (columns), so
``plt.plot(h.steps["step"], h.steps["loss"])`` just works and ``to_dict`` is JSON as it stands.
Wall-clock times are kept in their own columns (``wall_time``) and left out of the files by
default, so the same seed gives byte-identical history files.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from gdlab._atomic import atomic_write_text

__all__ = ["TIME_KEYS", "History", "atomic_write_text", "dumps_json"]

TIME_KEYS = frozenset({"wall_time", "epoch_time"})


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN/inf: null, as every gdlab file writes it
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    """NumPy scalars and arrays as Python numbers and lists (NaN kept in memory)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def dumps_json(obj: Any) -> str:
    """Deterministic, strict JSON: sorted keys, shortest round-trip floats, NaN/inf as null."""
    return json.dumps(_jsonable(obj), sort_keys=True, indent=1, allow_nan=False) + "\n"


class History:
    """Per-step and per-epoch records of a run.

    ``steps`` columns: ``step`` (1 = the first update), ``epoch``, ``loss``, ``lr``,
    ``grad_norm`` (total L2 norm before clipping), ``samples_seen``, ``wall_time`` (seconds
    since the run started), plus whatever callbacks add. ``epochs`` columns: ``epoch``,
    ``loss``, ``lr``, the metrics, ``val_loss`` and ``val_<metric>`` when there is validation
    data. ``events`` lists rollbacks and stops.

    Example:
        >>> h = History()
        >>> h.log_step({"step": 1, "loss": 2.0})
        >>> h.steps["loss"]
        [2.0]
    """

    def __init__(self) -> None:
        self.steps: dict[str, list[Any]] = {}
        self.epochs: dict[str, list[Any]] = {}
        self.events: list[dict[str, Any]] = []

    @property
    def history(self) -> dict[str, list[Any]]:
        """The per-epoch columns (Keras' ``History.history``)."""
        return self.epochs

    @property
    def num_steps(self) -> int:
        return len(self.steps.get("step", []))

    @staticmethod
    def _append(table: dict[str, list[Any]], row: dict[str, Any]) -> None:
        n = len(next(iter(table.values()))) if table else 0
        for key in row:  # in the row's order: a set difference would order by hash, per process
            if key not in table:
                table[key] = [None] * n  # a column that appears late is padded, not misaligned
        for key, column in table.items():
            column.append(_plain(row.get(key)))

    def log_step(self, row: dict[str, Any]) -> None:
        self._append(self.steps, row)

    def log_epoch(self, row: dict[str, Any]) -> None:
        self._append(self.epochs, row)

    def annotate_epoch(self, values: dict[str, Any]) -> None:
        """Add ``values`` to the last epoch's row (a callback's evaluation at the epoch end)."""
        if not self.epochs:
            raise ValueError("History.annotate_epoch: no epoch logged yet")
        n = len(next(iter(self.epochs.values())))
        for key, value in values.items():
            self.epochs.setdefault(key, [None] * n)[-1] = _plain(value)

    def last_epoch(self) -> dict[str, Any]:
        return {k: v[-1] for k, v in self.epochs.items() if v}

    def to_dict(self, timing: bool = True) -> dict[str, Any]:
        def table(t: dict[str, list[Any]]) -> dict[str, list[Any]]:
            return {k: list(v) for k, v in t.items() if timing or k not in TIME_KEYS}

        return {
            "steps": table(self.steps),
            "epochs": table(self.epochs),
            "events": [dict(e) for e in self.events],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> History:
        h = cls()
        h.steps = {k: list(v) for k, v in d.get("steps", {}).items()}
        h.epochs = {k: list(v) for k, v in d.get("epochs", {}).items()}
        h.events = [dict(e) for e in d.get("events", [])]
        return h

    def save(self, path: str | os.PathLike, timing: bool = False) -> Path:
        """Write the history as JSON (atomically); without wall times unless ``timing``."""
        return atomic_write_text(path, dumps_json(self.to_dict(timing=timing)))

    @classmethod
    def load(cls, path: str | os.PathLike) -> History:
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    def equals(self, other: History, timing: bool = False) -> bool:
        """Exact equality of all records (NaN equals NaN), ignoring wall times by default."""
        return _same(self.to_dict(timing), other.to_dict(timing))

    def __repr__(self) -> str:
        n_epochs = len(self.epochs.get("epoch", []))
        return f"History(steps={self.num_steps}, epochs={n_epochs})"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b
