"""SHA-256 digests of files and of named arrays: how gdlab detects a corrupt or altered file
(checkpoint manifests, .safetensors metadata, data caches)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping

import numpy as np

__all__ = ["arrays_sha256", "file_sha256"]


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def arrays_sha256(arrays: Mapping[str, np.ndarray]) -> str:
    """Hex SHA-256 over every array's name, dtype, shape and C-order bytes, in name order:
    equal for equal arrays whatever the file format that holds them."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        arr = np.asarray(arrays[name])
        h.update(json.dumps([name, arr.dtype.str, list(arr.shape)]).encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()
