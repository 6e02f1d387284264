"""``np.add.at`` over rows as compiled loops (numba; ``pip install gdlab[fast]``).

Imported by :mod:`gdlab.autograd.scatter` only, and only once numba is already loaded. The
loops are ``np.add.at``'s: every row of ``rows`` added to its target row in order of appearance
(C order over ``index``), one rounding per addition, so the sums are the same bit for bit.
``rows`` is (n, m, d) for an (n, m) ``index``, or (n, 1, d) when every row of a block is the
same (the gradient of a mean or sum over the lookups, which arrives broadcast: no full-size
copy is made of it). Compiled with ``fastmath=False`` and ``cache=True`` (as the optimizer
kernels).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["coalesce_rows", "index_add_rows"]


@njit(cache=True, nogil=True, fastmath=False, boundscheck=False)
def index_add_rows(out, index, rows):
    """out[index[i, c]] += rows[i, c] (rows[i, 0] if ``rows`` has one column) in C order."""
    step = 1 if rows.shape[1] > 1 else 0
    for i in range(index.shape[0]):
        for c in range(index.shape[1]):
            target = out[index[i, c]]
            source = rows[i, c * step]
            for j in range(target.shape[0]):
                target[j] += source[j]


@njit(cache=True, nogil=True, fastmath=False, boundscheck=False)
def coalesce_rows(index, rows, num_rows):
    """(distinct values of ``index`` ascending, each one's rows summed as ``index_add_rows``
    sums them into zeros), numbering the distinct rows with a mark per table row. A sum's
    first row is written as ``x + 0`` (what adding it to zero gives: -0.0 becomes +0.0),
    so the sums need no zeroed array first."""
    slot = np.zeros(num_rows, np.intp)
    count = 0
    for i in range(index.shape[0]):
        for c in range(index.shape[1]):
            r = index[i, c]
            if slot[r] == 0:
                slot[r] = 1
                count += 1
    unique = np.empty(count, np.int64)
    k = 0
    for r in range(num_rows):
        if slot[r]:
            unique[k] = r
            slot[r] = k
            k += 1
    filled = np.zeros(count, np.bool_)
    sums = np.empty((count, rows.shape[2]), rows.dtype)
    zero = sums.dtype.type(0.0)
    step = 1 if rows.shape[1] > 1 else 0
    for i in range(index.shape[0]):
        for c in range(index.shape[1]):
            s = slot[index[i, c]]
            target = sums[s]
            source = rows[i, c * step]
            if filled[s]:
                for j in range(target.shape[0]):
                    target[j] += source[j]
            else:
                filled[s] = True
                for j in range(target.shape[0]):
                    target[j] = source[j] + zero
    return unique, sums
