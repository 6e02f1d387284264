"""Batch normalisation as compiled loops (numba; ``pip install gdlab[fast]``): two passes
forward, two backward, where the NumPy path makes six each way and writes x − μ out. The
training forward goes channel by channel, reading a channel's values for its statistics and
again, from cache (a channel of the BN CNN is 128-512 KiB), to normalise them (7 % faster
than two passes over the whole input); the backward's sums and input gradient are two
passes over g and x.

Imported lazily through :mod:`gdlab.ops.batch_norm` only. Arrays are (N, C, L), per channel
c over its m = N·L values. The channel sums are float64 and in another order than the NumPy
path's (vector partial sums: the only fast-math liberty, ``reassoc``, is in the two sum
loops), so the statistics and Σg, Σg·x̂ agree with it within a few float32 ulps; everything
else computes exactly the NumPy path's expressions, operation by operation (no fused
multiply-add), in the input's dtype.

The statistics take one pass: sums of d = x − k and d² with k = the channel's first value
(the shifted-data algorithm: no cancellation when |μ| ≫ σ, as with the raw Σx² − (Σx)²/m),
    μ = k + Σd/m,  σ² = (Σd² − (Σd)²/m)/m.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["batch_normalise", "grad_sums", "input_grad", "normalise"]

_JIT = dict(cache=True, nogil=True, fastmath=False, error_model="numpy", boundscheck=False)
# reassoc: the sums run in vector partial sums (strict order would be one add per cycle)
_SUMS = dict(_JIT, fastmath={"reassoc"})


@njit(**_SUMS)
def _moments(x3, c):  # pragma: no cover - compiled
    """(k, Σ(x − k), Σ(x − k)²) over channel c, float64, k = its first value."""
    n_, _, l_ = x3.shape
    k = np.float64(x3[0, c, 0])
    a = 0.0
    b = 0.0
    for n in range(n_):
        row = x3[n, c]
        for i in range(l_):
            d = np.float64(row[i]) - k
            a += d
            b += d * d
    return k, a, b


@njit(inline="always", **_JIT)
def _normalise_channel(x3, c, mu, s, t, out3):  # pragma: no cover - compiled
    for n in range(x3.shape[0]):
        row = x3[n, c]
        orow = out3[n, c]
        for i in range(x3.shape[2]):
            orow[i] = (row[i] - mu) * s + t


@njit(**_JIT)
def normalise(x3, mean, scale, shift, out3):  # pragma: no cover - compiled
    """out = (x − μ)·scale + shift per channel (eval: scale = γ·r, shift = β)."""
    for c in range(x3.shape[1]):
        _normalise_channel(x3, c, mean[c], scale[c], shift[c], out3)


@njit(**_JIT)
def batch_normalise(x3, eps, weight, shift, mean, var, rstd, out3):  # pragma: no cover
    """Training: per channel μ and σ² (written to ``mean``, ``var``), r = 1/√(σ² + eps)
    (``rstd``), then out = (x − μ)·(r·γ) + β."""
    n_, c_, l_ = x3.shape
    m = n_ * l_
    dt = x3.dtype.type
    for c in range(c_):
        k, a, b = _moments(x3, c)
        mu = dt(k + a / m)
        v = dt(max(b - a * a / m, 0.0) / m)
        r = dt(1) / np.sqrt(v + eps)
        mean[c] = mu
        var[c] = v
        rstd[c] = r
        _normalise_channel(x3, c, mu, r * weight[c], shift[c], out3)


@njit(**_SUMS)
def grad_sums(g3, x3, mean, sum_g, sum_gxc):  # pragma: no cover - compiled
    """Per channel: sum_g[c] = Σg, sum_gxc[c] = Σg·(x − μ), float64."""
    n_, c_, l_ = x3.shape
    for c in range(c_):
        mu = np.float64(mean[c])
        a = 0.0
        b = 0.0
        for n in range(n_):
            grow = g3[n, c]
            row = x3[n, c]
            for i in range(l_):
                v = np.float64(grow[i])
                a += v
                b += v * (np.float64(row[i]) - mu)
        sum_g[c] = a
        sum_gxc[c] = b


@njit(**_JIT)
def input_grad(g3, x3, mean, k_xc, k_g, scale, gx3):  # pragma: no cover - compiled
    """gx = (g − (x − μ)·k_xc − k_g)·scale per channel, k_xc = r·Σg·x̂/m, k_g = Σg/m; in
    memory order (writing channel by channel, as the forward does, was 3-6 % slower)."""
    n_, c_, l_ = x3.shape
    for n in range(n_):
        for c in range(c_):
            grow = g3[n, c]
            row = x3[n, c]
            out = gx3[n, c]
            mu = mean[c]
            a = k_xc[c]
            b = k_g[c]
            s = scale[c]
            for i in range(l_):
                out[i] = ((grow[i] - (row[i] - mu) * a) - b) * s
