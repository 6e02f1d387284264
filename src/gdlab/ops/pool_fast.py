"""The one seam between max pooling and its compiled kernels (as ``gelu_fast`` for GELU).

``kernels(size)`` returns :mod:`gdlab.ops._pool_kernels` when numba is installed (``pip
install gdlab[fast]``) and the input is large enough to repay numba's import, else None and
the NumPy path of :mod:`gdlab.ops.pool` runs. Both give the same numbers bit for bit
(tests/ops/test_pool_kernels.py).
"""

from __future__ import annotations

from types import ModuleType

__all__ = ["MIN_SIZE", "kernels", "reset"]

MIN_SIZE = 1 << 16  # input elements; smaller inputs take the NumPy path (no numba import)

_UNSET = object()
_module: object = _UNSET  # the kernels module once imported, None if numba is unusable


def kernels(size: int) -> ModuleType | None:
    """The compiled kernels for an input of ``size`` elements, or None (use NumPy)."""
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
    from gdlab.ops import _pool_kernels

    return _pool_kernels


def reset(module: object = _UNSET) -> None:
    """Forget the import attempt, or force ``module`` (None: the NumPy path) for tests."""
    global _module
    _module = module
