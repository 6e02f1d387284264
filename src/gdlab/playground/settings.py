"""Reading the settings a page sends: every value checked, every refusal a sentence to show.

The page sends JSON (numbers may arrive as strings typed by a person: ``"1e9"``, ``"nan"``).
A bad value raises ``SettingsError`` naming the setting, its allowed range and the value; the
server shows the message on the page and keeps the session running with its last good state.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["SettingsError", "choice", "integer", "json_object", "number"]


class SettingsError(ValueError):
    """A setting from the page is out of range or of the wrong kind (shown on the page)."""


def json_object(raw: Any, name: str) -> dict[str, Any]:
    """``raw`` if it is a JSON object (a dict); ``name`` says whose settings it holds."""
    if not isinstance(raw, dict):
        raise SettingsError(f"{name} must be an object, got {type(raw).__name__}")
    return raw


def _float(raw: Any, name: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise SettingsError(f"{name} must be a number, got {raw!r}")
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None


def number(
    raw: Any, name: str, low: float, high: float, *, low_open: bool = False, high_open: bool = False
) -> float:
    """``raw`` as a finite float in [low, high] (an open end excludes the bound)."""
    value = _float(raw, name)
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    if not math.isfinite(value):
        raise SettingsError(f"{name} must be a finite number, got {raw!r}")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        raise SettingsError(f"{name} must lie in {left}{low:g}, {high:g}{right}, got {value:g}")
    return value


def integer(raw: Any, name: str, low: int, high: int) -> int:
    """``raw`` as an int in [low, high] (``"300"`` and ``300.0`` are accepted, ``2.5`` is not)."""
    value = _float(raw, name)
    if not math.isfinite(value) or value != int(value):
        raise SettingsError(f"{name} must be a whole number, got {raw!r}")
    if not low <= value <= high:
        raise SettingsError(f"{name} must lie in [{low}, {high}], got {int(value)}")
    return int(value)


def choice(raw: Any, name: str, options: Sequence[str] | Mapping[str, Any]) -> str:
    """``raw`` if it is one of ``options``; otherwise the message lists them."""
    if not isinstance(raw, str) or raw not in options:
        valid = ", ".join(options)
        raise SettingsError(f"{name} must be one of {valid}; got {raw!r}")
    return raw
