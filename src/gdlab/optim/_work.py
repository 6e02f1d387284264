"""Cache-sized work buffers and optional threads shared by the elementwise rules.

The rules walk long parameters in chunks of ``CHUNK`` elements so that their temporaries stay
in the CPU cache instead of streaming a parameter-sized temporary through memory per ufunc.
NumPy's ufuncs release the GIL, so with ``set_num_threads(n)`` a long parameter's chunks are
shared out to ``n`` threads (each with its own buffers). The default is one thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = [
    "CHUNK", "chunk_grad", "chunks", "direct_work", "dtype_scalars", "flat", "for_chunks",
    "get_num_threads", "is_long", "run_chunked", "run_tasks", "set_num_threads",
]  # fmt: skip

CHUNK = 1 << 15  # 32k elements: 128 KB per float32 buffer; a chunk of each array fits in L2

_local = threading.local()
_threads = 1
_pool: ThreadPoolExecutor | None = None


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for the elementwise optimizer rules on long parameters (default 1).

    Example:
        >>> from gdlab.optim import set_num_threads, get_num_threads
        >>> set_num_threads(2); get_num_threads()
        2
        >>> set_num_threads(1)
    """
    global _threads, _pool
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive integer, got {n!r}")
    if _pool is not None:
        _pool.shutdown(wait=True)
        _pool = None
    _threads = n
    if n > 1:
        _pool = ThreadPoolExecutor(max_workers=n - 1, thread_name_prefix="gdlab-optim")


def get_num_threads() -> int:
    """The number of threads the optimizer rules use."""
    return _threads


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
    """Scratch shaped like ``param`` for running a rule's kernel on the whole arrays at once.

    The direct path for a parameter that fits in one chunk: no views, no closure, no slicing,
    the same arithmetic as :func:`for_chunks` (elementwise ufuncs give the same bits on any
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


_scalars: dict[tuple, tuple] = {}


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


def run_chunked(n: int, body: Callable[[int, int], None]) -> None:
    """``body(lo, hi)`` over [0, n): in one call, or split in CHUNK-aligned parts on threads."""
    parts = min(_threads, n // (2 * CHUNK))
    if parts <= 1 or _pool is None or getattr(_local, "in_worker", False):
        body(0, n)
        return
    per = -(-n // parts // CHUNK) * CHUNK  # ceil to whole chunks
    bounds = [(lo, min(lo + per, n)) for lo in range(0, n, per)]
    futures = [_pool.submit(body, lo, hi) for lo, hi in bounds[1:]]
    body(*bounds[0])  # the calling thread does the first part
    for f in futures:
        f.result()


def is_long(n: int) -> bool:
    """Whether a parameter of n elements is split over the threads by ``run_chunked`` itself."""
    return _threads > 1 and n >= 2 * CHUNK * _threads


def _run_serial(tasks: list[Callable[[], None]]) -> None:
    _local.in_worker = True  # a task's own run_chunked stays on this thread
    try:
        for task in tasks:
            task()
    finally:
        _local.in_worker = False


def run_tasks(tasks: list[Callable[[], None]]) -> None:
    """Run independent tasks (one parameter's update each), shared out over the threads."""
    if _pool is None or len(tasks) < 2:
        for task in tasks:
            task()
        return
    shares = [tasks[i::_threads] for i in range(_threads)]
    futures = [_pool.submit(_run_serial, share) for share in shares[1:] if share]
    _run_serial(shares[0])
    for f in futures:
        f.result()


def for_chunks(
    arrays: list[np.ndarray | None], kernel: Callable[..., None], work: int = 0, masks: int = 0
) -> None:
    """``kernel(*pieces, *buffers)`` on matching CHUNK-sized pieces of same-shaped arrays.

    The kernel updates its pieces in place. ``None`` entries (not the first) are passed as
    None: an optional state array the rule does not use this time. After the pieces come
    ``work`` scratch buffers of the first array's dtype and ``masks`` boolean ones, as long as
    the piece: the kernel's temporaries, reused across chunks, steps and parameters.

    Non-contiguous arrays are processed as contiguous copies and written back afterwards.
    Long arrays are shared out over the threads (``set_num_threads``), each with its buffers.
    A small parameter (one chunk, same-shaped arrays) runs the kernel on the arrays themselves.
    """
    first = arrays[0]
    if first.size <= CHUNK and all(a is None or a.shape == first.shape for a in arrays):
        kernel(*arrays, *direct_work(first, first, work, masks))
        return
    dtype, n = first.dtype, first.size
    views: list[np.ndarray | None] = []
    copies = []
    for a in arrays:
        v = None if a is None else flat(a)
        if v is None and a is not None:
            v = np.ascontiguousarray(a).reshape(-1)
            copies.append((a, v))
        views.append(v)

    def body(lo: int, hi: int) -> None:
        buffers = work_buffers(dtype, work) + work_buffers(np.bool_, masks)
        if n <= CHUNK:  # a small parameter is one piece: no slicing
            kernel(*views, *(b[:n] for b in buffers))
            return
        for sl in chunks(hi - lo, lo):
            size = sl.stop - sl.start
            pieces = [None if v is None else v[sl] for v in views]
            kernel(*pieces, *(b[:size] for b in buffers))

    run_chunked(n, body)
    for a, v in copies:
        a[...] = v.reshape(a.shape)


def chunk_grad(
    p: np.ndarray, g: np.ndarray, weight_decay: float, maximize: bool, out: np.ndarray,
    work: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """The gradient a rule follows: ±g (− if maximizing) + weight_decay·θ (coupled L2).

    Written into ``out`` (``work`` is clobbered); g itself when there is nothing to add, so the
    common case copies nothing.
    """
    if not maximize and not weight_decay:
        return g
    if maximize:
        np.negative(g, out=out)
    else:
        np.copyto(out, g)
    if weight_decay:
        np.multiply(p, weight_decay, out=work)
        out += work
    return out
