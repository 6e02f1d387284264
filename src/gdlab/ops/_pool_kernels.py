"""Max pooling as compiled loops (numba; ``pip install gdlab[fast]``): one pass over the
input where NumPy makes several strided passes per kernel tap.

Imported lazily through :mod:`gdlab.ops.pool_fast` only. The results are bit for bit the
NumPy path's (:mod:`gdlab.ops.pool`): a maximum involves no rounding, NaN propagates as
``np.maximum`` does, and the scatter runs only for windows that do not overlap, so each
input position receives at most one gradient value (no sum whose order could differ).
Taps are visited in window order, so the gradient goes to the first maximum (torch's rule).
The commonest geometry, 2x2 windows at stride 2, has loops of its own with the four taps
written out (no inner loop over taps, no mark array; ``~`` is numba's logical not on booleans):
forward 2.5x and scatter 2.7x faster than the general loops at the BN CNN's shapes.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["max_pool_forward", "max_pool_scatter"]

_JIT = dict(cache=True, nogil=True, fastmath=False, error_model="numpy", boundscheck=False)


@njit(inline="always", **_JIT)
def _larger(m, v):  # pragma: no cover - compiled
    """max(m, v) as the NumPy path takes it, NaN winning."""
    return v if (v > m) | (v != v) else m


@njit(inline="always", **_JIT)
def _is_2x2(kh, kw, sh, sw, dh, dw):  # pragma: no cover - compiled
    return kh == 2 and kw == 2 and sh == 2 and sw == 2 and dh == 1 and dw == 1


@njit(**_JIT)
def max_pool_forward(xp, out, kh, kw, sh, sw, dh, dw):  # pragma: no cover - compiled
    """out[n, c, i, j] = max over the window of the padded input ``xp``, plane by plane."""
    two_by_two = _is_2x2(kh, kw, sh, sw, dh, dw)
    for n in range(out.shape[0]):
        for c in range(out.shape[1]):
            if two_by_two:
                _forward_plane_2x2(xp[n, c], out[n, c])
            else:
                _forward_plane(xp[n, c], out[n, c], kh, kw, sh, sw, dh, dw)


@njit(**_JIT)
def max_pool_scatter(g, xp, pooled, gxp, kh, kw, sh, sw, dh, dw):  # pragma: no cover
    """g at each window's first maximum in ``gxp``, plane by plane (windows must not
    overlap); positions outside every window are left as they are."""
    two_by_two = _is_2x2(kh, kw, sh, sw, dh, dw)
    found = np.empty(pooled.shape[3], dtype=np.bool_)
    for n in range(pooled.shape[0]):
        for c in range(pooled.shape[1]):
            if two_by_two:
                _scatter_plane_2x2(g[n, c], xp[n, c], pooled[n, c], gxp[n, c])
            else:
                _scatter_plane(g[n, c], xp[n, c], pooled[n, c], gxp[n, c], found,
                               kh, kw, sh, sw, dh, dw)  # fmt: skip


@njit(inline="always", **_JIT)
def _forward_plane(x2, o2, kh, kw, sh, sw, dh, dw):  # pragma: no cover - compiled
    """One plane, row by row of the input (contiguous reads), the maximum taken by a select
    (no branch to mispredict)."""
    oh, ow = o2.shape
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
                    m = _larger(m, xrow[j * sw + b * dw])
                orow[j] = m


@njit(inline="always", **_JIT)
def _scatter_plane(g2, x2, p2, gx2, found, kh, kw, sh, sw, dh, dw):  # pragma: no cover
    """One plane: g·hit at every window position, hit = the window's first maximum (as the
    NumPy path writes ``g * hit`` per tap, so zeros are signed alike)."""
    oh, ow = p2.shape
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


@njit(inline="always", **_JIT)
def _forward_plane_2x2(x2, o2):  # pragma: no cover - compiled
    """``_forward_plane`` for 2x2 windows at stride 2."""
    oh, ow = o2.shape
    for i in range(oh):
        top = x2[2 * i]
        bottom = x2[2 * i + 1]
        orow = o2[i]
        for j in range(ow):
            m = _larger(top[2 * j], top[2 * j + 1])
            m = _larger(m, bottom[2 * j])
            orow[j] = _larger(m, bottom[2 * j + 1])


@njit(inline="always", **_JIT)
def _scatter_plane_2x2(g2, x2, p2, gx2):  # pragma: no cover - compiled
    """``_scatter_plane`` for 2x2 windows at stride 2: each tap in window order takes g if it
    is the window's maximum and no tap before it was, else g·0 (the zero ``g * hit``
    writes); masks by bitwise operations and stores by selects (a third faster than
    products with the masks, which cost a conversion each)."""
    oh, ow = p2.shape
    zero = gx2.dtype.type(0)
    for i in range(oh):
        top, bottom = x2[2 * i], x2[2 * i + 1]
        gtop, gbottom = gx2[2 * i], gx2[2 * i + 1]
        prow = p2[i]
        grow = g2[i]
        for j in range(ow):
            p = prow[j]
            v = grow[j]
            z = v * zero
            h0 = top[2 * j] == p
            h1 = (top[2 * j + 1] == p) & ~h0
            found = h0 | h1
            h2 = (bottom[2 * j] == p) & ~found
            h3 = (bottom[2 * j + 1] == p) & ~(found | h2)
            gtop[2 * j] = v if h0 else z
            gtop[2 * j + 1] = v if h1 else z
            gbottom[2 * j] = v if h2 else z
            gbottom[2 * j + 1] = v if h3 else z
