"""glibc's malloc, told to keep the memory a training step frees for the next step.

A training step allocates and frees the same multi-MB arrays every time (activations, gate
buffers, gradients). glibc serves each from fresh pages (mmap) or, once its dynamic
threshold has risen, returns the freed top of the heap to the kernel (trim); either way
every page is faulted in again at the next step. Measured on 2 December (KVM, 2 cores), in a
process without torch: 2,400 minor faults per LSTM step (issue 20's workload), 37-38 → 26 ms
per step with the thresholds below (docs/benchmarks.md, items 6 and 20).

``import gdlab`` therefore sets, once, on Linux with glibc: blocks under 32 MiB from the heap
(the largest threshold glibc's own adjustment reaches) and up to 128 MiB of freed heap kept.
Peak memory is unchanged; after a peak the process may keep up to 128 MiB it no longer uses.
It leaves glibc alone when the user has set a ``MALLOC_*_`` variable or
``GDLAB_TUNE_MALLOC=0``. NumPy sets its own process-wide memory advice on import in the same
spirit (transparent huge pages for large arrays).
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["MMAP_THRESHOLD", "OPT_OUT", "TRIM_THRESHOLD", "applied", "keep_freed_memory"]

MMAP_THRESHOLD = 32 << 20  # bytes: smaller blocks come from the heap, larger ones from mmap
TRIM_THRESHOLD = 128 << 20  # bytes of free heap top kept before returning it to the kernel
OPT_OUT = "GDLAB_TUNE_MALLOC"
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h> parameter numbers
_USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")
applied = False  # whether this process's thresholds were set here (the benchmark report says)


def keep_freed_memory(environ: dict[str, str] | None = None) -> bool:
    """Set glibc's mmap and trim thresholds (see the module docstring); True when set.

    False, changing nothing, off Linux, without glibc, when ``GDLAB_TUNE_MALLOC=0`` or when a
    ``MALLOC_*_`` threshold variable is set (the user's choice wins).
    """
    environ = os.environ if environ is None else environ
    if environ.get(OPT_OUT, "1") == "0" or any(v in environ for v in _USER_SETTINGS):
        return False
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 - glibc only (musl has no mallopt thresholds)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    global applied
    applied = bool(
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
    return applied
