"""A sum over a middle axis as one compiled loop (numba; ``pip install gdlab[fast]``).

Imported by :mod:`gdlab.ops.reduce` only, and only once numba is already loaded. The loop adds
what NumPy's reduction adds, in its order (each output block starts at zero and takes the
input's blocks one after another), so the sums are the same bit for bit. Compiled with
``fastmath=False`` and ``cache=True`` (as the optimizer kernels).
"""

from __future__ import annotations

from numba import njit

__all__ = ["middle_axis_sum"]


@njit(cache=True, nogil=True, fastmath=False, boundscheck=False)
def middle_axis_sum(x, out):
    """out[i] = 0 + x[i, 0] + x[i, 1] + ... for C-contiguous (a, n, b) ``x`` and (a, b) ``out``."""
    zero = out.dtype.type(0.0)
    for i in range(x.shape[0]):
        total = out[i]
        first = x[i, 0]
        for j in range(total.shape[0]):
            total[j] = zero + first[j]
        for k in range(1, x.shape[1]):
            block = x[i, k]
            for j in range(total.shape[0]):
                total[j] += block[j]
