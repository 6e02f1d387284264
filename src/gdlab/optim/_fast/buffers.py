"""Cache-sized work buffers and cached 0-d scalars: the fast kernels' temporaries.

The kernels walk long parameters in chunks of ``CHUNK`` elements so that their temporaries stay
in the CPU cache instead of streaming a parameter-sized temporary through memory per ufunc.

Global state, on purpose and only here (bounded caches, never freed, no effect on results):

- per thread (``_local``): the flat work buffers of each dtype (``work_buffers``) and their
  views shaped like small parameters (``direct_work``, at most 256 shapes);
- per process (``_scalars``): hyper-parameters as read-only 0-d arrays (``dtype_scalars``,
  at most 256 entries).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np

__all__ = ["CHUNK", "chunks", "direct_work", "dtype_scalars", "flat", "work_buffers"]

CHUNK = 1 << 15  # 32k elements: 128 KB per float32 buffer; a chunk of each array fits in L2

_local = threading.local()
_scalars: dict[tuple, tuple] = {}


def work_buffers(dtype: np.dtype, count: int) -> list[np.ndarray]:
    """``count`` flat buffers of CHUNK elements of ``dtype`` (per thread, reused, never freed)."""
    if count == 0:
        return []
    cache = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    key = np.dtype(dtype)
    bufs = cache.get(key)
    if bufs is None or len(bufs) < count or bufs[0].size != CHUNK:
        bufs = cache[key] = [np.empty(CHUNK, dtype=key) for _ in range(count)]
        _local.shaped = {}  # views of the old buffers must not keep them alive
    return bufs[:count]


def direct_work(
    param: np.ndarray, grad: np.ndarray, work: int, masks: int = 0
) -> tuple[np.ndarray, ...] | None:
    """Scratch shaped like ``param`` for running a kernel on the whole arrays at once.

    The direct path for a parameter that fits in one chunk: no views, no closure, no slicing,
    the same arithmetic as the chunked path (elementwise ufuncs give the same bits on any
    layout). Returns ``work`` buffers of the param's dtype then ``masks`` boolean ones (views
    of the per-thread work buffers, cached per shape so a steady-state step creates nothing),
    or None when the chunked path is needed (a long parameter, or a grad of another shape).
    """
    if param.size > CHUNK or grad.shape != param.shape:
        return None
    shaped = getattr(_local, "shaped", None)
    if shaped is None:
        shaped = _local.shaped = {}
    key = (param.dtype, param.shape, work, masks)
    views = shaped.get(key)
    if views is None:
        if len(shaped) >= 256:  # many distinct shapes: start over rather than grow forever
            shaped.clear()
        n, shape = param.size, param.shape
        bufs = work_buffers(param.dtype, work) + work_buffers(np.bool_, masks)
        views = tuple(b[:n].reshape(shape) for b in bufs)
        _local.shaped[key] = views  # work_buffers may have replaced the dict
    return views


def dtype_scalars(param: np.ndarray, grad: np.ndarray, values: tuple[float, ...]) -> tuple:
    """``values`` as read-only 0-d arrays of the param's dtype (cached), for the ufuncs.

    NumPy rounds a Python float to a float32 array's dtype before the ufunc (NEP 50), so a 0-d
    float32 array gives the same bits, and a ufunc call takes about half the time (the point
    on small parameters, where the calls are the cost). With a grad of another dtype the
    Python floats come back unchanged: there the float would meet the grad's precision.
    """
    if grad.dtype != param.dtype:
        return values
    key = (param.dtype, values)
    out = _scalars.get(key)
    if out is None:
        if len(_scalars) >= 256:  # a scheduled lr makes new values every step: stay bounded
            _scalars.clear()
        out = tuple(np.array(v, dtype=param.dtype) for v in values)
        for a in out:
            a.flags.writeable = False
        _scalars[key] = out
    return out


def flat(a: np.ndarray) -> np.ndarray | None:
    """A 1-D view of ``a`` sharing memory, or None if ``a`` is not contiguous."""
    if a.flags.c_contiguous:
        return a.reshape(-1)
    return None


def chunks(n: int, start: int = 0) -> Iterator[slice]:
    """Slices of at most CHUNK elements covering [start, start + n)."""
    stop = start + n
    for lo in range(start, stop, CHUNK):
        yield slice(lo, min(lo + CHUNK, stop))
