"""Whole-sequence recurrences as single primitives: ``rnn_scan``, ``lstm_scan``, ``gru_scan``.

One op per layer and direction: the forward loops over time in NumPy and keeps the gate
activations; the VJP is backpropagation through time written by hand (checked against finite
differences by the op-table tests and against torch in tests/nn). Unrolling the recurrence
into one graph node per step made backward quadratic in the sequence length (every step's
slice of the input projection allocated a full-size gradient) and slow in Python.

Each step is one BLAS product h·W_hhᵀ and the cell's elementwise work: NumPy ufuncs, or for a
float32 sequence of ``MIN_KERNEL_SIZE`` elements or more, one call of a compiled kernel
(``gdlab.ops._rnn_kernels``, numba, loaded by the first such sequence) that reads the gates in
torch's (N, G·H) row layout and, backward, computes the BPTT coefficients on the way. The
two cells give the same numbers up to tanh's rounding (the backward bit for bit on the same
activations); ``ws["kernels"]`` records which one ran, for the backward.

Inputs, in order: ``xp`` (T, N, G) the input projection of every step (computed outside
with one matrix product), ``h0`` (N, H), for the LSTM ``c0`` (N, H), ``w_hh`` (G, H) and
optionally ``b_hh`` (G,), the bias added to h·W_hhᵀ at each step (the RNN and LSTM modules
pass b_ih + b_hh there and leave xp = x_t·W_ihᵀ; the GRU's xp carries b_ih).
``reverse=True`` runs from t = T−1 down to 0; outputs stay in input time order. The output
is (T, N, H) holding h_t, except the LSTM's, (T + 1, N, H), whose last row is the final cell
state c (its h_n is a row of the first T).
With a projection ``w_hr`` (P, H) (the LSTM's ``proj_size``), h_t = W_hr·(o·tanh c_t) is P < H
wide: ``h0`` and ``w_hh`` are (N, P) and (4H, P), and h_t fills the first P columns.

``ws`` is an optional dict the layer passes per call: the forward leaves its gate activations
there and the VJPs share one backward pass through it (each input's VJP is called separately).
It lives in the graph node, so it is freed with the graph. Without it (or if it belongs to
another output) the VJP recomputes the forward, so every rule is also a pure function.

Under ``create_graph=True`` the VJPs receive Tensors: they then differentiate the same
recurrence composed of primitive rows (``gdlab.ops.rnn_cells``, the cell formulas written
once), so the gradients are recorded and differentiable again (issue 16).

References: Werbos (1990), "Backpropagation through time: what it does and how to do it";
torch's gate orders (LSTM i, f, g, o; GRU r, z, n).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import numpy as np

from gdlab._compiled import CompiledKernels
from gdlab.autograd.engine import grad
from gdlab.ops import rnn_cells as cells
from gdlab.ops.registry import defop
from gdlab.ops.rnn_cells import split_gradient
from gdlab.tensor import Tensor

__all__ = ["GRU_SCAN", "LSTM_SCAN", "RNN_SCAN"]


def _sigmoid_(a: np.ndarray) -> np.ndarray:
    """σ in place as (1 + tanh(a/2))/2: no overflow for any a, one transcendental call."""
    a *= 0.5
    np.tanh(a, out=a)
    a += 1.0
    a *= 0.5
    return a


def _steps(t_len: int, reverse: bool) -> range:
    return range(t_len - 1, -1, -1) if reverse else range(t_len)


def _hh(h: np.ndarray, w_hh: np.ndarray, b_hh: np.ndarray | None, out: np.ndarray) -> None:
    np.matmul(h, w_hh.T, out=out)
    if b_hh is not None:
        out += b_hh


def _weight_grads(
    d: np.ndarray, hs: np.ndarray, h0: np.ndarray, reverse: bool, has_bias: bool
) -> tuple:
    """∂W_hh = Σ_t ∂a_tᵀ·h_{t−1} as one GEMM over the stacked steps (plus one small product
    for h_0, so h_{t−1} is never copied), and ∂b_hh = Σ_t ∂a_t as a matrix-vector product.
    ``d`` is (T, N, G) (possibly with strided rows), ``hs`` the outputs h_t (T, N, H)."""
    t_len, n, g = d.shape
    first, rest = (t_len - 1, slice(0, t_len - 1)) if reverse else (0, slice(1, t_len))
    dw = d[first].T @ h0
    if t_len > 1:
        dr = d[rest].reshape(-1, g)
        hr = hs[slice(1, t_len) if reverse else slice(0, t_len - 1)].reshape(-1, hs.shape[-1])
        dw += dr.T @ hr
    if not has_bias:
        return dw, None
    rows = d.reshape(-1, g)
    return dw, np.ones(rows.shape[0], dtype=d.dtype) @ rows


_KERNELS = CompiledKernels("gdlab.ops._rnn_kernels")
MIN_KERNEL_SIZE = 1 << 16  # elements of xp; smaller sequences stay on NumPy (no numba import)


def _cell_kernels(xp: np.ndarray) -> ModuleType | None:
    """The compiled cells (``gdlab.ops._rnn_kernels``) for a float32 sequence large enough to
    repay numba's import (the first one loads it), or None: the NumPy cells run."""
    if xp.dtype != np.float32 or xp.size < MIN_KERNEL_SIZE:
        return None
    return _KERNELS.get()


