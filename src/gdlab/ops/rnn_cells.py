"""The recurrent cells written once with primitive ops: the reference formulas of the fused
scans (``gdlab.ops.rnn_ops``) and their differentiable form.

The fused ``rnn_scan``, ``lstm_scan`` and ``gru_scan`` rows run the time loop and
backpropagation through time in NumPy, writing into preallocated arrays; that code cannot run
on Tensors. For higher-order gradients (``create_graph=True``) their VJPs instead compose the
same recurrence from the op table's rows (matmul, sigmoid, tanh, mul, add, getitem, stack)
with this module and differentiate it with ``create_graph``: the gradient is then a recorded
graph, differentiable again to any order, and equal to the fused rule's (tests/nn).

Inputs and kwargs as the fused rows: ``xp`` (T, N, G) the input projections, ``h0`` (N, H)
(or (N, P) with a projection), ``c0`` (N, H), ``w_hh`` (G, H or P), ``b_hh`` (G,) or None,
``w_hr`` (P, H) or None, ``reverse``. Each scan returns its outputs as a list of Tensors,
with ``split_gradient`` giving the matching slices of the fused row's output gradient.

References: torch's cell formulas (``torch.nn.LSTMCell``, ``GRUCell``, ``RNNCell``), gate orders
LSTM i, f, g, o and GRU r, z, n.
"""

from __future__ import annotations

from typing import Any

from gdlab.ops import elementwise as e
from gdlab.ops import linalg, shape
from gdlab.tensor import Tensor

__all__ = ["gru_cell", "gru_scan", "lstm_cell", "lstm_scan", "rnn_cell", "rnn_scan"]


def _hidden(h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    """h·W_hhᵀ + b_hh."""
    hp = linalg.matmul(h, shape.transpose(w_hh, 0, 1))
    return hp if b_hh is None else e.add(hp, b_hh)


def _gate(a: Tensor, k: int, hid: int) -> Tensor:
    return shape.getitem(a, (slice(None), slice(k * hid, (k + 1) * hid)))


def rnn_cell(xp_t: Tensor, h: Tensor, w_hh: Tensor, b_hh: Any, nonlinearity: str) -> Tensor:
    """h_t = tanh(xp_t + h·W_hhᵀ + b_hh) (or ReLU)."""
    a = e.add(xp_t, _hidden(h, w_hh, b_hh))
    return e.tanh(a) if nonlinearity == "tanh" else e.relu(a)


def lstm_cell(
    xp_t: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Any, w_hr: Any
) -> tuple[Tensor, Tensor]:
    """i, f, o = σ(·), g = tanh(·); c_t = f·c + i·g; h_t = o·tanh(c_t) (then W_hr·h_t)."""
    a = e.add(xp_t, _hidden(h, w_hh, b_hh))
    hid = a.shape[-1] // 4
    i, f, g, o = (_gate(a, k, hid) for k in range(4))
    c_new = e.add(e.mul(e.sigmoid(f), c), e.mul(e.sigmoid(i), e.tanh(g)))
    h_new = e.mul(e.sigmoid(o), e.tanh(c_new))
    if w_hr is not None:
        h_new = linalg.matmul(h_new, shape.transpose(w_hr, 0, 1))
    return h_new, c_new


def gru_cell(xp_t: Tensor, h: Tensor, w_hh: Tensor, b_hh: Any) -> Tensor:
    """r, z = σ(·); n = tanh(xp_n + r·(W_hn·h + b_hn)); h_t = (1 − z)·n + z·h."""
    hp = _hidden(h, w_hh, b_hh)
    hid = hp.shape[-1] // 3
    r = e.sigmoid(e.add(_gate(xp_t, 0, hid), _gate(hp, 0, hid)))
    z = e.sigmoid(e.add(_gate(xp_t, 1, hid), _gate(hp, 1, hid)))
    n = e.tanh(e.add(_gate(xp_t, 2, hid), e.mul(r, _gate(hp, 2, hid))))
    return e.add(n, e.mul(z, e.sub(h, n)))


def _order(t_len: int, reverse: bool) -> range:
    return range(t_len - 1, -1, -1) if reverse else range(t_len)


def _in_time_order(hs: dict[int, Tensor]) -> Tensor:
    return shape.stack([hs[t] for t in range(len(hs))], dim=0)


def rnn_scan(xp, h0, w_hh, b_hh=None, nonlinearity="tanh", reverse=False) -> list[Tensor]:
    """[h_1..h_T stacked (T, N, H)]: the output of ``rnn_scan``."""
    hs, h = {}, h0
    for t in _order(xp.shape[0], reverse):
        h = hs[t] = rnn_cell(xp[t], h, w_hh, b_hh, nonlinearity)
    return [_in_time_order(hs)]


def lstm_scan(xp, h0, c0, w_hh, b_hh=None, w_hr=None, reverse=False) -> list[Tensor]:
    """[h_1..h_T stacked (T, N, P or H), c_T]: the rows of ``lstm_scan``'s output."""
    hs, h, c = {}, h0, c0
    for t in _order(xp.shape[0], reverse):
        h, c = lstm_cell(xp[t], h, c, w_hh, b_hh, w_hr)
        hs[t] = h
    return [_in_time_order(hs), c]


def gru_scan(xp, h0, w_hh, b_hh=None, reverse=False) -> list[Tensor]:
    """[h_1..h_T stacked (T, N, H)]: the output of ``gru_scan``."""
    hs, h = {}, h0
    for t in _order(xp.shape[0], reverse):
        h = hs[t] = gru_cell(xp[t], h, w_hh, b_hh)
    return [_in_time_order(hs)]


def split_gradient(g: Tensor, outputs: list[Tensor]) -> list[Tensor]:
    """The slices of a fused row's output gradient that belong to the composite's outputs:
    the whole of it, or for the LSTM the h rows (the first P columns of the first T) and the
    last row (c_T)."""
    if len(outputs) == 1:
        return [g]
    t_len, p = outputs[0].shape[0], outputs[0].shape[-1]
    return [g[:t_len, :, :p], g[t_len]]
