"""Max pooling as compiled loops (numba; ``pip install gdlab[fast]``): one pass over the
input where NumPy makes several strided passes per kernel tap.

Imported lazily through :mod:`gdlab.ops.pool_fast` only. The results are bit for bit the
NumPy path's (:mod:`gdlab.ops.pool`): a maximum involves no rounding, NaN propagates as
``np.maximum`` does, and the scatter runs only for windows that do not overlap, so each
input position receives at most one gradient value (no sum whose order could differ).
Taps are visited in window order, so the gradient goes to the first maximum (torch's rule).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["max_pool_forward", "max_pool_scatter"]

_JIT = dict(cache=True, nogil=True, fastmath=False, error_model="numpy", boundscheck=False)


@njit(**_JIT)
def max_pool_forward(xp, out, kh, kw, sh, sw, dh, dw):  # pragma: no cover - compiled
    """out[n, c, i, j] = max over the window of the padded input ``xp``, row by row of the
    input (contiguous reads), the maximum taken by a select (no branch to mispredict)."""
    n_, c_, oh, ow = out.shape
    for n in range(n_):
        for c in range(c_):
            x2 = xp[n, c]
            o2 = out[n, c]
            for i in range(oh):
                orow = o2[i]
                first = x2[i * sh]
                for j in range(ow):
                    orow[j] = first[j * sw]
                for a in range(kh):
                    xrow = x2[i * sh + a * dh]
                    for j in range(ow):
                        m = orow[j]
                        for b in range(kw):
                            v = xrow[j * sw + b * dw]
                            m = v if (v > m) | (v != v) else m
                        orow[j] = m


@njit(**_JIT)
def max_pool_scatter(g, xp, pooled, gxp, kh, kw, sh, sw, dh, dw):  # pragma: no cover
    """g·hit at every window position, hit = the window's first maximum (as the NumPy path
    writes ``g * hit`` per tap, so zeros are signed alike); positions outside every window
    are left as they are. Windows must not overlap."""
    n_, c_, oh, ow = pooled.shape
    found = np.empty(ow, dtype=np.bool_)
    for n in range(n_):
        for c in range(c_):
            x2 = xp[n, c]
            g2 = g[n, c]
            p2 = pooled[n, c]
            gx2 = gxp[n, c]
            for i in range(oh):
                found[:] = False
                prow = p2[i]
                grow = g2[i]
                for a in range(kh):
                    r = i * sh + a * dh
                    xrow = x2[r]
                    gxrow = gx2[r]
                    for j in range(ow):
                        p = prow[j]
                        for b in range(kw):
                            s = j * sw + b * dw
                            h = (xrow[s] == p) & (not found[j])
                            gxrow[s] = grow[j] * h
                            found[j] = found[j] | h
