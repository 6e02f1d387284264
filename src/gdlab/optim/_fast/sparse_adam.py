"""SparseAdam's fast kernel: one compiled pass over the rows present (``numba_rows.py``) once
numba is loaded in the process (by another optimizer's break-even rule, the GELU kernels or
the user; SparseAdam has no ``fused`` flag and never loads it), else the rule itself (NumPy on
the rows)."""

from __future__ import annotations

import math
import sys
from typing import Any, NamedTuple

import numpy as np

from gdlab.autograd.sparse import RowSparseGrad
from gdlab.optim._fast.numba_loader import fused_module
from gdlab.optim.sparse_adam import sparse_adam_

__all__ = ["SparseAdamScalars", "sparse_adam"]


class SparseAdamScalars(NamedTuple):
    """SparseAdam's step as the compiled loop takes it (scalars of θ's dtype, then a flag)."""

    one_minus_beta1: Any
    one_minus_beta2: Any
    eps: Any
    neg_step_size: Any
    maximize: bool


def sparse_adam(
    param: np.ndarray, grad: Any, state: dict, *, lr: float,
    betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, maximize: bool = False,
    fused: bool | None = None,
) -> None:  # fmt: skip
    """``sparse_adam_`` in place, the same numbers; compiled for a row-sparse gradient of a
    C-contiguous float32/float64 table once numba is loaded (``fused=True``: required)."""
    wanted = fused or (fused is None and "numba" in sys.modules)
    kernels = fused_module(fused, "SparseAdam") if wanted else None
    if kernels is None or not _compilable(param, grad, state):
        sparse_adam_(param, grad, state, lr=lr, betas=betas, eps=eps, maximize=maximize)
        return
    from gdlab.optim._fast.numba_rows import sparse_adam_rows_kernel

    if "exp_avg" not in state:
        state.update(step=0.0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param))
    beta1, beta2 = betas
    state["step"] += 1.0
    t = state["step"]
    step_size = lr * math.sqrt(1.0 - beta2**t) / (1.0 - beta1**t)
    cast = param.dtype.type
    scalars = SparseAdamScalars(
        cast(1.0 - beta1), cast(1.0 - beta2), cast(eps), cast(-step_size), maximize
    )
    m, v = state["exp_avg"], state["exp_avg_sq"]
    values = np.ascontiguousarray(grad.values)
    sparse_adam_rows_kernel(param, m, v, grad.indices, values, scalars)


def _compilable(param: np.ndarray, grad: Any, state: dict) -> bool:
    """A row-sparse gradient of a 2-D float table whose arrays the loop can index directly."""
    if type(grad) is not RowSparseGrad or param.ndim != 2 or param.dtype.char not in "fd":
        return False
    arrays = [param] + [state[k] for k in ("exp_avg", "exp_avg_sq") if k in state]
    return grad.values.dtype == param.dtype and all(
        a.dtype == param.dtype and a.shape == param.shape and a.flags.c_contiguous for a in arrays
    )
