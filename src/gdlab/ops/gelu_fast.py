"""The one seam between exact GELU and its compiled float32 kernels.

``kernels(size)`` returns :mod:`gdlab.ops._gelu_kernels` when numba is installed (``pip
install gdlab[fast]``) and the array is large enough to repay numba's import (the first
large GELU of a process loads the cached machine code once), else None and the NumPy path
(``gdlab.ops.erf``) runs. Both agree within 2 float32 ulp; tests hold them to it.
"""

from __future__ import annotations

from types import ModuleType

__all__ = ["MIN_SIZE", "kernels", "reset"]

MIN_SIZE = 1 << 14  # elements; smaller arrays take the NumPy path (no numba import for them)

_UNSET = object()
_module: object = _UNSET  # the kernels module once imported, None if numba is unusable


def kernels(size: int) -> ModuleType | None:
    """The compiled kernels for an array of ``size`` elements, or None (use NumPy)."""
    global _module
    if size < MIN_SIZE:
        return None
    if _module is _UNSET:
        try:
            _module = _import_kernels()
        # numba missing, disabled or unusable (no writable cache): the NumPy path takes over
        except Exception:  # noqa: BLE001
            _module = None
    return _module  # type: ignore[return-value]


def _import_kernels() -> ModuleType:
    import numba

    if numba.config.DISABLE_JIT:  # the kernels would be Python loops over every element
        raise ImportError("numba's JIT is disabled (NUMBA_DISABLE_JIT=1)")
    from gdlab.ops import _gelu_kernels

    return _gelu_kernels


def reset(module: object = _UNSET) -> None:
    """Forget the import attempt, or force ``module`` (None: the NumPy path) for tests."""
    global _module
    _module = module
