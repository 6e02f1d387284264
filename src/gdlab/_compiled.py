"""A module of numba kernels behind a NumPy path: imported once, on first need.

Each compiled kernel set (GELU, LayerNorm, the attention softmax, max pooling, conv's col2im,
BatchNorm, ReLU's gradient, sums over a middle axis, the LSTM/GRU cells, the embedding's
scatter) lives in a private module
(``ops/_*_kernels.py``, ``autograd/_scatter_kernels.py``) with its NumPy path beside the caller;
a ``CompiledKernels`` is the one place that decides which runs. It holds the outcome of the one
import attempt (state a reader must know about: per process, like numba's own cache), and None
means NumPy: numba missing, its JIT disabled (the kernels would be Python loops over every
element) or unusable (no writable cache).
The optimizers' fused kernels have their own loader with a break-even rule
(``optim/_fast/numba_loader.py``).
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

import numpy as np

__all__ = ["CompiledKernels"]

_UNSET = object()
_FLOATS = (np.float32, np.float64)


class CompiledKernels:
    """The kernels module ``name``, or None when numba cannot run it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._module: object = _UNSET

    def get(self, *, only_if_numba_loaded: bool = False) -> ModuleType | None:
        """The kernels (importing numba on the first call), or None (use NumPy).

        ``only_if_numba_loaded``: never pay numba's import here; None until something else
        in the process has imported numba, and asked again on the next call.
        """
        if self._module is _UNSET:
            if only_if_numba_loaded and "numba" not in sys.modules:
                return None
            try:
                self._module = self._import()
            except Exception:  # noqa: BLE001  (missing, disabled or unusable: NumPy takes over)
                self._module = None
        return self._module  # type: ignore[return-value]

    def for_arrays(
        self, min_size: int, first: np.ndarray, *others: np.ndarray | None
    ) -> ModuleType | None:
        """The kernels for float32 or float64 arrays of one dtype (None among ``others``
        ignored) whose ``first`` has ``min_size`` elements or more, else None (use NumPy):
        the test every kernel set compiled for both float dtypes makes before ``get``."""
        dtype = first.dtype
        if dtype.type not in _FLOATS or first.size < min_size:
            return None
        for a in others:
            if a is not None and a.dtype != dtype:
                return None
        return self.get()

    def _import(self) -> ModuleType:
        import numba

        if numba.config.DISABLE_JIT:
            raise ImportError("numba's JIT is disabled (NUMBA_DISABLE_JIT=1)")
        return importlib.import_module(self.name)

    def reset(self, module: object = _UNSET) -> None:
        """Forget the import attempt, or force ``module`` (None: the NumPy path) for tests."""
        self._module = module
