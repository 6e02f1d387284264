"""The optimizer's threads: one process-wide pool, set by :func:`set_num_threads`.

Global state, on purpose and only here: ``POOL`` (a :class:`ThreadPool`) holds the thread
count and the executor shared by every optimizer of the process, as torch's
``set_num_threads`` does. The default is one thread (no executor). NumPy's ufuncs and the
numba kernels release the GIL, so a long parameter's chunks, or many small parameters, can
be updated on several threads; each worker has its own work buffers (``buffers.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from gdlab.optim._fast.buffers import CHUNK

__all__ = ["POOL", "ThreadPool", "get_num_threads", "is_long", "run_chunked", "run_tasks",
           "set_num_threads"]  # fmt: skip


@dataclass
class ThreadPool:
    """The thread count and its executor (``threads - 1`` workers: the caller is one)."""

    threads: int = 1
    executor: ThreadPoolExecutor | None = None


POOL = ThreadPool()
_worker = threading.local()  # ``in_worker``: a task's own chunks stay on its thread


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for the elementwise optimizer rules on long parameters (default 1).

    Example:
        >>> from gdlab.optim import set_num_threads, get_num_threads
        >>> set_num_threads(2); get_num_threads()
        2
        >>> set_num_threads(1)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive integer, got {n!r}")
    if POOL.executor is not None:
        POOL.executor.shutdown(wait=True)
        POOL.executor = None
    POOL.threads = n
    if n > 1:
        POOL.executor = ThreadPoolExecutor(max_workers=n - 1, thread_name_prefix="gdlab-optim")


def get_num_threads() -> int:
    """The number of threads the optimizer rules use."""
    return POOL.threads


def is_long(n: int) -> bool:
    """Whether a parameter of n elements is split over the threads by ``run_chunked`` itself."""
    return POOL.threads > 1 and n >= 2 * CHUNK * POOL.threads


def run_chunked(n: int, body: Callable[[int, int], None]) -> None:
    """``body(lo, hi)`` over [0, n): in one call, or split in CHUNK-aligned parts on threads."""
    parts = min(POOL.threads, n // (2 * CHUNK))
    if parts <= 1 or POOL.executor is None or getattr(_worker, "in_worker", False):
        body(0, n)
        return
    per = -(-n // parts // CHUNK) * CHUNK  # ceil to whole chunks
    bounds = [(lo, min(lo + per, n)) for lo in range(0, n, per)]
    futures = [POOL.executor.submit(body, lo, hi) for lo, hi in bounds[1:]]
    body(*bounds[0])  # the calling thread does the first part
    for f in futures:
        f.result()


def _run_serial(tasks: list[Callable[[], None]]) -> None:
    _worker.in_worker = True
    try:
        for task in tasks:
            task()
    finally:
        _worker.in_worker = False


def run_tasks(tasks: list[Callable[[], None]]) -> None:
    """Run independent tasks (one parameter's update each), shared out over the threads."""
    if POOL.executor is None or len(tasks) < 2:
        for task in tasks:
            task()
        return
    shares = [tasks[i :: POOL.threads] for i in range(POOL.threads)]
    futures = [POOL.executor.submit(_run_serial, share) for share in shares[1:] if share]
    _run_serial(shares[0])
    for f in futures:
        f.result()
