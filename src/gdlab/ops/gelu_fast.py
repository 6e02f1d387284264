"""The one seam between exact GELU and its compiled float32 kernels.

``kernels(size)`` returns :mod:`gdlab.ops._gelu_kernels` when numba is installed (``pip
install gdlab[fast]``) and the array is large enough to repay numba's import (the first
large GELU of a process loads the cached machine code once), else None and the NumPy path
(``gdlab.ops.erf``) runs. Both agree within 2 float32 ulp; tests hold them to it.
"""

from __future__ import annotations

from types import ModuleType

from gdlab._compiled import _UNSET, CompiledKernels

__all__ = ["MIN_SIZE", "kernels", "reset"]

MIN_SIZE = 1 << 14  # elements; smaller arrays take the NumPy path (no numba import for them)

_KERNELS = CompiledKernels("gdlab.ops._gelu_kernels")


def kernels(size: int) -> ModuleType | None:
    """The compiled kernels for an array of ``size`` elements, or None (use NumPy)."""
    return None if size < MIN_SIZE else _KERNELS.get()


def reset(module: object = _UNSET) -> None:
    """Forget the import attempt, or force ``module`` (None: the NumPy path) for tests."""
    _KERNELS.reset(module)