def _compiled_operands(xp: np.ndarray, w_hh: np.ndarray, b_hh: np.ndarray | None) -> tuple:
    """What the compiled cells read: xp contiguous, W_hhᵀ contiguous (one BLAS product per
    step), b_hh (zeros when absent) and the product's (N, G) buffer."""
    g = w_hh.shape[0]
    b = np.zeros(g, dtype=xp.dtype) if b_hh is None else np.ascontiguousarray(b_hh)
    hw = np.empty((xp.shape[1], g), dtype=xp.dtype)
    return np.ascontiguousarray(xp), np.ascontiguousarray(w_hh.T), b, hw


def _live_steps(g: np.ndarray, t_len: int) -> np.ndarray:
    """Which steps' output gradients are not all zero (a loss on the last output leaves the
    others zero), so the backward loop skips adding them."""
    return g[:t_len].reshape(t_len, -1).any(axis=1)


# ------------------------------------------------------------------------- Elman RNN
def _rnn(xp, h0, w_hh, b_hh=None, nonlinearity="tanh", reverse=False, ws=None):
    t_len, n, hidden = xp.shape
    out = np.empty((t_len, n, hidden), dtype=xp.dtype)
    h = h0
    for t in _steps(t_len, reverse):
        o = out[t]
        _hh(h, w_hh, b_hh, o)
        o += xp[t]
        if nonlinearity == "tanh":
            np.tanh(o, out=o)
        else:
            np.maximum(o, 0, out=o)
        h = o
    if ws is not None:
        ws["out"] = out
    return out


def _rnn_backward(g, out, xp, h0, w_hh, b_hh=None, nonlinearity="tanh", reverse=False, ws=None):
    t_len = xp.shape[0]
    da = np.empty(out.shape, dtype=g.dtype)
    dh = np.zeros(h0.shape, dtype=g.dtype)
    for t in reversed(_steps(t_len, reverse)):
        dh += g[t]
        d = da[t]
        if nonlinearity == "tanh":
            np.multiply(out[t], out[t], out=d)
            np.subtract(1.0, d, out=d)
            d *= dh
        else:
            np.multiply(dh, out[t] > 0, out=d)
        dh = d @ w_hh
    dw, db = _weight_grads(da, out, h0, reverse, b_hh is not None)
    return da, dh, dw, db


# ------------------------------------------------------------------------- LSTM
# The NumPy cells keep the gate activations gate-major, (T, gates, N, H): every gate of a
# step is one contiguous (N, H) block, so the elementwise work of the loops and of the
# backward's coefficients runs on contiguous arrays (NumPy is 2-4x slower on the strided
# column blocks of a (N, 4H) row layout), and the recurrent product is one batched matmul per
# step.
# The LSTM keeps its gates in the order i, f, o, g (torch's is i, f, g, o): the three sigmoid
# gates are one block. Gradients leave in torch's layout and order.
_LSTM_ORDER = (0, 1, 3, 2)  # torch's gate index of each internal gate


