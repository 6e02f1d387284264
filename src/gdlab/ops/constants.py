"""Read-only constant arrays shared by the ops, in one object: ``CONSTANTS``.

NumPy computes ``array op 0-d array`` faster than ``array op Python scalar``, with the same
result when the 0-d array has the array's dtype (NEP 50 casts the scalar so); and a fancy
index by ``arange(n)`` is cheaper without making the arange each time. These arrays are
made on first use, kept here (bounded) and never written to (they are read-only), so sharing
them between graph nodes is safe. This is the only state the op table keeps between calls;
the engine's own (grad mode, node counter) is ``gdlab.autograd.state.STATE``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["CONSTANTS", "ConstantCache", "PerDtype"]


def _read_only(arr: np.ndarray) -> np.ndarray:
    arr.flags.writeable = False
    return arr


class PerDtype(dict):
    """One number as a read-only 0-d array per dtype, made on first use: ``ONE[dtype]``."""

    def __init__(self, value: int) -> None:
        super().__init__()
        self.value = value

    def __missing__(self, dtype: np.dtype) -> np.ndarray:
        arr = self[dtype] = _read_only(np.array(self.value, dtype))
        return arr


@dataclass
class ConstantCache:
    """The shared constants (see the module docstring).

    Attributes:
        scalars: ``(value, dtype) -> 0-d array`` for the Python numbers ops meet beside a
            float tensor (``x * 0.5``). Zeros are never stored: 0.0 and -0.0 are equal keys
            but different values. At most ``limit`` entries.
        zero, one, two: those numbers per dtype (the VJPs' constants).
        aranges: ``n -> arange(n)`` for row indexing (a handful of batch sizes per program),
            at most ``arange_limit`` entries.
    """

    limit: int = 512
    arange_limit: int = 64
    scalars: dict[tuple[int | float, np.dtype], np.ndarray] = field(default_factory=dict)
    zero: PerDtype = field(default_factory=lambda: PerDtype(0))
    one: PerDtype = field(default_factory=lambda: PerDtype(1))
    two: PerDtype = field(default_factory=lambda: PerDtype(2))
    aranges: dict[int, np.ndarray] = field(default_factory=dict)

    def scalar(self, value: int | float, dtype: np.dtype) -> np.ndarray:
        """``value`` as a read-only 0-d array of ``dtype``.

        Example:
            >>> CONSTANTS.scalar(0.5, np.dtype(np.float32))
            array(0.5, dtype=float32)
        """
        key = (value, dtype)
        hit = self.scalars.get(key)
        if hit is not None:
            return hit
        arr = _read_only(np.array(value, dtype))
        if value and len(self.scalars) < self.limit:
            self.scalars[key] = arr
        return arr

    def arange(self, n: int) -> np.ndarray:
        """``np.arange(n)``, read-only."""
        rows = self.aranges.get(n)
        if rows is None:
            rows = _read_only(np.arange(n))
            if len(self.aranges) < self.arange_limit:
                self.aranges[n] = rows
        return rows


CONSTANTS = ConstantCache()
