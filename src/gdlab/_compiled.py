"""A module of numba kernels behind a NumPy path: imported once, on first need.

GELU, max pooling, the embedding's scatter, sums over a middle axis and the LSTM/GRU cells
each keep their compiled loops in a private module (``ops/_gelu_kernels.py``,
``ops/_pool_kernels.py``, ``autograd/_scatter_kernels.py``, ``ops/_reduce_kernels.py``,
``ops/_rnn_kernels.py``) and their NumPy path beside the caller; a ``CompiledKernels`` is the
one place that decides which runs. It holds the outcome of the one import attempt (state a
reader must know about: per process, like numba's own cache), and None means NumPy: numba
missing, its JIT disabled (the kernels would be Python loops over every element) or unusable
(no writable cache).
The optimizers' fused kernels have their own loader with a break-even rule
(``optim/_fast/numba_loader.py``).
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

__all__ = ["CompiledKernels"]

_UNSET = object()


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

    def _import(self) -> ModuleType:
        import numba

        if numba.config.DISABLE_JIT:
            raise ImportError("numba's JIT is disabled (NUMBA_DISABLE_JIT=1)")
        return importlib.import_module(self.name)

    def reset(self, module: object = _UNSET) -> None:
        """Forget the import attempt, or force ``module`` (None: the NumPy path) for tests."""
        self._module = module
