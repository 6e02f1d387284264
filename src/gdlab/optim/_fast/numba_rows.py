"""SGD on the rows of a row-sparse gradient as one compiled loop (numba; ``gdlab[fast]``).

Imported by :mod:`gdlab.optim._fast.sparse_rows` only, once the optimizer's numba policy
(``numba_loader.fused_module``) allows numba for the step. Per element it is ``sgd_kernel``'s
arithmetic without momentum (θ ← θ − d·lr, d = ±g), on the rows present only, with no
gathered copy of the parameter's rows; compiled as the other kernels (``fastmath=False``).
"""

from __future__ import annotations

from numba import njit

__all__ = ["sgd_rows_kernel"]


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