def _gate_major(
    xp: np.ndarray, order: tuple[int, ...], bias: np.ndarray | None, halved: int
) -> np.ndarray:
    """(xp + bias) per gate, xp (T, N, G·H) written as a new (T, G, N, H) array with the gates
    in ``order``, the first ``halved`` of them then times 0.5 (σ through tanh): one pass over
    xp (one call when the order is torch's) and one in-place pass over the halved prefix,
    which is contiguous. ``bias`` (G·H,) or None."""
    t_len, n, width = xp.shape
    gates = len(order)
    hid = width // gates
    by_gate = xp.reshape(t_len, n, gates, hid).transpose(0, 2, 1, 3)
    out = np.empty((t_len, gates, n, hid), dtype=xp.dtype)
    if order == tuple(range(gates)):
        if bias is None:
            np.copyto(out, by_gate)
        else:
            np.add(by_gate, bias.reshape(gates, 1, hid), out=out)
    else:
        for k, src in enumerate(order):
            if bias is None:
                np.copyto(out[:, k], by_gate[:, src])
            else:
                np.add(by_gate[:, src], bias[src * hid : (src + 1) * hid], out=out[:, k])
    out[:, :halved] *= 0.5
    return out


def _gate_weights(w_hh: np.ndarray, order: tuple[int, ...], scale: tuple[float, ...]):
    """W_hh (G·H, P) as (G, P, H): each gate's block transposed and scaled, for one batched
    matmul h·W_kᵀ per step."""
    hid = w_hh.shape[0] // len(order)
    blocks = w_hh.reshape(len(order), hid, w_hh.shape[1])
    out = np.empty((len(order), w_hh.shape[1], hid), dtype=w_hh.dtype)
    for k, src in enumerate(order):
        np.multiply(blocks[src].T, scale[k], out=out[k])
    return out


def _lstm_cell_numpy(xp, w_hh, b_hh, cs, tanh_c, m):
    """The NumPy cell: (act, step) with act (T, 4, N, H) gate-major (i, f, o, g) and
    step(h, c, t) writing act[t], cs[t], tanh_c[t] and m[t] = o·tanh c_t."""
    t_len, n, g4 = xp.shape
    hid = g4 // 4
    # σ(a) = (1 + tanh(a/2))/2: the sigmoid gates' pre-activations are halved, so one tanh
    # over all four gates and one affine map of the first three give every activation
    pre = _gate_major(xp, _LSTM_ORDER, b_hh, 3)
    w4 = _gate_weights(w_hh, _LSTM_ORDER, (0.5, 0.5, 0.5, 1.0))
    act = np.empty((t_len, 4, n, hid), dtype=xp.dtype)
    ig = np.empty((n, hid), dtype=xp.dtype)

    def step(h, c, t):
        a = act[t]
        np.matmul(h, w4, out=a)
        a += pre[t]
        np.tanh(a, out=a)
        sig = a[:3]
        sig *= 0.5
        sig += 0.5
        c_new = cs[t]
        np.multiply(a[1], c, out=c_new)
        np.multiply(a[0], a[3], out=ig)
        c_new += ig
        np.tanh(c_new, out=tanh_c[t])
        np.multiply(a[2], tanh_c[t], out=m[t])

    return act, step


def _lstm_cell_compiled(kernels, xp, w_hh, b_hh, cs, tanh_c, m):
    """The compiled cell (``_rnn_kernels``): act (T, N, 4H) in torch's order, read from
    h·W_hhᵀ and xp where they lie; one BLAS product and one kernel call per step."""
    xp, w_t, b, hw = _compiled_operands(xp, w_hh, b_hh)
    act = np.empty(xp.shape, dtype=xp.dtype)

    def step(h, c, t):
        np.matmul(h, w_t, out=hw)
        kernels.lstm_forward_step(hw, xp[t], b, c, act[t], cs[t], tanh_c[t], m[t])

    return act, step


