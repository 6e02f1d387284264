"""The process's threads: NumPy's BLAS, numba, and the optimizer pool, as ``torch.set_num_threads``.

gdlab computes with NumPy, whose matrix products run on its BLAS's threads (OpenBLAS's
pthreads in NumPy's wheels, spin-waiting at each barrier), plus the optimizer's own pool
(``gdlab.optim.set_num_threads``) and numba's, once numba is loaded. One call sets them all:
:func:`set_num_threads`. The BLAS is set through threadpoolctl when it is installed, else
through the library's own C entry point (``openblas_set_num_threads`` and its ``scipy_``
spellings, ``MKL_Set_Num_Threads``) found among the libraries the process has mapped.

The default never oversubscribes: OpenBLAS starts as many threads as the CPUs the process may
run on (``sched_getaffinity``; measured here: 2 normally, 1 under ``taskset -c 0``) but ignores
a container's CPU quota (cgroup ``cpu.max``), so a 2-CPU quota on a 64-core host would start
64 threads each waiting for its turn. ``import gdlab`` therefore lowers the BLAS's count to
:func:`usable_cores` when it is above it and no thread variable (``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``) says what the user wants; it never raises it.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import sys
from pathlib import Path

__all__ = ["cgroup_cpu_limit", "get_num_threads", "set_num_threads", "usable_cores"]

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# The BLAS entry points, by library: (setter, getter); 64-bit-integer builds add a suffix
_ENTRY_POINTS = (
    ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
    ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
    ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
    ("openblas_set_num_threads", "openblas_get_num_threads"),
    ("MKL_Set_Num_Threads", "MKL_Get_Max_Threads"),
)


def cgroup_cpu_limit(root: str | os.PathLike = "/sys/fs/cgroup") -> float | None:
    """The CPUs a cgroup quota allows (cgroup v2 ``cpu.max``, v1 ``cfs_quota_us``), or None.

    Example: ``cpu.max`` holding ``150000 100000`` gives 1.5; ``max 100000`` gives None.
    """
    root = Path(root)
    with contextlib.suppress(OSError, ValueError):
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    for sub in ("cpu", "cpu,cpuacct"):
        with contextlib.suppress(OSError, ValueError):
            quota = int((root / sub / "cpu.cfs_quota_us").read_text())
            period = int((root / sub / "cpu.cfs_period_us").read_text())
            return None if quota <= 0 else quota / period
    return None


def usable_cores() -> int:
    """The CPUs this process may use: its affinity mask, capped by a cgroup CPU quota
    (rounded up: a quota of 1.5 CPUs lets two threads make progress)."""
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:  # pragma: no cover - macOS, Windows
        cores = os.cpu_count() or 1
    limit = cgroup_cpu_limit()
    if limit is not None:
        cores = min(cores, max(1, math.ceil(limit)))
    return max(1, cores)


def _check(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads: n must be an int, got {type(n).__name__} {n!r}")
    if n < 1:
        raise ValueError(f"set_num_threads: n must be a positive integer, got {n}")
    return n


def set_num_threads(n: int) -> None:
    """Use ``n`` threads: NumPy's BLAS, the optimizer pool, and numba's (if loaded).

    Example:
        >>> import gdlab
        >>> gdlab.set_num_threads(1); gdlab.get_num_threads()
        1
    """
    n = _check(n)
    _set_blas_threads(n)
    from gdlab.optim import set_num_threads as set_optimizer_threads

    set_optimizer_threads(n)
    numba = sys.modules.get("numba")  # never imported for this: it is loaded where it pays
    if numba is not None:
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))


def get_num_threads() -> int:
    """The BLAS's thread count (the optimizer pool's when no BLAS is found)."""
    counts = _blas_threads()
    if counts:
        return max(counts)
    from gdlab.optim import get_num_threads as optimizer_threads

    return optimizer_threads()


def _set_blas_threads(n: int) -> None:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        for setter, _ in _blas_entry_points():
            setter(n)
        return
    threadpool_limits(limits=n, user_api="blas")


def _blas_threads() -> list[int]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [int(getter()) for _, getter in _blas_entry_points()]
    return [int(i["num_threads"]) for i in threadpool_info() if i.get("user_api") == "blas"]


def _blas_entry_points() -> list[tuple[ctypes._CFuncPtr, ctypes._CFuncPtr]]:
    """(setter, getter) of every BLAS library mapped into this process (Linux)."""
    found = []
    for path in _mapped_libraries():
        name = Path(path).name.lower()
        if "blas" not in name and "mkl_rt" not in name:
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for set_name, get_name in _ENTRY_POINTS:
            setter, getter = getattr(lib, set_name, None), getattr(lib, get_name, None)
            if setter is not None and getter is not None:
                setter.argtypes, getter.restype = [ctypes.c_int], ctypes.c_int
                found.append((setter, getter))
                break
    return found


def _mapped_libraries() -> list[str]:
    try:
        lines = Path("/proc/self/maps").read_text().splitlines()
    except OSError:  # pragma: no cover - not Linux: threadpoolctl is the way there
        return []
    paths = (line.split(maxsplit=5)[-1] for line in lines if ".so" in line)
    return list(dict.fromkeys(p for p in paths if p.startswith("/")))


def cap_to_usable_cores() -> None:
    """The import-time default: lower the BLAS's threads to :func:`usable_cores` when above
    it, unless a thread variable is set. Cheap when nothing needs doing (no BLAS query)."""
    if any(os.environ.get(v) for v in THREAD_VARIABLES):
        return
    cores = usable_cores()
    if cores >= (os.cpu_count() or 1):  # the BLAS already starts at most this many
        return
    counts = _blas_threads()
    if counts and max(counts) > cores:
        _set_blas_threads(cores)
