"""The attention softmax and its VJP as compiled loops over rows (numba; ``pip install
gdlab[fast]``), float32.

Imported lazily through :mod:`gdlab.ops.attention_ops` only. NumPy makes five passes over
the (N, heads, L, S) scores for the softmax and three for its VJP, each a new array; here
one row of S scores is worked on in L1, in place. The arithmetic is the NumPy path's, step
by step, except that the exponential is ``_gelu_kernels._exp_neg`` (within 1 ulp for
arguments down to −87; 0 below, where NumPy's gives a subnormal) and the float32 row sums
add partial sums per vector lane (``reassoc``): the results agree within a few ulps. The
scores come in already scaled (and masked) by NumPy, since a product fused into the
subtraction of the shift would round once where NumPy rounds twice; the rare rows to redo
with their own maximum are left to NumPy too (``attention_ops._scaled_softmax``).

    forward:  p = e^(z − shift) / Σ_row,  shift the global maximum of z
    backward: P·(g − Σ_row g·P)
"""

from __future__ import annotations

import numpy as np
from numba import njit

from gdlab.ops._gelu_kernels import _EXP_MIN, _EXP_REDUCED, _exp_neg

__all__ = ["softmax_grad_rows", "softmax_rows"]

_JIT = dict(
    cache=True, nogil=True, fastmath={"contract", "reassoc"}, error_model="numpy",
    boundscheck=False,
)  # fmt: skip

_f = np.float32
_ZERO32 = _f(0.0)


@njit(inline="always", **_JIT)
def _exp(y, coeffs):
    """e^y for y <= 0: 0 below −87 (and for −inf)."""
    e = _exp_neg(max(y, _EXP_MIN), coeffs)
    return e if y >= _EXP_MIN else _ZERO32


@njit(**_JIT)
def _softmax_rows(z, shift, floor, low, coeffs):  # pragma: no cover - compiled
    rows, n = z.shape
    terms = np.empty(n, z.dtype)  # one row's, in L1: a row to redo keeps its scores
    for i in range(rows):
        zi = z[i]
        total = _ZERO32
        for j in range(n):
            e = _exp(zi[j] - shift, coeffs)
            terms[j] = e
            total += e
        low[i] = total < floor
        if not low[i]:
            for j in range(n):
                zi[j] = terms[j] / total


@njit(**{**_JIT, "fastmath": {"reassoc"}})  # no FMA: g·p and p·s round as in NumPy
def _softmax_grad_rows(g, p, out):  # pragma: no cover - compiled
    rows, n = p.shape
    for i in range(rows):
        gi = g[i]
        pi = p[i]
        s = _ZERO32
        for j in range(n):
            gp = gi[j] * pi[j]
            s += gp
        oi = out[i]
        for j in range(n):
            oi[j] = gi[j] * pi[j] - pi[j] * s


def softmax_rows(z: np.ndarray, shift: float, floor: float) -> np.ndarray:
    """e^(z − shift) / Σ_row over the last axis of the contiguous float32 array ``z``, in
    place, except for the rows summing below ``floor``: returned (as a mask over the rows)
    and left as they were, to be redone."""
    rows = z.reshape(-1, z.shape[-1])
    low = np.empty(rows.shape[0], dtype=np.bool_)
    _softmax_rows(rows, _f(shift), floor, low, _EXP_REDUCED)
    return low


def softmax_grad_rows(g: np.ndarray, p: np.ndarray, out: np.ndarray) -> np.ndarray:
    """P·(g − Σ_row g·P) into ``out`` (contiguous float32 arrays of one shape; ``out`` may
    be ``g``)."""
    n = p.shape[-1]
    _softmax_grad_rows(g.reshape(-1, n), p.reshape(-1, n), out.reshape(-1, n))
    return out
