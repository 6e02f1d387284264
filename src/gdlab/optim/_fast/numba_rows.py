"""SGD and SparseAdam on the rows of a row-sparse gradient as compiled loops (numba;
``gdlab[fast]``).

Imported by :mod:`gdlab.optim._fast.sparse_rows` only, once the optimizer's numba policy
(``numba_loader.fused_module``) allows numba for the step. Per element each is its rule's
arithmetic in its order (SGD: ``sgd_kernel``'s without momentum), in the parameter's dtype,
on the rows present only and with no gathered copies of the rows; compiled as the other
kernels (``fastmath=False``), so the results are the rules' bit for bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["sgd_rows_kernel", "sparse_adam_rows_kernel"]


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