def _lstm(xp, h0, c0, w_hh, b_hh=None, w_hr=None, reverse=False, ws=None):
    t_len, n, g4 = xp.shape
    hid, p = g4 // 4, h0.shape[1]
    proj = w_hr is not None  # h_t = W_hr·(o·tanh c_t), of size P < H; rows of out are H wide
    w_hr_t = np.ascontiguousarray(w_hr.T) if proj else None
    out = (np.zeros if proj else np.empty)((t_len + 1, n, hid), dtype=xp.dtype)
    cs = np.empty((t_len, n, hid), dtype=xp.dtype)
    tanh_c = np.empty_like(cs)
    m = np.empty_like(cs) if proj else out  # o·tanh c before the projection
    kernels = _cell_kernels(xp)
    act, step = (
        _lstm_cell_numpy(xp, w_hh, b_hh, cs, tanh_c, m)
        if kernels is None
        else _lstm_cell_compiled(kernels, xp, w_hh, b_hh, cs, tanh_c, m)
    )
    h, c = h0, np.ascontiguousarray(c0)  # the kernels read rows of c
    for t in _steps(t_len, reverse):
        step(h, c, t)
        if proj:
            np.matmul(m[t], w_hr_t, out=out[t, :, :p])
        h, c = out[t, :, :p], cs[t]
    out[t_len] = c
    if ws is not None:
        ws.update(out=out, act=act, cs=cs, tanh_c=tanh_c, m=m, kernels=kernels)
    return out


def _lstm_coefficients(act, cs, tanh_c, c0, reverse):
    """Everything of the LSTM's backward that does not depend on the incoming gradient, for
    all steps at once, in place on contiguous gate blocks: (T, 4, N, H) in torch's order,
    ∂pre-activation = dc·coef for i, f, g and dh·coef for o; and dc gains dh·o·(1 − tanh²c)
    (returned second)."""
    t_len, _, n, hid = act.shape
    i, f, o, gg = (act[:, k] for k in range(4))
    coef = np.empty((t_len, 4, n, hid), dtype=act.dtype)
    ci, cf, cg, co = (coef[:, k] for k in range(4))
    np.subtract(1.0, i, out=ci)  # σ' = σ(1 − σ), tanh' = 1 − tanh²
    ci *= i
    ci *= gg
    np.subtract(1.0, f, out=cf)
    cf *= f
    if reverse:  # c_{t−1} in processing order, without copying the cell states
        cf[: t_len - 1] *= cs[1:]
        cf[t_len - 1] *= c0
    else:
        cf[1:] *= cs[: t_len - 1]
        cf[0] *= c0
    np.multiply(gg, gg, out=cg)
    np.subtract(1.0, cg, out=cg)
    cg *= i
    np.subtract(1.0, o, out=co)
    co *= o
    co *= tanh_c
    dc_from_h = np.multiply(tanh_c, tanh_c)
    np.subtract(1.0, dc_from_h, out=dc_from_h)
    dc_from_h *= o
    return coef, dc_from_h


def _lstm_back_numpy(act, cs, tanh_c, c0, reverse, da, dc):
    """The NumPy cell's backward: step(dm, t) writes da[t] (N, 4H) and turns dc into
    c_{t−1}'s gradient, from the coefficients of all steps computed at once."""
    coef, dc_from_h = _lstm_coefficients(act, cs, tanh_c, c0, reverse)
    n, hid = c0.shape
    tmp = np.empty(c0.shape, dtype=da.dtype)

    def step(dm, t):
        d = da[t].reshape(n, 4, hid)
        np.multiply(dm, coef[t, 3], out=d[:, 3])
        np.multiply(dm, dc_from_h[t], out=tmp)
        np.add(dc, tmp, out=dc)
        np.multiply(coef[t, :3], dc, out=d[:, :3].transpose(1, 0, 2))
        np.multiply(dc, act[t, 1], out=dc)

    return step


