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
    sums them into zeros).

    A counting sort by table row (stable: each row's occurrences stay in order of appearance)
    lets every sum be built in one place and written once, in order, where adding in place
    scatters read-modify-writes over the whole result (an embedding bag's training step is
    ~4 % faster so; the loop alone, with everything in cache, is not). A sum starts as its
    first row plus zero (what adding it to zero gives: -0.0 becomes +0.0).
    """
    width = rows.shape[2]
    step = 1 if rows.shape[1] > 1 else 0
    source = rows.reshape(rows.shape[0] * rows.shape[1], width)
    begin = np.zeros(num_rows + 1, np.intp)
    for i in range(index.shape[0]):
        for c in range(index.shape[1]):
            begin[index[i, c] + 1] += 1
    count = 0
    for r in range(num_rows):
        count += begin[r + 1] > 0
        begin[r + 1] += begin[r]
    unique = np.empty(count, np.int64)
    k = 0
    for r in range(num_rows):
        if begin[r + 1] > begin[r]:
            unique[k] = r
            k += 1
    order = np.empty(index.size, np.intp)  # the rows of ``source`` grouped by table row
    for i in range(index.shape[0]):
        for c in range(index.shape[1]):
            r = index[i, c]
            order[begin[r]] = i * rows.shape[1] + c * step
            begin[r] += 1  # ends at the start of the next table row's group
    sums = np.empty((count, width), rows.dtype)
    zero = sums.dtype.type(0.0)
    start = 0
    for k in range(count):
        end = begin[unique[k]]
        target = sums[k]
        first = source[order[start]]
        for j in range(width):
            target[j] = first[j] + zero
        for q in range(start + 1, end):
            row = source[order[q]]
            for j in range(width):
                target[j] += row[j]
        start = end
    return unique, sums
