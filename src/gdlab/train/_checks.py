"""Argument checks shared by the trainer, its callbacks and the checkpoint writer."""

from __future__ import annotations

from typing import Any

import numpy as np


def check_count(
    who: str, name: str, value: Any, *, positive: bool = True, allow_none: bool = False
) -> None:
    """Raise ``ValueError`` unless ``value`` is a positive (or non-negative) int, or None if
    ``allow_none``. ``True``, ``2.0`` and ``"2"`` are rejected: a count is an int."""
    if value is None and allow_none:
        return
    minimum = 1 if positive else 0
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        kind = "a positive int" if positive else "a non-negative int"
        none = " or None" if allow_none else ""
        raise ValueError(f"{who}: {name} must be {kind}{none}, got {value!r}")
