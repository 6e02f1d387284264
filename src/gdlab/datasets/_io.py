"""Atomic file writes and pickle-free array caches."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import numpy as np

__all__ = ["atomic_savez", "atomic_writer", "load_npz"]


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[IO[bytes]]:
    """Write ``path`` through a temporary file in the same directory, renamed on success.

    A reader never sees a half-written file: the rename is atomic on POSIX and Windows, and
    on any error the temporary file is removed and ``path`` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a cache file is an ordinary readable file
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


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
