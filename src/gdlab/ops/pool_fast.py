"""The one seam between max pooling and its compiled kernels (as ``gelu_fast`` for GELU).

``kernels(x, ...)`` returns :mod:`gdlab.ops._pool_kernels` when numba is installed (``pip
install gdlab[fast]``) and the float32 or float64 input is large enough to repay numba's
import, else None and
the NumPy path of :mod:`gdlab.ops.pool` runs. Both give the same numbers bit for bit
(tests/ops/test_pool_kernels.py).
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

from gdlab._compiled import _UNSET, CompiledKernels

__all__ = ["MIN_SIZE", "kernels", "reset"]

MIN_SIZE = 1 << 16  # input elements; smaller inputs take the NumPy path (no numba import)

_KERNELS = CompiledKernels("gdlab.ops._pool_kernels")


def kernels(x: np.ndarray, *others: np.ndarray) -> ModuleType | None:
    """The compiled kernels for the input ``x`` and arrays of its dtype, or None (use NumPy)."""
    return _KERNELS.for_arrays(MIN_SIZE, x, *others)


def reset(module: object = _UNSET) -> None:
    """Forget the import attempt, or force ``module`` (None: the NumPy path) for tests."""
    _KERNELS.reset(module)
