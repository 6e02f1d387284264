"""Pickle-free array caches, written atomically (``gdlab._atomic``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# One atomic-write routine for the whole package; ``atomic_writer`` is its old name here.
from gdlab._atomic import atomic_open as atomic_writer

__all__ = ["atomic_savez", "atomic_writer", "load_npz"]


def atomic_savez(path: Path, **arrays: np.ndarray) -> None:
    """``np.savez`` into ``path`` atomically (numeric arrays only, never pickled objects)."""
    for key, arr in arrays.items():
        if np.asarray(arr).dtype.kind == "O":
            raise TypeError(
                f"atomic_savez: {key} is an object array; only numeric arrays are cached"
            )
    with atomic_writer(path) as f:
        np.savez(f, **arrays)


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """All arrays of an .npz file, loaded without pickle (``allow_pickle=False``)."""
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}
