"""``np.add.at`` over rows as one compiled loop (numba; ``pip install gdlab[fast]``).

Imported by :mod:`gdlab.autograd.scatter` only, and only once numba is already loaded. The loop is
``np.add.at``'s: every row of ``rows`` added to its target row in order of appearance, one
rounding per addition, so the sums are the same bit for bit. Compiled with
``fastmath=False`` and ``cache=True`` (as the optimizer kernels).
"""

from __future__ import annotations

from numba import njit

__all__ = ["index_add_rows"]


@njit(cache=True, nogil=True, fastmath=False, boundscheck=False)
def index_add_rows(out, index, rows):
    """out[index[i]] += rows[i] for i = 0, 1, ... in turn (2-D C-contiguous arrays)."""
    width = rows.shape[1]
    for i in range(index.shape[0]):
        target = out[index[i]]
        source = rows[i]
        for j in range(width):
            target[j] += source[j]
