"""Choosing between the fused (numba) kernels and the NumPy kernels, as torch's ``fused`` flag.

``fused=None`` (the default): the fused kernel when numba is importable, the parameter has at
least ``FUSED_MIN_SIZE`` elements, the arrays allow it (see :func:`flat_views`) and the
break-even rule below says numba's load has paid off; else NumPy.
``fused=True``: numba is required (ImportError naming the ``gdlab[fast]`` extra otherwise);
arrays the kernel cannot take (non-contiguous, mixed layouts, float16, a grad of another
dtype) still go through NumPy. ``fused=False``: always NumPy.
Both paths keep the same state keys and give the same numbers (within one ulp:
``tests/optim/test_fast_kernels.py``).

The break-even rule (ski rental). Loading numba costs ``NUMBA_LOAD_S`` once per process
(measured here: ``import numba``, which also imports scipy, 0.3-0.7 s, plus 0.02 s for the
cached kernels; a first run on a machine also compiles, ~1.5 s); a fused step saves a fraction
of the NumPy step's time. So ``fused=None`` "rents": it runs the NumPy kernels and adds up
their estimated time on the parameters numba would take (elements x the kernel's
``numpy_ns``), and "buys" (loads numba, fused from then on) only on the first step after that
sum reaches ``NUMBA_LOAD_S``. Total time is then at most about twice the best choice made
with hindsight, and a short run (a first step, a small model, a test) never loads numba:
MLP 784-256-256-10 with SGD runs NumPy for its first ~1,880 steps, Adam on 10M parameters
for its first ~10.
The estimate uses only sizes and step counts, never a clock, so the step at which the path
changes is the same in every run of the same program. The sum is per process (the load is):
an optimizer created after another has bought uses numba from its first large step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from gdlab.optim._fast.threads import is_long, run_chunked

__all__ = ["FUSED_MIN_SIZE", "NUMBA_LOAD_S", "RENT", "check_fused_args", "flat_views",
           "fused_module", "rent_or_buy", "run_kernel"]  # fmt: skip

FUSED_MIN_SIZE = 1 << 16  # elements; below this fused=None keeps the NumPy rule
NUMBA_LOAD_S = 0.5  # seconds: numba's import and cached kernels, the price of "buying"


@dataclass
class Rent:
    """The break-even rule's account: estimated NumPy seconds spent where numba could run."""

    spent_s: float = 0.0


# Global state, on purpose: one account per process, as numba's load is once per process
RENT = Rent()


def rent_or_buy(items: Iterable[tuple[Any, ...]], numpy_ns: float) -> bool | None:
    """``fused`` for one ``fused=None`` step of a group's ``(param, grad, state)`` items.

    False (NumPy; the step's estimated time on parameters of at least ``FUSED_MIN_SIZE``
    elements, ``numpy_ns`` each, is added to :data:`RENT`) until the account reaches
    :data:`NUMBA_LOAD_S`; None (the size rule of :func:`fused_module`) from then on.
    """
    if RENT.spent_s >= NUMBA_LOAD_S:
        return None
    large = 0
    # a plain loop over 3-tuples (a starred target would build a list per item): this runs
    # on every step of every small model
    for param, _grad, _state in items:
        if param.size >= FUSED_MIN_SIZE:
            large += param.size
    if large == 0:
        return None  # nothing numba would take: no charge, and fused_module keeps NumPy
    RENT.spent_s += large * numpy_ns * 1e-9
    return False


# Global state, on purpose and only here: the outcome of the one attempt to import numba
_UNSET = object()
_module: object = _UNSET  # numba_kernels once imported, None if numba is missing or unusable
_import_error: Exception | None = None

INSTALL_HINT = "install the optional fused kernels with: pip install 'gdlab[fast]' (numba)"


def fused_module(
    fused: bool | None, who: str = "optimizer", size: int | None = None
) -> ModuleType | None:
    """The kernels module for ``fused`` (None: if numba imports and ``size`` is at least
    ``FUSED_MIN_SIZE``; True: required; False: None).

    Raises:
        ImportError: ``fused=True`` and numba cannot be imported.
    """
    global _module, _import_error
    if fused is False or (fused is None and size is not None and size < FUSED_MIN_SIZE):
        return None
    if _module is _UNSET:
        try:
            _module = _import_kernels()
        # numba missing, or present but unusable (e.g. no writable cache directory raises
        # RuntimeError at decoration): training must not break, the NumPy rules take over
        except Exception as exc:  # noqa: BLE001
            _module, _import_error = None, exc
    if _module is None and fused:
        raise ImportError(
            f"{who}: fused=True needs numba, which could not be imported "
            f"({type(_import_error).__name__}: {_import_error}); {INSTALL_HINT}, or pass "
            "fused=None/False for the NumPy path"
        ) from _import_error
    return _module  # type: ignore[return-value]


def _import_kernels() -> ModuleType:
    import numba

    if numba.config.DISABLE_JIT:  # the kernels would be Python loops over every element
        raise ImportError("numba's JIT is disabled (NUMBA_DISABLE_JIT=1)")
    from gdlab.optim._fast import numba_kernels

    return numba_kernels


def reset() -> None:
    """Forget the import attempt and the break-even account (tests call this)."""
    global _module, _import_error
    _module, _import_error = _UNSET, None
    RENT.spent_s = 0.0


def check_fused_args(who: str, fused: bool | None, foreach: bool | None) -> None:
    """torch's constructor checks: not both fused and foreach; numba present if fused=True."""
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    if fused:
        fused_module(True, who)


def flat_views(arrays: list[np.ndarray]) -> list[np.ndarray] | None:
    """1-D views of same-shaped arrays with one dtype (float32/64) and one memory order.

    C-contiguous arrays flatten in C order, Fortran-contiguous ones in F order; elementwise
    rules only need element i of every array to be the same element. 1-D arrays come back as
    they are. None if any array would need a copy (the NumPy rule handles those).
    """
    first = arrays[0]
    shape, dtype = first.shape, first.dtype
    if dtype.char not in "fd":  # float32, float64 (this runs per parameter per step: cheap tests)
        return None
    for a in arrays:
        if a.shape != shape or a.dtype != dtype:
            return None
    if all(a.flags.c_contiguous for a in arrays):
        return arrays if first.ndim == 1 else [a.reshape(-1) for a in arrays]
    if all(a.flags.f_contiguous for a in arrays):
        return [a.reshape(-1, order="F") for a in arrays]
    return None


def run_kernel(kernel: Callable[..., None], views: list[np.ndarray], *args: object) -> None:
    """``kernel(*views, *args)``, split in CHUNK-aligned parts over the optimizer's threads."""

    def body(lo: int, hi: int) -> None:
        kernel(*(v[lo:hi] for v in views), *args)

    if is_long(views[0].size):
        run_chunked(views[0].size, body)
    else:
        kernel(*views, *args)
