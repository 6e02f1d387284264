"""x + w·y rounded once: torch's CPU kernels add with a fused multiply-add.

torch's ``add_(y, alpha=w)`` and ``lerp`` run on the CPU as FMA instructions (vectorised and
scalar tails alike), so ``x + w·y`` is rounded once where NumPy rounds the product and then the
sum. The difference is one ulp, which the chaotic paths amplify: L-BFGS's fixed-step
iterations (3× the drift of a 1e-15 perturbation without it) and Muon's bfloat16
Newton–Schulz iteration (a last-bit difference of its input becomes a 2⁻⁸ one). Used only
where gdlab must follow torch to the bit.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fused_add"]

_SPLIT = 134217729.0  # 2**27 + 1: Veltkamp's splitter for float64


def _two_product(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(p, e) with p = fl(a·b) and a·b = p + e exactly (Dekker)."""
    p = a * b
    t = a * _SPLIT
    a_hi = t - (t - a)
    a_lo = a - a_hi
    t = b * _SPLIT
    b_hi = t - (t - b)
    b_lo = b - b_hi
    return p, ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo


def fused_add(x: np.ndarray, w: float | np.ndarray, y: np.ndarray) -> np.ndarray:
    """x + w·y with a single rounding, in x's dtype (a new array).

    float32 (and smaller): exact in float64, then rounded once. float64: Dekker's exact product
    and Knuth's two-sum, which round as an FMA does except in rare double-rounding ties.
    """
    x = np.asarray(x)
    if x.dtype.itemsize < 8:
        wide = np.float64(np.asarray(w, x.dtype)) * y.astype(np.float64) + x.astype(np.float64)
        return wide.astype(x.dtype)
    p, e = _two_product(np.asarray(y, np.float64), np.float64(w))
    s = p + x
    v = s - p
    err = (p - (s - v)) + (x - v)  # s + err = p + x exactly
    return s + (err + e)