def _lstm_back_compiled(kernels, act, cs, tanh_c, c0, reverse, da, dc):
    """The compiled cell's backward: the same step, one kernel call computing its
    coefficients on the way."""
    c0 = np.ascontiguousarray(c0)
    t_len = len(cs)

    def step(dm, t):
        prev = t + 1 if reverse else t - 1
        c_prev = cs[prev] if 0 <= prev < t_len else c0
        kernels.lstm_backward_step(dm, act[t], tanh_c[t], c_prev, dc, da[t])

    return step


def _lstm_backward(g, out, xp, h0, c0, w_hh, b_hh=None, w_hr=None, reverse=False, ws=None):
    act, cs, tanh_c, m, kernels = (ws[k] for k in ("act", "cs", "tanh_c", "m", "kernels"))
    t_len, n, hid = cs.shape
    g4, p = 4 * hid, h0.shape[1]
    proj = w_hr is not None
    dhs = np.empty((t_len, n, p), dtype=g.dtype) if proj else None  # ∂h_t, for ∂W_hr
    live = _live_steps(g, t_len)
    da = np.empty((t_len, n, g4), dtype=g.dtype)  # torch's layout and order
    dh = np.zeros(h0.shape, dtype=g.dtype)
    dm = np.empty((n, hid), dtype=g.dtype) if proj else dh
    dc = np.array(g[t_len], dtype=g.dtype)  # the final cell state's own gradient
    step = (
        _lstm_back_numpy(act, cs, tanh_c, c0, reverse, da, dc)
        if kernels is None
        else _lstm_back_compiled(kernels, act, cs, tanh_c, c0, reverse, da, dc)
    )
    for t in reversed(_steps(t_len, reverse)):
        if live[t]:
            dh += g[t, :, :p]
        if proj:
            dhs[t] = dh
            np.matmul(dh, w_hr, out=dm)
        step(dm, t)
        np.matmul(da[t], w_hh, out=dh)  # da[t] and dm are read before dh is written
    hs = out[:t_len, :, :p] if proj else out[:t_len]
    dw, db = _weight_grads(da, hs, h0, reverse, b_hh is not None)
    dw_hr = dhs.reshape(-1, p).T @ m.reshape(-1, hid) if proj else None
    return da, dh, dc, dw, db, dw_hr


# ------------------------------------------------------------------------- GRU
_GRU_ORDER = (0, 1, 2)  # r, z, n: torch's order


def _gru_cell_numpy(xp, w_hh, b_hh, hn, diff, out):
    """The NumPy cell: (act, step) with act (T, 3, N, H) gate-major (r, z, n) and step(h, t)
    writing act[t], hn[t], diff[t] and out[t] = h_t."""
    t_len, n, g3 = xp.shape
    hid = g3 // 3
    # b_hr, b_hz add to the input side; b_hn stays inside r·(·). σ(a) = (1 + tanh(a/2))/2,
    # as the LSTM's: the r and z pre-activations are halved.
    b_rz = None if b_hh is None else np.concatenate([b_hh[: 2 * hid], np.zeros_like(b_hh[:hid])])
    pre = _gate_major(xp, _GRU_ORDER, b_rz, 2)
    w3 = _gate_weights(w_hh, _GRU_ORDER, (0.5, 0.5, 1.0))
    b_hn = None if b_hh is None else b_hh[2 * hid :]
    act = np.empty((t_len, 3, n, hid), dtype=xp.dtype)
    hp = np.empty((3, n, hid), dtype=xp.dtype)

    def step(h, t):
        a, x = act[t], pre[t]
        np.matmul(h, w3, out=hp)
        rz = a[:2]
        np.add(x[:2], hp[:2], out=rz)
        np.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5
        hn_t = hn[t]
        if b_hn is None:
            np.copyto(hn_t, hp[2])
        else:
            np.add(hp[2], b_hn, out=hn_t)
        cand = a[2]
        np.multiply(a[0], hn_t, out=cand)
        cand += x[2]
        np.tanh(cand, out=cand)
        o = out[t]  # h_t = (1 − z)·n + z·h_{t−1} = n + z·(h_{t−1} − n)
        np.subtract(h, cand, out=diff[t])  # kept: ∂h_t/∂z = h_{t−1} − n
        np.multiply(diff[t], a[1], out=o)
        o += cand

    return act, step


