"""Layer normalisation as compiled loops over rows (numba; ``pip install gdlab[fast]``).

Imported lazily through :mod:`gdlab.ops.norm_ops` only. Each row (the normalised features
of one sample) is read from memory once per pass and stays in L1 while it is worked on,
where the NumPy path makes about six passes over the whole array each way. The forward
keeps the row means and 1/σ (two numbers a row, torch's choice) instead of x̂; the backward
recomputes x̂ in registers and computes the three gradients in one pass over x and g (the
row sums for ∂x, and the column sums ∂γ and ∂β accumulated row by row), then writes ∂x:

    x̂ = (x − μ)·r,  y = x̂·γ + β
    ∂x = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)),  ĝ = g·γ;  ∂γ = Σ_rows g·x̂,  ∂β = Σ_rows g

Row sums (μ, σ², Σĝ, Σĝ·x̂) accumulate in float64 and are rounded once; everything
elementwise is in the array's dtype, so the results agree with the NumPy path within a few
ulps (tests/ops/test_norm_kernels.py). ``reassoc`` lets LLVM vectorise those row sums
(partial sums per vector lane), ``contract`` fuses a·b + c.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["layer_norm_backward", "layer_norm_forward"]

_JIT = dict(
    cache=True, nogil=True, fastmath={"contract", "reassoc"}, error_model="numpy",
    boundscheck=False,
)  # fmt: skip


@njit(**_JIT)
def _forward(x, w, b, eps, out, mean, rstd):  # pragma: no cover - compiled
    rows, n = x.shape
    for i in range(rows):
        xi = x[i]
        s = 0.0
        for j in range(n):
            s += xi[j]
        mean[i] = s / n
        m = mean[i]  # read back in x's dtype: the passes below stay in it
        v = 0.0
        for j in range(n):
            d = xi[j] - m
            v += d * d
        rstd[i] = 1.0 / math.sqrt(v / n + eps)
        r = rstd[i]
        oi = out[i]
        for j in range(n):
            oi[j] = (xi[j] - m) * r * w[j] + b[j]


@njit(**_JIT)
def _backward(g, x, w, mean, rstd, dx, dw, db):  # pragma: no cover - compiled
    rows, n = x.shape
    means = np.empty(2, dx.dtype)  # mean(ĝ), mean(ĝ·x̂) of a row, rounded to x's dtype
    dw64 = np.zeros(n)  # the column sums in float64 too: 1024 rows lose ~10 ulps in float32
    db64 = np.zeros(n)
    for i in range(rows):
        xi = x[i]
        gi = g[i]
        m = mean[i]
        r = rstd[i]
        s1 = 0.0
        s2 = 0.0
        for j in range(n):
            xhat = (xi[j] - m) * r
            gh = gi[j] * w[j]
            s1 += gh
            s2 += gh * xhat
            dw64[j] += gi[j] * xhat
            db64[j] += gi[j]
        means[0] = s1 / n
        means[1] = s2 / n
        c1 = means[0]
        c2 = means[1]
        dxi = dx[i]
        for j in range(n):
            xhat = (xi[j] - m) * r
            dxi[j] = (gi[j] * w[j] - c1 - xhat * c2) * r
    dw[:] = dw64
    db[:] = db64


def layer_norm_forward(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(y, μ, r) for ``x`` as (rows, features), contiguous, with ``weight`` and ``bias`` of
    its dtype and (features,) shape; μ and r have one entry per row."""
    rows = x.shape[0]
    out = np.empty_like(x)
    mean = np.empty(rows, x.dtype)
    rstd = np.empty(rows, x.dtype)
    _forward(x, weight, bias, x.dtype.type(eps), out, mean, rstd)
    return out, mean, rstd


def layer_norm_backward(
    g: np.ndarray, x: np.ndarray, weight: np.ndarray, mean: np.ndarray, rstd: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(∂x, ∂γ, ∂β) for ``g`` and ``x`` as contiguous (rows, features) arrays."""
    dx = np.empty_like(x)
    dw = np.empty(x.shape[1], x.dtype)
    db = np.empty(x.shape[1], x.dtype)
    _backward(g, x, weight, mean, rstd, dx, dw, db)
    return dx, dw, db
