"""Whole-sequence recurrences as single primitives: ``rnn_scan``, ``lstm_scan``, ``gru_scan``.

One op per layer and direction: the forward loops over time in NumPy and keeps the gate
activations; the VJP is backpropagation through time written by hand (checked against finite
differences by the op-table tests and against torch in tests/nn). Unrolling the recurrence
into one graph node per step made backward quadratic in the sequence length (every step's
slice of the input projection allocated a full-size gradient) and slow in Python.

Inputs, in order: ``xp`` (T, N, G) the input projection x_t·W_ihᵀ + b_ih of every step
(computed outside with one matrix product), ``h0`` (N, H), for the LSTM ``c0`` (N, H),
``w_hh`` (G, H) and optionally ``b_hh`` (G,). ``reverse=True`` runs from t = T−1 down to 0;
outputs stay in input time order. The output is (T, N, H) holding h_t, except the LSTM's,
(T + 1, N, H), whose last row is the final cell state c (its h_n is a row of the first T).
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

import numpy as np

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
def _gate_scale(hid: int, n_sigmoid_first: int, n_gates: int, dtype: np.dtype) -> np.ndarray:
    """0.5 on sigmoid gates, 1 elsewhere: σ(a) = (1 + tanh(a/2))/2, so after pre-scaling the
    pre-activations, one tanh over all gates and one affine map give every activation."""
    scale = np.ones(n_gates * hid, dtype=dtype)
    scale[: n_sigmoid_first * hid] = 0.5
    return scale


def _lstm(xp, h0, c0, w_hh, b_hh=None, w_hr=None, reverse=False, ws=None):
    t_len, n, g4 = xp.shape
    hid = g4 // 4
    proj = w_hr is not None  # h_t = W_hr·(o·tanh c_t), of size P < H; rows of out are H wide
    scale = _gate_scale(hid, 2, 4, xp.dtype)
    scale[3 * hid :] = 0.5  # o is a sigmoid gate too (order i, f, g, o)
    shift = np.where(scale == 0.5, 0.5, 0.0).astype(xp.dtype)
    pre = xp * scale if b_hh is None else (xp + b_hh) * scale  # one pass for all steps
    # contiguous: NumPy's matmul with a transposed view is markedly slower at these sizes
    w_scaled_t = np.ascontiguousarray((w_hh * scale[:, None]).T)
    w_hr_t = np.ascontiguousarray(w_hr.T) if proj else None
    out = (np.zeros if proj else np.empty)((t_len + 1, n, hid), dtype=xp.dtype)
    act = np.empty((t_len, n, g4), dtype=xp.dtype)  # i, f, g, o after their nonlinearities
    cs = np.empty((t_len, n, hid), dtype=xp.dtype)
    tanh_c = np.empty_like(cs)
    m = np.empty_like(cs) if proj else out  # o·tanh c before the projection
    ig = np.empty((n, hid), dtype=xp.dtype)
    h, c = h0, c0
    for t in _steps(t_len, reverse):
        a = act[t]
        np.matmul(h, w_scaled_t, out=a)
        a += pre[t]
        np.tanh(a, out=a)
        a *= scale
        a += shift
        c_new = cs[t]
        np.multiply(a[:, hid : 2 * hid], c, out=c_new)
        np.multiply(a[:, :hid], a[:, 2 * hid : 3 * hid], out=ig)
        c_new += ig
        np.tanh(c_new, out=tanh_c[t])
        np.multiply(a[:, 3 * hid :], tanh_c[t], out=m[t])
        if proj:
            np.matmul(m[t], w_hr_t, out=out[t, :, : w_hr.shape[0]])
        h, c = out[t, :, : h0.shape[1]], c_new
    out[t_len] = c
    if ws is not None:
        ws.update(out=out, act=act, cs=cs, tanh_c=tanh_c, m=m)
    return out


def _lstm_coefficients(act, cs, tanh_c, c0, reverse):
    """Everything of the LSTM's backward that does not depend on the incoming gradient, for
    all steps at once, written in place (no temporaries): ∂pre-activation = dc·coef for
    i, f, g and dh·coef for o; and dc gains dh·o·(1 − tanh²c) (returned second)."""
    t_len, n, g4 = act.shape
    hid = g4 // 4
    i, f, gg, o = (act[..., k * hid : (k + 1) * hid] for k in range(4))
    coef = np.empty((t_len, n, 4, hid), dtype=act.dtype)
    ci, cf, cg, co = (coef[:, :, k] for k in range(4))
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


def _lstm_backward(g, out, xp, h0, c0, w_hh, b_hh=None, w_hr=None, reverse=False, ws=None):
    act, cs, tanh_c, m = ws["act"], ws["cs"], ws["tanh_c"], ws["m"]
    t_len, n, g4 = act.shape
    hid, p = g4 // 4, h0.shape[1]
    proj = w_hr is not None
    dhs = np.empty((t_len, n, p), dtype=g.dtype) if proj else None  # ∂h_t, for ∂W_hr
    f = act[..., hid : 2 * hid]
    coef, dc_from_h = _lstm_coefficients(act, cs, tanh_c, c0, reverse)
    live = _live_steps(g, t_len)
    da = np.empty((t_len, n, 4, hid), dtype=g.dtype)
    dh = np.zeros(h0.shape, dtype=g.dtype)
    dm = np.empty((n, hid), dtype=g.dtype) if proj else dh
    dc = np.array(g[t_len], dtype=g.dtype)  # the final cell state's own gradient
    tmp = np.empty(c0.shape, dtype=g.dtype)
    for t in reversed(_steps(t_len, reverse)):
        if live[t]:
            dh += g[t, :, :p]
        if proj:
            dhs[t] = dh
            np.matmul(dh, w_hr, out=dm)
        d = da[t]
        np.multiply(dm, coef[t, :, 3], out=d[:, 3])
        np.multiply(dm, dc_from_h[t], out=tmp)
        dc += tmp
        np.multiply(coef[t, :, :3], dc[:, None, :], out=d[:, :3])
        dc *= f[t]
        np.matmul(d.reshape(n, g4), w_hh, out=dh)  # d and dm are read before dh is written
    da = da.reshape(t_len, n, g4)
    hs = out[:t_len, :, :p] if proj else out[:t_len]
    dw, db = _weight_grads(da, hs, h0, reverse, b_hh is not None)
    dw_hr = dhs.reshape(-1, p).T @ m.reshape(-1, hid) if proj else None
    return da, dh, dc, dw, db, dw_hr


# ------------------------------------------------------------------------- GRU
def _gru(xp, h0, w_hh, b_hh=None, reverse=False, ws=None):
    t_len, n, g3 = xp.shape
    hid = g3 // 3
    scale = _gate_scale(hid, 2, 3, xp.dtype)  # r, z sigmoid; n's tanh is taken separately
    pre = xp.copy()
    if b_hh is not None:  # b_hr, b_hz add to the input side; b_hn stays inside r·(·)
        pre[..., : 2 * hid] += b_hh[: 2 * hid]
    pre[..., : 2 * hid] *= 0.5
    w_scaled_t = np.ascontiguousarray((w_hh * scale[:, None]).T)
    b_hn = None if b_hh is None else b_hh[2 * hid :]
    out = np.empty((t_len, n, hid), dtype=xp.dtype)
    act = np.empty((t_len, n, g3), dtype=xp.dtype)  # r, z, n after their nonlinearities
    hn = np.empty((t_len, n, hid), dtype=xp.dtype)  # W_hn·h + b_hn, which r multiplies
    hp = np.empty((n, g3), dtype=xp.dtype)
    h = h0
    for t in _steps(t_len, reverse):
        a, x = act[t], pre[t]
        np.matmul(h, w_scaled_t, out=hp)
        rz = a[:, : 2 * hid]
        np.add(x[:, : 2 * hid], hp[:, : 2 * hid], out=rz)
        np.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5
        hn_t = hn[t]
        if b_hn is None:
            np.copyto(hn_t, hp[:, 2 * hid :])
        else:
            np.add(hp[:, 2 * hid :], b_hn, out=hn_t)
        cand = a[:, 2 * hid :]
        np.multiply(a[:, :hid], hn_t, out=cand)
        cand += x[:, 2 * hid :]
        np.tanh(cand, out=cand)
        o = out[t]  # h_t = (1 − z)·n + z·h_{t−1} = n + z·(h_{t−1} − n)
        np.subtract(h, cand, out=o)
        o *= a[:, hid : 2 * hid]
        o += cand
        h = o
    if ws is not None:
        ws.update(out=out, act=act, hn=hn)
    return out


def _gru_coefficients(act, hn, out, h0, reverse):
    """The GRU's per-step backward coefficients for all steps at once, in the order
    (r, z, hn, n): with dh the gradient of h_t, ∂a_r = dh·c_r, ∂a_z = dh·c_z,
    ∂(W_hn·h + b_hn) = dh·c_n·r, ∂a_n = dh·c_n. The first three rows meet W_hh."""
    t_len, n, g3 = act.shape
    hid = g3 // 3
    r, z, cand = (act[..., k * hid : (k + 1) * hid] for k in range(3))
    coef = np.empty((t_len, n, 4, hid), dtype=act.dtype)
    cr, cz, chn, cn = (coef[:, :, k] for k in range(4))
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
    hprev = np.empty_like(cand)
    if reverse:
        hprev[: t_len - 1] = out[1:]
        hprev[t_len - 1] = h0
    else:
        hprev[1:] = out[: t_len - 1]
        hprev[0] = h0
    hprev -= cand
    cz *= hprev
    return coef


def _gru_backward(g, out, xp, h0, w_hh, b_hh=None, reverse=False, ws=None):
    act, hn = ws["act"], ws["hn"]
    t_len, n, g3 = act.shape
    hid = g3 // 3
    z = act[..., hid : 2 * hid]
    coef = _gru_coefficients(act, hn, out, h0, reverse)
    live = _live_steps(g, t_len)
    d4 = np.empty((t_len, n, 4, hid), dtype=g.dtype)  # ∂a_r, ∂a_z, ∂(W_hn·h + b_hn), ∂a_n
    dh = np.zeros(h0.shape, dtype=g.dtype)
    back = np.empty(h0.shape, dtype=g.dtype)
    for t in reversed(_steps(t_len, reverse)):
        if live[t]:
            dh += g[t]
        d = d4[t]
        np.multiply(coef[t], dh[:, None, :], out=d)
        dh *= z[t]
        np.matmul(d[:, :3].reshape(n, g3), w_hh, out=back)  # a view: rows 4H apart
        dh += back
    dx = d4[:, :, (0, 1, 3)].reshape(t_len, n, g3)
    dw, db = _weight_grads(d4[:, :, :3].reshape(t_len, n, g3), out, h0, reverse, b_hh is not None)
    return dx, dh, dw, db


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
