"""The stride-1 col2im of conv2d's input gradient as a compiled loop (numba; ``pip install
gdlab[fast]``): each image plane is summed from its kh·kw shifted column runs in one scratch
plane that stays in L1, and its interior written once, where NumPy makes one pass over the
chunk's padded planes per kernel tap and leaves a strided view of them.

Imported lazily through :data:`gdlab.ops.conv._KERNELS` only. The sums are the NumPy path's
bit for bit: each element adds the same taps in the same order (i, then j), from zero.
"""

from __future__ import annotations

from numba import njit

__all__ = ["col2im_full_width"]

_JIT = dict(cache=True, nogil=True, fastmath=False, error_model="numpy", boundscheck=False)


@njit(**_JIT)
def col2im_full_width(gcols, out, n0, wp, dh, dw, pt, pl, acc):  # pragma: no cover - compiled
    """out[n0 + s, c] = rows pt.., columns pl.. of the padded plane Σ_{i,j} gcols[s, c, i, j]
    shifted by i·dh·wp + j·dw; gcols (b, C, kh, kw, OH·wp) on the full-width grid, ``acc`` a
    scratch plane of at least (Hp + 1)·wp elements."""
    b, c_, kh, kw, length = gcols.shape
    h, w = out.shape[2], out.shape[3]
    for s in range(b):
        for c in range(c_):
            acc[:] = 0
            for i in range(kh):
                for j in range(kw):
                    shift = i * dh * wp + j * dw
                    src = gcols[s, c, i, j]
                    dst = acc[shift : shift + length]
                    for p in range(length):
                        dst[p] += src[p]
            plane = out[n0 + s, c]
            for r in range(h):
                start = (r + pt) * wp + pl
                row = plane[r]
                for q in range(w):
                    row[q] = acc[start + q]