def _gru_cell_compiled(kernels, xp, w_hh, b_hh, hn, diff, out):
    """The compiled cell: act (T, N, 3H) in torch's order, as ``_lstm_cell_compiled``."""
    xp, w_t, b, hw = _compiled_operands(xp, w_hh, b_hh)
    act = np.empty(xp.shape, dtype=xp.dtype)

    def step(h, t):
        np.matmul(h, w_t, out=hw)
        kernels.gru_forward_step(hw, xp[t], b, h, act[t], hn[t], diff[t], out[t])

    return act, step


def _gru(xp, h0, w_hh, b_hh=None, reverse=False, ws=None):
    t_len, n, g3 = xp.shape
    hid = g3 // 3
    out = np.empty((t_len, n, hid), dtype=xp.dtype)
    hn = np.empty((t_len, n, hid), dtype=xp.dtype)  # W_hn·h + b_hn, which r multiplies
    diff = np.empty_like(out)
    kernels = _cell_kernels(xp)
    act, step = (
        _gru_cell_numpy(xp, w_hh, b_hh, hn, diff, out)
        if kernels is None
        else _gru_cell_compiled(kernels, xp, w_hh, b_hh, hn, diff, out)
    )
    h = np.ascontiguousarray(h0)  # the kernels read rows of h
    for t in _steps(t_len, reverse):
        step(h, t)
        h = out[t]
    if ws is not None:
        ws.update(out=out, act=act, hn=hn, diff=diff, kernels=kernels)
    return out


def _gru_coefficients(act, hn, diff):
    """The GRU's per-step backward coefficients for all steps at once, gate-major
    (T, 4, N, H) in the order (hn, r, z, n): with dh the gradient of h_t,
    ∂(W_hn·h + b_hn) = dh·c_n·r, ∂a_r = dh·c_r, ∂a_z = dh·c_z, ∂a_n = dh·c_n. The first three
    meet W_hh, the last three are the input side's gradient, in torch's order."""
    t_len, _, n, hid = act.shape
    r, z, cand = (act[:, k] for k in range(3))
    coef = np.empty((t_len, 4, n, hid), dtype=act.dtype)
    chn, cr, cz, cn = (coef[:, k] for k in range(4))
    np.multiply(cand, cand, out=cn)  # c_n = (1 − z)·(1 − n²)
    np.subtract(1.0, cn, out=cn)
    np.subtract(1.0, z, out=cz)
    cn *= cz
    np.multiply(cn, r, out=chn)
    np.subtract(1.0, r, out=cr)  # c_r = c_n·hn·r(1 − r)
    cr *= r
    cr *= hn
    cr *= cn
    cz *= z  # c_z = (h_{t−1} − n)·z(1 − z)
    cz *= diff
    return coef


def _gru_back_numpy(act, hn, diff, d4):
    """The NumPy cell's backward: step(dh, t) writes d4[t] from dh and scales dh by z, from
    the coefficients of all steps computed at once."""
    coef = _gru_coefficients(act, hn, diff)

    def step(dh, t):
        np.multiply(coef[t], dh, out=d4[t].transpose(1, 0, 2))
        np.multiply(dh, act[t, 1], out=dh)

    return step


def _gru_back_compiled(kernels, act, hn, diff, d4):
    """The compiled cell's backward: the same step in one kernel call."""
    n, hid = hn.shape[1:]

    def step(dh, t):
        kernels.gru_backward_step(dh, act[t], hn[t], diff[t], d4[t].reshape(n, 4 * hid))

    return step


