"""A trial: one unit of a sweep, small enough to send to any worker, whose result is a file.

A :class:`TrialSpec` names a function by its import path and gives it JSON-able keyword
arguments and a seed. Everything a trial computes follows from the spec, so the result is the
same whichever process, machine or executor runs it; that is what makes a sweep's files
independent of the executor and lets a rerun skip what is finished.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TrialSpec", "canonical_json", "resolve", "run_trial"]


def canonical_json(value: Any, sort_keys: bool = True) -> str:
    """Compact JSON: the same bytes for the same value (keys sorted unless ``sort_keys`` is
    False, for results whose key order means something, such as the columns of a table).

    NaN and infinities are written as Python's ``json`` does (``NaN``, ``Infinity``) so a
    diverged trial's numbers round-trip exactly; ``json.loads`` reads them back as floats.
    """
    return json.dumps(value, sort_keys=sort_keys, separators=(",", ":"))


@dataclass(frozen=True)
class TrialSpec:
    """What to run: ``function(**params, seed=seed)``.

    Args:
        function: Import path ``"package.module:function"`` of a top-level function that
            returns a JSON-able result (dicts, lists, numbers, strings).
        params: Keyword arguments, JSON-able.
        seed: The trial's seed; all randomness of the trial comes from it.
        label: A short human name used in file names and progress ("adam-lr0.001-s0").
    """

    function: str
    params: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    label: str = "trial"

    def __post_init__(self) -> None:
        if not isinstance(self.function, str) or ":" not in self.function:
            raise ValueError(
                f"TrialSpec: function must be 'module:function', got {self.function!r}"
            )
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise TypeError(f"TrialSpec: seed must be an int, got {self.seed!r}")
        canonical_json(self.params)  # fails early, in the parent, on a non-JSON-able argument

    @property
    def key(self) -> str:
        """A file-system-safe name, unique per (function, params, seed)."""
        payload = canonical_json([self.function, self.params, self.seed])
        digest = hashlib.sha256(payload.encode()).hexdigest()[:12]
        stem = re.sub(r"[^A-Za-z0-9_.=-]+", "_", self.label)[:80]
        return f"{stem}-{digest}"

    def to_json(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "params": dict(self.params),
            "seed": self.seed,
            "label": self.label,
        }


def resolve(path: str) -> Any:
    """The object named by ``"package.module:attribute"``."""
    module, _, name = path.partition(":")
    try:
        obj: Any = importlib.import_module(module)
        for part in name.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"cannot import {path!r}: {e}") from e
    return obj


def run_trial(spec: TrialSpec) -> Any:
    """Run one trial in whatever process this is (the function every executor sends)."""
    return resolve(spec.function)(**spec.params, seed=spec.seed)
