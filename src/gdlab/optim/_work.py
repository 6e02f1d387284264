"""Cache-sized work buffers shared by the elementwise rules (one set per thread and dtype).

The rules walk long parameters in chunks of ``CHUNK`` elements so that their temporaries stay
in the CPU cache instead of streaming a parameter-sized temporary through memory per ufunc.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np

CHUNK = 1 << 16  # 64k elements: 256 KB per float32 buffer, a few of them fit in L2

_local = threading.local()


def work_buffers(dtype: np.dtype, count: int) -> list[np.ndarray]:
    """``count`` flat buffers of CHUNK elements of ``dtype`` (reused, never freed)."""
    cache = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    key = np.dtype(dtype)
    bufs = cache.get(key)
    if bufs is None or len(bufs) < count:
        bufs = cache[key] = [np.empty(CHUNK, dtype=key) for _ in range(count)]
    return bufs[:count]


def flat(a: np.ndarray) -> np.ndarray | None:
    """A 1-D view of ``a`` sharing memory, or None if ``a`` is not contiguous."""
    if a.flags.c_contiguous:
        return a.reshape(-1)
    return None


def chunks(n: int) -> Iterator[slice]:
    for start in range(0, n, CHUNK):
        yield slice(start, min(start + CHUNK, n))
