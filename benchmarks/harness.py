"""Timing utilities shared by every benchmark: interleaved repetitions, medians, thread control.

The machine is shared and noisy (the second core comes and goes), so a benchmark never times
gdlab then its peer in two separate blocks: ``compare`` runs the candidates in turn, rotating
their order each repetition, and reports the median and inter-quartile range of each. Ratios
of medians measured this way are much steadier than the absolute times.

The interface every benchmark module follows::

    def run(threads: int, smoke: bool) -> list[dict]

Each row is a dict made by ``row()``: ``name``, ``gdlab_s``, ``peer``, ``peer_s``, ``ratio``
(``gdlab_s / peer_s``: below 1 means gdlab is faster), ``notes``; optionally ``subject``
(what is timed, default ``"gdlab"``), ``unit`` (default ``"s"``), ``target`` (the largest ratio
issue 7 accepts), ``gdlab_iqr`` and ``peer_iqr``, ``flop`` (floating-point operations per
timed call, for the GEMM-peak sanity check of :func:`sanity_flags`). The suite sets the thread
count (``threads``) before calling ``run``; a module only needs to read it if it spawns
processes. A module's standalone ``main()`` prints its rows with :func:`print_rows`.

Example:
    >>> stats = compare({"a": lambda: sum(range(100)), "b": lambda: sum(range(200))}, repeats=3)
    >>> stats["a"].median < stats["b"].median
    True
"""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "Stats",
    "blas_info",
    "compare",
    "cpu_model",
    "gemm_peak_gflops",
    "machine_info",
    "memory_bandwidth",
    "long_run_state",
    "print_rows",
    "row",
    "sanity_flags",
    "standalone",
    "thread_flags",
    "thread_limit",
    "threads_in_use",
    "time_once",
    "tuning_variables",
]

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Stats:
    """Per-call times of one candidate over the repetitions of ``compare``."""

    times: list[float] = field(default_factory=list)
    number: int = 1

    @property
    def median(self) -> float:
        return float(np.median(self.times)) if self.times else float("nan")

    @property
    def iqr(self) -> float:
        if len(self.times) < 2:
            return 0.0
        q1, q3 = np.percentile(self.times, [25, 75])
        return float(q3 - q1)

    @property
    def min(self) -> float:
        return float(np.min(self.times)) if self.times else float("nan")


def _calibrate(fn: Callable[[], object], min_time: float) -> int:
    """Calls per repetition so that one repetition lasts at least ``min_time`` seconds."""
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= min_time or number >= 1 << 20:
            return number
        # aim a little past min_time so the next try usually succeeds
        number = max(number * 2, int(number * 1.2 * min_time / max(elapsed, 1e-9)))