def _gru_backward(g, out, xp, h0, w_hh, b_hh=None, reverse=False, ws=None):
    act, hn, diff, kernels = (ws[k] for k in ("act", "hn", "diff", "kernels"))
    t_len, n, hid = hn.shape
    g3 = 3 * hid
    live = _live_steps(g, t_len)
    # ∂(W_hn·h + b_hn), ∂a_r, ∂a_z, ∂a_n of each step, side by side: the first three meet
    # W_hh (its rows rotated to hn, r, z), the last three are ∂xp as a view, no copy
    d4 = np.empty((t_len, n, 4, hid), dtype=g.dtype)
    step = (
        _gru_back_numpy(act, hn, diff, d4)
        if kernels is None
        else _gru_back_compiled(kernels, act, hn, diff, d4)
    )
    w_rot = np.concatenate([w_hh[2 * hid :], w_hh[: 2 * hid]])
    dh = np.zeros(h0.shape, dtype=g.dtype)
    back = np.empty(h0.shape, dtype=g.dtype)
    for t in reversed(_steps(t_len, reverse)):
        if live[t]:
            dh += g[t]
        step(dh, t)
        np.matmul(d4[t, :, :3].reshape(n, g3), w_rot, out=back)  # a view: rows 4H apart
        dh += back
    dw, db = _weight_grads(d4[:, :, :3].reshape(t_len, n, g3), out, h0, reverse, b_hh is not None)
    dw = np.concatenate([dw[hid:], dw[:hid]])  # back to torch's r, z, n
    if db is not None:
        db = np.concatenate([db[hid:], db[:hid]])
    return d4[:, :, 1:].reshape(t_len, n, g3), dh, dw, db


# ------------------------------------------------------------------------- registration
def _graph_grads(composite: Callable, g: Tensor, arrays: tuple, kwargs: dict) -> list:
    """``create_graph=True``: the gradients as recorded ops, from the recurrence composed of
    primitive rows (``gdlab.ops.rnn_cells``, the same cell formulas) differentiated with
    ``create_graph``, so they are differentiable again. The fused NumPy backward writes into
    arrays and cannot run on Tensors."""
    xs = [a if a is None or isinstance(a, Tensor) else Tensor._wrap(np.asarray(a)) for a in arrays]
    outputs = composite(*xs, **kwargs)
    wanted = [x for x in xs if x is not None and x.requires_grad]
    found = iter(
        grad(outputs, wanted, split_gradient(g, outputs), create_graph=True, allow_unused=True)
    )
    return [next(found) if x is not None and x.requires_grad else None for x in xs]


def _shared_vjps(
    forward: Callable, backward: Callable, composite: Callable, n_inputs: int
) -> list[Callable]:
    """One VJP per input, all served by a single backward pass per output gradient (a Tensor
    gradient, under ``create_graph``, by one differentiation of the composite)."""

    def grads(g, out, *arrays, ws=None, **kwargs):
        if isinstance(g, Tensor):
            hit = None if ws is None else ws.get("graph_grads")
            if hit is not None and hit[0] is g:
                return hit[1]
            result = _graph_grads(composite, g, arrays, kwargs)
            if ws is not None:
                ws["graph_grads"] = (g, result)
            return result
        if ws is not None and ws.get("out") is out:
            hit = ws.get("grads")
            if hit is not None and hit[0] is g:
                return hit[1]
        else:  # no saved activations for this output: recompute them
            ws = {}
            forward(*arrays, ws=ws, **kwargs)
        result = backward(g, out, *arrays, ws=ws, **kwargs)
        ws["grads"] = (g, result)  # holds g itself, so the identity test cannot be fooled
        return result

    return [
        lambda g, out, *arrays, _i=i, **kwargs: grads(g, out, *arrays, **kwargs)[_i]
        for i in range(n_inputs)
    ]


RNN_SCAN = defop(
    "rnn_scan",
    _rnn,
    *_shared_vjps(_rnn, _rnn_backward, cells.rnn_scan, 4),
)
LSTM_SCAN = defop(
    "lstm_scan",
    _lstm,
    *_shared_vjps(_lstm, _lstm_backward, cells.lstm_scan, 6),
)
GRU_SCAN = defop(
    "gru_scan",
    _gru,
    *_shared_vjps(_gru, _gru_backward, cells.gru_scan, 4),
)
