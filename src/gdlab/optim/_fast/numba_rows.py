"""SGD and SparseAdam on the rows of a row-sparse gradient as compiled loops (numba;
``gdlab[fast]``).

Imported by :mod:`gdlab.optim._fast.sparse_rows` and ``sparse_adam`` only, once the
optimizer's numba policy (``numba_loader.fused_module``) allows numba for the step. Per element
each is its rule's arithmetic in its order (SGD: ``sgd_kernel``'s), in the parameter's dtype,
with no gathered copies of the rows and no densified gradient; compiled as the other kernels
(``fastmath=False``), so the results are the rules' bit for bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from gdlab.optim._fast.numba_kernels import sgd_kernel

__all__ = ["sgd_momentum_rows_kernel", "sgd_rows_kernel", "sparse_adam_rows_kernel"]

# sgd_kernel's own body, inlined into the row loop (called per row instead, the loop over a
# 10,000 x 64 float32 table took 390 µs rather than 213)
_sgd_inlined = njit(inline="always", nogil=True, fastmath=False, error_model="numpy")(
    sgd_kernel.py_func
)


@njit(cache=True, nogil=True, fastmath=False, error_model="numpy", boundscheck=False)
def sgd_rows_kernel(p, rows, g, lr, maximize):
    """θ[rows[i]] ← θ[rows[i]] − (±g[i])·lr for every row i of ``g`` (2-D, C-contiguous)."""
    width = g.shape[1]
    for i in range(rows.shape[0]):
        target = p[rows[i]]
        source = g[i]
        for j in range(width):
            d = -source[j] if maximize else source[j]
            target[j] = target[j] - d * lr


@njit(cache=True, nogil=True, fastmath=False, error_model="numpy", boundscheck=False)
def sgd_momentum_rows_kernel(p, b, rows, g, s):
    """``sgd_kernel`` on every row of θ and of its momentum buffer ``b``, fed g[k] on row
    rows[k] (ascending) and a zero row elsewhere: the dense step on the densified gradient,
    bit for bit, without densifying it. ``s``: ``SGDScalars`` (no weight decay)."""
    zero = np.zeros(p.shape[1], p.dtype)
    k = 0
    for r in range(p.shape[0]):
        if k < rows.shape[0] and rows[k] == r:
            _sgd_inlined(p[r], g[k], b[r], s)
            k += 1
        else:
            _sgd_inlined(p[r], zero, b[r], s)


@njit(cache=True, nogil=True, fastmath=False, error_model="numpy", boundscheck=False)
def sparse_adam_rows_kernel(p, m, v, rows, g, s):
    """SparseAdam on the rows present, per element as ``sparse_adam.sparse_adam_`` (and torch):
    a = (g − m)(1 − β1), b = (g² − v)(1 − β2); m ← m + a, v ← v + b;
    θ ← θ + ((a + m_old)/(√(b + v_old) + ε))·(−step_size). ``s``: ``SparseAdamScalars``."""
    width = g.shape[1]
    for i in range(rows.shape[0]):
        r = rows[i]
        for j in range(width):
            gi = -g[i, j] if s.maximize else g[i, j]
            mo = m[r, j]
            vo = v[r, j]
            a = (gi - mo) * s.one_minus_beta1
            b = (gi * gi - vo) * s.one_minus_beta2
            m[r, j] = mo + a
            v[r, j] = vo + b
            p[r, j] = p[r, j] + ((a + mo) / (np.sqrt(b + vo) + s.eps)) * s.neg_step_size