def compare(
    candidates: dict[str, Callable[[], object]],
    *,
    repeats: int = 7,
    min_time: float = 0.05,
    warmup: int = 1,
) -> dict[str, Stats]:
    """Time each candidate ``repeats`` times, interleaved, and return per-call ``Stats``.

    Each repetition runs every candidate once, in an order rotated by one each time, so
    that slow spells of the shared machine hit all candidates alike.

    Args:
        candidates: name -> zero-argument callable (one step, one op chain, ...).
        repeats: repetitions per candidate (the median is over these).
        min_time: seconds one repetition should last; short calls are looped.
        warmup: untimed calls per candidate first (allocators, caches, lazy imports).

    Example:
        >>> s = compare({"noop": lambda: None}, repeats=2, min_time=1e-4)
        >>> len(s["noop"].times)
        2
    """
    names = list(candidates)
    for name in names:
        for _ in range(warmup):
            candidates[name]()
    numbers = {name: _calibrate(candidates[name], min_time) for name in names}
    stats = {name: Stats(number=numbers[name]) for name in names}
    for r in range(repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            fn, n = candidates[name], numbers[name]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            stats[name].times.append((time.perf_counter() - t0) / n)
    return stats


def time_once(fn: Callable[[], object]) -> float:
    """Wall-clock seconds of one call."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def row(
    name: str,
    gdlab_s: Stats | float | None,
    peer: str,
    peer_s: Stats | float | None,
    notes: str = "",
    *,
    target: float | None = None,
    subject: str = "gdlab",
    unit: str = "s",
    flop: float | None = None,
) -> dict:
    """One result row; ``ratio = gdlab_s / peer_s`` (< 1: the subject is faster/smaller).

    ``target`` is the largest ratio issue 7 accepts (e.g. 1.0 for "as fast as PyTorch").
    ``None`` for a time means "not measured" (e.g. the subject is not implemented yet).
    ``flop``: the work of one timed call, when it is mostly matrix products.
    """
    out: dict = {"name": name, "subject": subject, "peer": peer, "unit": unit, "notes": notes}
    if flop is not None:
        out["flop"] = float(flop)
    for key, value in (("gdlab", gdlab_s), ("peer", peer_s)):
        if isinstance(value, Stats):
            out[f"{key}_s"], out[f"{key}_iqr"] = value.median, value.iqr
        else:
            out[f"{key}_s"] = None if value is None else float(value)
    a, b = out["gdlab_s"], out["peer_s"]
    out["ratio"] = a / b if a is not None and b else None
    if target is not None:
        out["target"] = float(target)
    return out


@contextlib.contextmanager
def thread_limit(n: int) -> Iterator[None]:
    """Run the block with ``n`` threads for torch (intra-op) and NumPy's BLAS / OpenMP.

    The two libraries keep separate pools: torch's is set with ``torch.set_num_threads``, the
    BLAS one that NumPy (and scikit-learn) use with threadpoolctl. Both are restored after.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        with contextlib.suppress(ImportError):
            import torch  # noqa: F811 -- loaded once here so every benchmark sees it set
    old_torch = torch.get_num_threads() if torch is not None else None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        threadpool_limits = None
    limiter = threadpool_limits(limits=n) if threadpool_limits else contextlib.nullcontext()
    try:
        if torch is not None:
            torch.set_num_threads(n)
        with limiter:
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(old_torch)


def threads_in_use() -> dict:
    """The thread counts the libraries report now: ``blas`` and ``openmp`` (threadpoolctl's
    view of every loaded pool) and ``torch`` (``torch.get_num_threads``, if loaded)."""
    out: dict = {"blas": [], "openmp": [], "torch": None}
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover
        threadpool_info = list
    for lib in threadpool_info():
        if lib.get("user_api") in ("blas", "openmp"):
            out[lib["user_api"]].append(int(lib["num_threads"]))
    torch = sys.modules.get("torch")
    if torch is not None:
        out["torch"] = int(torch.get_num_threads())
    return out


def thread_flags(used: dict, threads: int) -> list[str]:
    """What did not hold of a ``threads``-thread limit in ``used`` (from :func:`threads_in_use`)."""
    flags = []
    if not used["blas"]:
        flags.append("no BLAS found: its thread count is unverified")
    elif set(used["blas"]) != {threads}:
        flags.append(f"BLAS threads {sorted(set(used['blas']))}, not {threads}")
    if used["torch"] is not None and used["torch"] != threads:
        flags.append(f"torch threads {used['torch']}, not {threads}")
    return flags


def long_run_state() -> None:
    """Time the steady state of a long training run: gdlab's fused optimizer kernels bought.

    With ``fused=None`` gdlab keeps NumPy until the NumPy time spent where numba would run
    reaches numba's load cost (``gdlab/optim/_fast/numba_loader.py``: ~1,900 SGD steps of
    MLP 784-256-256-10), so a module timing a few hundred steps would time the start of a
    run, and the order of the modules in one process would decide which path each one
    times. The step-time modules call this first; ``memory`` times the first step of a
    fresh process instead.
    """
    from gdlab.optim._fast import numba_loader

    numba_loader.RENT.spent_s = max(numba_loader.RENT.spent_s, numba_loader.NUMBA_LOAD_S)


def gemm_peak_gflops(n: int = 1024, repeats: int = 9) -> float:
    """One thread's float32 GEMM peak (GFLOP/s, the fastest of ``repeats`` n x n x n
    products): a bound, so the fastest run, not a typical one (a median flagged honest rows:
    on 2 December the MLP step at batch 1024 reached 116 GFLOP/s at one thread, in gdlab and
    in torch alike, against a median sgemm of 98).

    Timed in CPU time (``time.thread_time``: at one thread OpenBLAS computes on the calling
    thread), which a loaded machine distorts little, where wall time would understate the
    peak and flag good rows (measured at load 9 on 2 cores: 10 GFLOP/s in wall time, 92-110
    in CPU time). No row doing matrix products at one thread can beat it: a row implying
    more ran with more threads than it claims (issue 20's case: 1.24 GFLOP in 6.24 ms,
    ~199 GFLOP/s, against this core's ~100).
    """
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty_like(a)
    times = []
    with thread_limit(1):
        np.matmul(a, b, out=out)
        for _ in range(repeats):
            t0 = time.thread_time()
            np.matmul(a, b, out=out)
            times.append(time.thread_time() - t0)
    return 2 * n**3 / max(min(times), 1e-9) / 1e9


def sanity_flags(rows: list[dict], peak_gflops: float, margin: float = 1.1) -> list[str]:
    """Rows whose ``flop`` per call implies more GFLOP/s than ``peak_gflops`` per thread
    (times ``margin``) for the gdlab or peer time: the thread limit or the timing is wrong."""
    flags = []
    for r in rows:
        if not r.get("flop"):
            continue
        bound = peak_gflops * r.get("threads", 1) * margin
        for who, key in ((r.get("subject", "gdlab"), "gdlab_s"), (r["peer"], "peer_s")):
            if r.get(key):
                implied = r["flop"] / r[key] / 1e9
                if implied > bound:
                    flags.append(
                        f"{r['name']} ({r.get('threads', 1)}T), {who}: implies "
                        f"{implied:.0f} GFLOP/s, above the measured peak "
                        f"{peak_gflops:.0f} GFLOP/s per thread"
                    )
    return flags


def standalone(run: Callable[[int, bool], list[dict]], doc: str | None,
               argv: list[str] | None = None, threads: tuple[int, ...] = (1,)) -> int:  # fmt: skip
    """A module's ``main(argv)`` run alone: ``--smoke``, ``--threads N [N ...]`` (default
    ``threads``), then :func:`print_rows`."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--smoke", action="store_true", help="tiny run to check it works")
    parser.add_argument("--threads", type=int, nargs="+", default=list(threads))
    args = parser.parse_args(argv)
    print_rows(run, args.threads, args.smoke)
    return 0


def print_rows(
    run: Callable[[int, bool], list[dict]], threads: Iterable[int], smoke: bool = False
) -> None:
    """A benchmark module's standalone ``main()``: ``run`` at each thread count under
    :func:`thread_limit`, one line per row (times in their unit, ratio, target, notes), and a
    line per thread count whose limit did not hold."""
    from benchmarks.report import fmt_value

    print(f"{'case':<44} {'thr':>3} {'subject':<12} {'time':>9} {'peer':<14} {'peer time':>9} "
          f"{'ratio':>6} {'target':>6}  notes")  # fmt: skip
    for n in threads:
        with thread_limit(n):
            for flag in thread_flags(threads_in_use(), n):
                print(f"!! {n} thread(s): {flag}")
            for r in run(n, smoke):
                unit = r.get("unit", "s")
                ratio = "–" if r.get("ratio") is None else f"{r['ratio']:.2f}"
                target = "" if r.get("target") is None else f"{r['target']:g}"
                print(f"{r['name']:<44} {n:>3} {r.get('subject', 'gdlab'):<12} "
                      f"{fmt_value(r.get('gdlab_s'), unit):>9} {r['peer']:<14} "
                      f"{fmt_value(r.get('peer_s'), unit):>9} {ratio:>6} {target:>6}  "
                      f"{r.get('notes', '')}")  # fmt: skip


def blas_info() -> list[dict]:
    """The BLAS / OpenMP libraries loaded in this process, as threadpoolctl sees them."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover
        return []
    keep = ("internal_api", "version", "architecture", "num_threads")
    return [
        {**{k: lib.get(k) for k in keep}, "file": Path(lib.get("filepath", "?")).name}
        for lib in threadpool_info()
    ]


def memory_bandwidth(nbytes: int = 256 << 20, repeats: int = 5) -> dict:
    """Measured memory bandwidth in GB/s (1e9 bytes) of a large NumPy copy and a triad.

    ``copy`` moves ``2 * nbytes`` (read + write), ``triad`` (``c = a + b``) ``3 * nbytes``;
    arrays are far larger than the caches and written once before timing (page faults).
    An optimizer step that reads param, grad, exp_avg, exp_avg_sq and writes three of them
    moves 28 bytes per float32 parameter: compare its GB/s with these.
    """
    n = nbytes // 4
    a = np.ones(n, dtype=np.float32)
    b = np.empty_like(a)
    c = np.empty_like(a)
    np.copyto(b, a)
    np.add(a, b, out=c)
    copy = compare({"copy": lambda: np.copyto(b, a)}, repeats=repeats, min_time=0.0, warmup=0)
    triad = compare({"t": lambda: np.add(a, b, out=c)}, repeats=repeats, min_time=0.0, warmup=0)
    return {
        "copy_GBps": 2 * nbytes / copy["copy"].median / 1e9,
        "triad_GBps": 3 * nbytes / triad["t"].median / 1e9,
        "nbytes": nbytes,
    }


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _mem_total_gib() -> float | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return int(line.split()[1]) / (1 << 20)
    return None


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        return out.stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def _version(module: str) -> str:
    try:
        mod = __import__(module)
    except ImportError:
        return "not installed"
    return getattr(mod, "__version__", "?")


TUNING_PREFIXES = ("OPENBLAS_", "GOTO", "MALLOC_", "OMP_", "MKL_", "KMP_", "NUMBA_", "GDLAB_TUNE")
# set by libraries on import, not by the user: scikit-learn sets both, threadpoolctl the first
NOT_TUNING = ("KMP_DUPLICATE_LIB_OK", "KMP_INIT_AT_FORK")


def tuning_variables(env: dict[str, str]) -> dict[str, str]:
    """The variables of ``env`` that tune BLAS kernels, threads or the allocator: what the
    report names, and what a default environment lacks."""
    return {k: v for k, v in env.items() if k.startswith(TUNING_PREFIXES) and k not in NOT_TUNING}


def _allocator_note() -> str:
    from gdlab import _allocator

    if not _allocator.applied:
        return "glibc's defaults (not set by gdlab)"
    return (
        f"glibc thresholds set by `import gdlab` (mmap {_allocator.MMAP_THRESHOLD >> 20} MiB,"
        f" trim {_allocator.TRIM_THRESHOLD >> 20} MiB; `gdlab._allocator`)"
    )


def machine_info() -> dict:
    """Machine, versions and thread settings, for the report's header."""
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    env = tuning_variables(dict(os.environ))
    info = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": affinity,
        "mem_gib": _mem_total_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": _version("torch"),
        "sklearn": _version("sklearn"),
        "numba": _version("numba"),
        "gdlab": _version("gdlab"),
        "commit": _git_commit(),
        "blas": blas_info(),
        "env": env,
        "allocator": _allocator_note(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        backends = torch.backends
        info["torch_backends"] = (
            f"mkldnn={backends.mkldnn.is_available()}, mkl={backends.mkl.is_available()}"
        )
    return info
