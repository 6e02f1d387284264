"""Kernels on the rows of a row-sparse gradient (``Embedding(sparse=True)``): torch's sparse
updates, which move only the rows a batch touched.

Each runs the dense fast kernel of its rule (``_fast/sgd.py``, ``_fast/adagrad.py``) on the
gathered rows of the parameter and of its row-shaped state, then writes them back. The
kernels are elementwise, so every touched row gets exactly the numbers the dense update would
give it; the other rows keep theirs, as torch's sparse step leaves them (and as the dense step
would for SGD without momentum and for Adagrad, whose zero-gradient rows do not move).
The state keeps its dense, parameter-shaped arrays (torch's ``sum`` is dense too).
SGD's rows also have a compiled loop (``numba_rows.py``) where the optimizer's numba policy
allows one: the same arithmetic in place, without gathering the rows; so has SGD with
momentum, whose update is the dense one (every row's buffer decays), without a densified
gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gdlab.autograd.sparse import RowSparseGrad
from gdlab.optim._fast.numba_loader import fused_module

__all__ = ["compiled_sgd_momentum_rows", "compiled_sgd_rows", "on_rows"]


def on_rows(
    kernel: Callable[..., None], param: np.ndarray, grad: RowSparseGrad, state: dict,
    row_keys: tuple[str, ...], **hyper: Any,
) -> None:  # fmt: skip
    """``kernel(param, grad, state, **hyper)`` restricted to ``grad.indices``, in place.

    ``row_keys``: the state's parameter-shaped arrays (gathered and written back with the
    rows); the state's other entries (``step``) are updated as the kernel leaves them.
    """
    rows = grad.indices
    sub = {k: (state[k][rows] if k in row_keys else v) for k, v in state.items()}
    part = param[rows]
    kernel(part, grad.values, sub, **hyper)
    param[rows] = part
    for key, value in sub.items():
        if key in row_keys:
            state[key][rows] = value
        else:
            state[key] = value


def _compilable(param: np.ndarray, values: np.ndarray, fused: bool | None, size: int) -> bool:
    """The numba policy allows a step of ``size`` elements and the loops can index the
    arrays directly."""
    if param.ndim != 2 or param.dtype.char not in "fd" or values.dtype != param.dtype:
        return False
    return param.flags.c_contiguous and fused_module(fused, "sgd_", size) is not None


def compiled_sgd_rows(
    param: np.ndarray, grad: RowSparseGrad, *, lr: float, maximize: bool, fused: bool | None
) -> bool:
    """SGD (no momentum) on ``grad``'s rows by the compiled loop; False where the numba
    policy or the arrays rule it out (then the caller runs :func:`on_rows`)."""
    if not _compilable(param, grad.values, fused, grad.values.size):
        return False
    from gdlab.optim._fast.numba_rows import sgd_rows_kernel

    values = np.ascontiguousarray(grad.values)
    sgd_rows_kernel(param, grad.indices, values, param.dtype.type(lr), maximize)
    return True


def compiled_sgd_momentum_rows(
    param: np.ndarray, grad: RowSparseGrad, buf: np.ndarray, scalars: Any, fused: bool | None
) -> bool:
    """SGD with momentum on a row-sparse gradient by the compiled loop: every row's dense
    update (torch's buffer decays every row it holds), the gradient read from its rows and
    zero elsewhere, with no dense gradient made; False where the numba policy or the arrays
    rule it out (then the caller densifies). ``scalars``: ``SGDScalars``."""
    if not _compilable(param, grad.values, fused, param.size) or not buf.flags.c_contiguous:
        return False
    from gdlab.optim._fast.numba_rows import sgd_momentum_rows_kernel

    values = np.ascontiguousarray(grad.values)
    sgd_momentum_rows_kernel(param, buf, grad.indices, values, scalars)
    return True
