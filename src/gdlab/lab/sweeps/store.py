"""Where a sweep's trials land: one JSON file per finished trial, written atomically.

``<run_dir>/trials/<key>.json`` holds the spec and its result; a failed trial (its function
raised, or its worker died more often than the executor retries) is recorded as
``<key>.failed.json`` with the reason. A file exists only once its trial is finished, so a
rerun skips exactly the finished trials, and an interrupted sweep loses nothing it finished.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gdlab._atomic import atomic_write_text
from gdlab.lab.sweeps.trial import TrialSpec, canonical_json

__all__ = ["TrialFailure", "TrialStore"]


@dataclass(frozen=True)
class TrialFailure:
    """A trial that did not produce a result, and why."""

    spec: TrialSpec
    reason: str
    attempts: int


class TrialStore:
    """The trial files of one sweep, under ``run_dir/trials``."""

    def __init__(self, run_dir: str | Path) -> None:
        self.root = Path(run_dir) / "trials"

    def _path(self, spec: TrialSpec, suffix: str = ".json") -> Path:
        return self.root / f"{spec.key}{suffix}"

    def has(self, spec: TrialSpec) -> bool:
        return self._path(spec).is_file()

    def load(self, spec: TrialSpec) -> Any:
        path = self._path(spec)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            return record["result"]
        except (OSError, ValueError, KeyError) as e:
            raise ValueError(f"trial file {path} is unreadable: {e}") from e

    def save(self, spec: TrialSpec, result: Any) -> Any:
        """Write ``result``; return it as a later ``load`` will (through the same JSON), so a
        fresh result and a reused one are the same values."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._path(spec, ".failed.json").unlink(missing_ok=True)
        # The result keeps its key order: a run's columns come out as the trial wrote them.
        text = canonical_json({"spec": spec.to_json(), "result": result}, sort_keys=False)
        atomic_write_text(self._path(spec), text + "\n")
        return json.loads(text)["result"]

    def save_failure(self, failure: TrialFailure) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        record = {
            "spec": failure.spec.to_json(),
            "reason": failure.reason,
            "attempts": failure.attempts,
        }
        return atomic_write_text(self._path(failure.spec, ".failed.json"), canonical_json(record))
