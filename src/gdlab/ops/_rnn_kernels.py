"""The LSTM's and GRU's per-step cell work as compiled float32 loops (numba; ``pip install
gdlab[fast]``): one call per step where the NumPy cells make eight to ten ufunc calls and
precompute the backward's coefficients for all steps.

Imported lazily by :mod:`gdlab.ops.rnn_ops` only (float32 sequences of some size); the
recurrent and weight products stay its BLAS calls. The arithmetic is the NumPy cells',
operation for operation (σ(a) = (1 + tanh(a/2))/2, c = f·c + i·g, the backward's coefficient
products in the same order, no fused multiply-add), except tanh: numba has no vector math
library here and a libm call per element does not vectorise, so ``_tanh`` is
−expm1(−2|x|)/(2 + expm1(−2|x|)), expm1 a polynomial of the reduced argument and 2ⁿ built from
its exponent bits, which LLVM vectorises. It is within 2.5 float32 ulp of the exact value for
every float32 (NumPy's own tanh: 1.4; tests/ops/test_rnn_kernels.py), so the forward differs
from the NumPy cells' by float rounding only, and the backward, given the same activations, is
bit for bit theirs.

Layouts: a step's gates are one (N, G·H) row block in torch's order (LSTM i, f, g, o; GRU
r, z, n), read where the input projection and h·W_hhᵀ put them: no gate-major copy.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from gdlab.ops._gelu_kernels import (
    _EXP_BIAS,
    _LN2_HI,
    _LN2_LO,
    _LOG2E,
    _MANTISSA_BITS,
    _int32_bits_as_float32,
)

__all__ = ["gru_backward_step", "gru_forward_step", "lstm_backward_step", "lstm_forward_step"]

# the cell arithmetic exactly as NumPy's ufuncs round it: no contraction into fused
# multiply-adds (bit-equal backward); tanh has its own flags below
_JIT = dict(cache=True, nogil=True, fastmath=False, error_model="numpy", boundscheck=False)

_f = np.float32
_HALF, _ONE, _TWO, _MINUS_TWO = _f(0.5), _f(1.0), _f(2.0), _f(-2.0)
_TANH_ONE = _f(10.0)  # tanh(10) = 1 − 4·10⁻⁹ rounds to 1: larger |x| are clipped here
# expm1(r) = r + r²·(1/2! + r/3! + … + r⁶/8!) on |r| ≤ ln2/2 (Taylor: truncation < 1e-9)
_C2, _C3, _C4, _C5, _C6, _C7, _C8 = (_f(1.0 / math.factorial(k)) for k in range(2, 9))


# contract: the polynomial's Horner steps as fused multiply-adds (LLVM inlines this function
# into the loops and keeps each instruction's own flags)
@njit(cache=True, nogil=True, fastmath={"contract"}, error_model="numpy")
def _tanh(x):  # pragma: no cover - compiled
    """tanh(x) for one float32, branch-free: −em/(2 + em), em = expm1(−2|x|) ∈ (−1, 0]."""
    y = min(abs(x), _TANH_ONE) * _MINUS_TWO
    m = np.int32(y * _LOG2E - _HALF)  # round(y / ln 2) for y ≤ 0
    n = np.float32(m)
    r = y - n * _LN2_HI
    r = r - n * _LN2_LO
    p = _C8 * r + _C7
    p = p * r + _C6
    p = p * r + _C5
    p = p * r + _C4
    p = p * r + _C3
    p = p * r + _C2
    p = p * (r * r) + r  # expm1(r)
    s = _int32_bits_as_float32(np.int32((m + _EXP_BIAS) << _MANTISSA_BITS))  # 2ⁿ
    em = s * p + (s - _ONE)  # expm1(y) = 2ⁿ·expm1(r) + (2ⁿ − 1); 2ⁿ − 1 is exact
    t = math.copysign(-em / (_TWO + em), x)
    return x if x != x else t  # NaN stays NaN


@njit(**_JIT)
def _sum_(a, hw, xp, b):  # pragma: no cover - compiled
    """a = h·W_hhᵀ + (xp + b), the pre-activations of one row (the NumPy path's order)."""
    for k in range(a.size):
        a[k] = hw[k] + (xp[k] + b[k])


@njit(**_JIT)
def _tanh_(a):  # pragma: no cover - compiled
    for k in range(a.size):
        a[k] = _tanh(a[k])


@njit(**_JIT)
def _sigmoid_(a):  # pragma: no cover - compiled
    """σ(a) = ½ + ½·tanh(a/2) in place, as the NumPy path (there on pre-halved inputs)."""
    for k in range(a.size):
        a[k] = _tanh(a[k] * _HALF) * _HALF + _HALF


# Every loop below runs over whole 1-D views (range(view.size)) and touches few arrays: so
# LLVM vectorises each; one loop doing a row's work, or loops over index ranges of a longer
# row, stayed scalar or checked indices (2-4x slower).
@njit(**_JIT)
def lstm_forward_step(hw, xp, b, c_prev, act, c, tanh_c, m):  # pragma: no cover - compiled
    """One LSTM step for every row n: ``hw`` = h·W_hhᵀ, ``xp`` the input projection and ``b``
    b_hh, all (N, 4H) / (4H,) in torch's order i, f, g, o; writes ``act`` (N, 4H) the gates
    after their functions, ``c`` and ``tanh_c`` (N, H) and ``m`` = o·tanh c (N, H)."""
    n_rows, hid = c.shape
    for n in range(n_rows):
        a_n = act[n]
        _sum_(a_n, hw[n], xp[n], b)
        i, f, g, o = a_n[:hid], a_n[hid : 2 * hid], a_n[2 * hid : 3 * hid], a_n[3 * hid :]
        _sigmoid_(a_n[: 2 * hid])
        _tanh_(g)
        _sigmoid_(o)
        c_n, tc_n, m_n, cp_n = c[n], tanh_c[n], m[n], c_prev[n]
        for j in range(c_n.size):
            c_n[j] = f[j] * cp_n[j] + i[j] * g[j]
        for j in range(c_n.size):
            tc_n[j] = _tanh(c_n[j])
        for j in range(c_n.size):
            m_n[j] = o[j] * tc_n[j]


@njit(**_JIT)
def lstm_backward_step(dm, act, tanh_c, c_prev, dc, da):  # pragma: no cover - compiled
    """One LSTM step of BPTT: ``dm`` the gradient of o·tanh c (N, H), ``act``, ``tanh_c`` and
    ``c_prev`` = c_{t−1} from the forward; ``dc`` (N, H) the cell state's gradient, updated in
    place to c_{t−1}'s; writes ``da`` (N, 4H), the pre-activations' gradients (i, f, g, o)."""
    n_rows, hid = dc.shape
    for n in range(n_rows):
        a_n, d_n = act[n], da[n]
        i, f, g, o = a_n[:hid], a_n[hid : 2 * hid], a_n[2 * hid : 3 * hid], a_n[3 * hid :]
        di, df, dg, do = d_n[:hid], d_n[hid : 2 * hid], d_n[2 * hid : 3 * hid], d_n[3 * hid :]
        tc_n, dm_n, cp_n, dc_n = tanh_c[n], dm[n], c_prev[n], dc[n]
        for j in range(dc_n.size):
            tc, dmj = tc_n[j], dm_n[j]
            do[j] = dmj * ((_ONE - o[j]) * o[j] * tc)
            dcj = dc_n[j] + dmj * ((_ONE - tc * tc) * o[j])
            di[j] = (_ONE - i[j]) * i[j] * g[j] * dcj
            df[j] = (_ONE - f[j]) * f[j] * cp_n[j] * dcj
            dg[j] = (_ONE - g[j] * g[j]) * i[j] * dcj
            dc_n[j] = dcj * f[j]


@njit(**_JIT)
def gru_forward_step(hw, xp, b, h_prev, act, hn, diff, h):  # pragma: no cover - compiled
    """One GRU step for every row n: ``hw`` = h·W_hhᵀ, ``xp``, ``b`` = b_hh as in
    ``lstm_forward_step`` (3H wide, torch's order r, z, n); writes ``act`` the gates after
    their functions, ``hn`` = W_hn·h + b_hn, ``diff`` = h_{t−1} − n and
    ``h`` = n + z·(h_{t−1} − n)."""
    n_rows, hid = h.shape
    for n in range(n_rows):
        a_n, hw_n, xp_n = act[n], hw[n], xp[n]
        rz = a_n[: 2 * hid]
        _sum_(rz, hw_n[: 2 * hid], xp_n[: 2 * hid], b[: 2 * hid])
        _sigmoid_(rz)
        r, z, cand = a_n[:hid], a_n[hid : 2 * hid], a_n[2 * hid :]
        hn_n, d_n, h_n, hp_n = hn[n], diff[n], h[n], h_prev[n]
        hw_c, xp_c, b_c = hw_n[2 * hid :], xp_n[2 * hid :], b[2 * hid :]
        for j in range(hn_n.size):
            hn_n[j] = hw_c[j] + b_c[j]
        for j in range(hn_n.size):
            cand[j] = r[j] * hn_n[j] + xp_c[j]
        _tanh_(cand)
        for j in range(hn_n.size):
            d_n[j] = hp_n[j] - cand[j]
        for j in range(hn_n.size):
            h_n[j] = d_n[j] * z[j] + cand[j]


@njit(**_JIT)
def gru_backward_step(dh, act, hn, diff, d4):  # pragma: no cover - compiled
    """One GRU step of BPTT: ``dh`` (N, H) the gradient of h_t, scaled in place by z (its
    part through h_{t−1} without the recurrent product); writes ``d4`` (N, 4H) the gradients
    of W_hn·h + b_hn, a_r, a_z and a_n."""
    n_rows, hid = dh.shape
    for n in range(n_rows):
        a_n, d_n = act[n], d4[n]
        r, z, cand = a_n[:hid], a_n[hid : 2 * hid], a_n[2 * hid :]
        d_hn, d_r, d_z, d_c = d_n[:hid], d_n[hid : 2 * hid], d_n[2 * hid : 3 * hid], d_n[3 * hid :]
        dh_n, hn_n, diff_n = dh[n], hn[n], diff[n]
        for j in range(dh_n.size):
            g = dh_n[j]
            cn = (_ONE - cand[j] * cand[j]) * (_ONE - z[j])
            d_hn[j] = cn * r[j] * g
            d_r[j] = (_ONE - r[j]) * r[j] * hn_n[j] * cn * g
            d_z[j] = (_ONE - z[j]) * z[j] * diff_n[j] * g
            d_c[j] = cn * g
            dh_n[j] = g * z[j]
