"""Recurrent layers RNN, LSTM and GRU with torch's parameter names (``weight_ih_l0``,
``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, ``*_reverse``), gate order and shapes.

The input projection of a whole sequence is one matrix product per layer and direction; the
recurrence itself is one primitive per layer and direction (``gdlab.ops.rnn_ops``: a NumPy
loop over time forward, hand-written backpropagation through time backward), so forward and
backward cost grow linearly with the sequence length.

References: Elman (1990); Hochreiter & Schmidhuber (1997), "Long Short-Term Memory";
Cho et al. (2014), https://arxiv.org/abs/1406.1078.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gdlab.autograd.grad_mode import is_grad_enabled
from gdlab.nn import functional as F
from gdlab.nn import init
from gdlab.nn.layers import empty_parameter
from gdlab.nn.module import Module
from gdlab.ops.dispatch import apply
from gdlab.ops.rnn_ops import GRU_SCAN, LSTM_SCAN, RNN_SCAN
from gdlab.ops.shape import cat, reshape, stack, transpose
from gdlab.tensor import Tensor

__all__ = ["GRU", "LSTM", "RNN"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class _RNNBase(Module):
    _MODE = ""  # each class's: "LSTM", "GRU", "RNN_TANH" (an RNN sets its own mode after)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: Any = None,
        generator: Any = None,
        *,
        proj_size: int = 0,
    ) -> None:
        super().__init__()
        name, mode = type(self).__name__, self._MODE
        if proj_size and mode != "LSTM":  # torch's check and message
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if proj_size < 0:
            raise ValueError(
                "proj_size should be a positive integer or zero to disable projections"
            )
        if proj_size and proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if not 0 <= dropout <= 1:
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an "
                f"element being zeroed, got {dropout}"
            )
        if hidden_size <= 0 or num_layers <= 0:
            raise ValueError(
                f"{name}: hidden_size and num_layers must be positive, got "
                f"{hidden_size} and {num_layers}"
            )
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = proj_size
        gates, out_size = _GATES[mode] * hidden_size, proj_size or hidden_size
        for layer in range(num_layers):
            for suffix in self._suffixes():
                n_in = input_size if layer == 0 else out_size * len(self._suffixes())
                shapes = {"weight_ih": (gates, n_in), "weight_hh": (gates, out_size)}
                if bias:
                    shapes.update(bias_ih=(gates,), bias_hh=(gates,))
                if proj_size:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                for pname, shape in shapes.items():  # torch's registration order
                    setattr(self, f"{pname}_l{layer}{suffix}", empty_parameter(*shape, dtype=dtype))
        self.reset_parameters(generator)

    def _suffixes(self) -> tuple[str, ...]:
        return ("", "_reverse") if self.bidirectional else ("",)

    def reset_parameters(self, generator: Any = None) -> None:
        """torch's default: every weight and bias ~ U(−1/√hidden_size, 1/√hidden_size)."""
        k = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -k, k, generator=generator)

    def _weights(self, layer: int, suffix: str) -> tuple:
        get = self._parameters.get
        return tuple(
            get(f"{n}_l{layer}{suffix}")
            for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
        )

    def _scan(self, xp: Tensor, state: Any, w_hh: Tensor, b_hh: Any, **kw: Any) -> tuple:
        """The whole recurrence of one layer and direction: (outputs, final state)."""
        nonlinearity = "tanh" if self.mode == "RNN_TANH" else "relu"
        out = apply(RNN_SCAN, xp, state, w_hh, b_hh, nonlinearity=nonlinearity, **kw)
        return out, out[0] if kw["reverse"] else out[-1]

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Any]:  # noqa: A002
        x, unbatched = self._prepare(input)
        state = self._initial_state(x, hx, unbatched)
        finals = []
        for layer in range(self.num_layers):
            outs = []
            for d, suffix in enumerate(self._suffixes()):
                idx = layer * len(self._suffixes()) + d
                y, last = self._run_direction(x, self._select(state, idx), layer, suffix, d == 1)
                outs.append(y)
                finals.append(last)
            x = outs[0] if len(outs) == 1 else cat(outs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        output = transpose(x, 0, 1) if self.batch_first and not unbatched else x
        h_n = self._stack_finals(finals)
        if unbatched:
            output = reshape(output, (output.shape[0], output.shape[2]))
            h_n = self._squeeze_state(h_n)
        return output, h_n

    def _run_direction(self, x: Tensor, state: Any, layer: int, suffix: str, reverse: bool):
        w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, suffix)
        xp, b_hh = self._project(x, w_ih, b_ih, b_hh)
        # a workspace for the gate activations, kept by the graph node only when one is made
        ws = {} if is_grad_enabled() else None
        if w_hr is not None:
            return self._scan(xp, state, w_hh, b_hh, w_hr, reverse=reverse, ws=ws)
        return self._scan(xp, state, w_hh, b_hh, reverse=reverse, ws=ws)

    def _project(self, x: Tensor, w_ih: Tensor, b_ih: Any, b_hh: Any) -> tuple[Tensor, Any]:
        """The whole sequence's input projection at once, and the bias the scan adds at each
        step: both biases enter the pre-activation only through their sum, so it is made once
        (H·G numbers) instead of adding b_ih over all T·N·G·H of the projection and summing
        its gradient over them twice."""
        return F.linear(x, w_ih), None if b_ih is None else b_ih + b_hh

    # ----------------------------------------------------------------- shapes and states
    def _prepare(self, input: Tensor) -> tuple[Tensor, bool]:  # noqa: A002
        name = type(self).__name__
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: input.size(-1) must be equal to input_size. Expected "
                f"{self.input_size}, got {input.shape[-1]}"
            )
        if input.shape[1 if self.batch_first and input.ndim == 3 else 0] == 0:
            raise ValueError(f"{name}: Expected sequence length to be larger than 0 in RNN")
        if input.ndim == 2:
            return reshape(input, (input.shape[0], 1, input.shape[1])), True
        return (transpose(input, 0, 1) if self.batch_first else input), False

    def _zeros(self, x: Tensor, size: int | None = None) -> Tensor:
        n_states = self.num_layers * len(self._suffixes())
        shape = (n_states, x.shape[1], size or self.proj_size or self.hidden_size)
        return Tensor._wrap(np.zeros(shape, dtype=x.dtype))

    def _check_hidden(
        self, h: Tensor, x: Tensor, unbatched: bool, what: str, size: int | None = None
    ) -> Tensor:
        size = size or self.proj_size or self.hidden_size
        expected = (self.num_layers * len(self._suffixes()), x.shape[1], size)
        if unbatched:
            if h.ndim != 2:
                raise ValueError(
                    f"For unbatched 2-D input, {what} should also be 2-D but got {h.ndim}-D tensor"
                )
            h = reshape(h, (h.shape[0], 1, h.shape[1]))
        if tuple(h.shape) != expected:
            raise ValueError(f"Expected hidden size {expected}, got {tuple(h.shape)}")
        return h

    def _initial_state(self, x: Tensor, hx: Any, unbatched: bool) -> Any:
        if hx is None:
            return self._zeros(x)
        return self._check_hidden(hx, x, unbatched, "hx")

    def _select(self, state: Any, idx: int) -> Any:
        return state[idx]

    def _stack_finals(self, finals: list) -> Any:
        return stack(finals, dim=0)

    def _squeeze_state(self, h: Any) -> Any:
        return reshape(h, (h.shape[0], h.shape[2]))

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:  # torch's place for it
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first:
            s += f", batch_first={self.batch_first}"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(_RNNBase):
    """Elman RNN: h_t = tanh(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh) (or ReLU).

    Args:
        input_size, hidden_size: sizes of x_t and h_t.
        num_layers: stacked layers, each reading the previous one's outputs (default 1).
        nonlinearity: 'tanh' | 'relu' (default 'tanh').
        bias: learn ``bias_ih`` and ``bias_hh`` (default True).
        batch_first: inputs and outputs are (N, L, ·) instead of (L, N, ·) (default False).
        dropout: dropout on each layer's outputs except the last's, in training (default 0).
        bidirectional: a second pass from the end (``*_reverse`` weights; D = 2).
        dtype, generator: parameter dtype (default float32) and initialisation generator;
            every weight and bias ~ U(−1/√hidden_size, 1/√hidden_size), as torch.

    Returns ``(output, h_n)``: output (L, N, D·H) (batch first if asked), h_n (layers·D, N, H).
    ``hx`` (layers·D, N, H) is the initial state (zeros when None).

    Example:
        >>> rnn = nn.RNN(3, 5, num_layers=2, batch_first=True)
        >>> out, h_n = rnn(gdlab.randn(4, 7, 3))
        >>> out.shape, h_n.shape
        ((4, 7, 5), (2, 4, 5))

    Reference: Elman (1990), "Finding Structure in Time", Cognitive Science 14.
    """

    _MODE = "RNN_TANH"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: Any = None,
        generator: Any = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype,
            generator,
        )
        self.mode, self.nonlinearity = f"RNN_{nonlinearity.upper()}", nonlinearity

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + ", nonlinearity='relu'"


class LSTM(_RNNBase):
    """Long short-term memory; gates in torch's order i, f, g, o:
    i, f, o = σ(·), g = tanh(·); c_t = f·c_{t−1} + i·g; h_t = o·tanh(c_t).

    ``hx`` is an optional (h_0, c_0); returns ``(output, (h_n, c_n))``. With ``proj_size``
    P > 0, h_t = W_hr·(o·tanh c_t) (``weight_hr_l{k}``, (P, H)): outputs, h_0 and h_n are P
    wide, c_0 and c_n stay H wide (Sak et al. (2014), https://arxiv.org/abs/1402.1128).
    Other arguments as ``RNN``; the weights stack the four gates: ``weight_ih_l0`` is (4H, I).

    Example:
        >>> lstm = nn.LSTM(3, 5, bidirectional=True)
        >>> out, (h_n, c_n) = lstm(gdlab.randn(7, 4, 3))
        >>> out.shape, h_n.shape, c_n.shape
        ((7, 4, 10), (2, 4, 5), (2, 4, 5))

    Reference: Hochreiter & Schmidhuber (1997), "Long Short-Term Memory", Neural Comput. 9.
    """

    _MODE = "LSTM"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        dtype: Any = None,
        generator: Any = None,
    ) -> None:
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype,
            generator,
            proj_size=proj_size,
        )

    def _scan(self, xp: Tensor, state: Any, w_hh: Tensor, b_hh: Any, *w_hr: Any, **kw: Any):
        out = apply(LSTM_SCAN, xp, state[0], state[1], w_hh, b_hh, *w_hr, **kw)
        t_len, p = xp.shape[0], state[0].shape[-1]
        if p != self.hidden_size:  # projected: h_t is the first P columns of each row
            h_n = out[0, :, :p] if kw["reverse"] else out[t_len - 1, :, :p]
            return out[:t_len, :, :p], (h_n, out[t_len])
        h_n = out[0] if kw["reverse"] else out[t_len - 1]
        return out[:t_len], (h_n, out[t_len])

    def _initial_state(self, x: Tensor, hx: Any, unbatched: bool) -> Any:
        if hx is None:
            return self._zeros(x), self._zeros(x, self.hidden_size)
        if not isinstance(hx, tuple | list) or len(hx) != 2:
            raise ValueError("LSTM: hx must be a tuple (h_0, c_0)")
        return (
            self._check_hidden(hx[0], x, unbatched, "hx"),
            self._check_hidden(hx[1], x, unbatched, "hx", self.hidden_size),
        )

    def _select(self, state: Any, idx: int) -> Any:
        return state[0][idx], state[1][idx]

    def _stack_finals(self, finals: list) -> Any:
        return stack([h for h, _ in finals], dim=0), stack([c for _, c in finals], dim=0)

    def _squeeze_state(self, h: Any) -> Any:
        return tuple(super(LSTM, self)._squeeze_state(s) for s in h)


class GRU(_RNNBase):
    """Gated recurrent unit; gates in torch's order r, z, n:
    r, z = σ(·); n = tanh(W_in·x + b_in + r·(W_hn·h + b_hn)); h_t = (1 − z)·n + z·h_{t−1}.

    Arguments, ``hx`` and outputs as ``RNN``; the weights stack the three gates (3H rows).

    Example:
        >>> out, h_n = nn.GRU(3, 5)(gdlab.randn(7, 4, 3))
        >>> out.shape, h_n.shape
        ((7, 4, 5), (1, 4, 5))

    Reference: Cho et al. (2014), https://arxiv.org/abs/1406.1078
    """

    _MODE = "GRU"

    def _project(self, x: Tensor, w_ih: Tensor, b_ih: Any, b_hh: Any) -> tuple[Tensor, Any]:
        # b_hn sits inside r·(W_hn·h + b_hn): the two biases cannot be summed
        return F.linear(x, w_ih, b_ih), b_hh

    def _scan(self, xp: Tensor, state: Any, w_hh: Tensor, b_hh: Any, **kw: Any) -> tuple:
        out = apply(GRU_SCAN, xp, state, w_hh, b_hh, **kw)
        return out, out[0] if kw["reverse"] else out[-1]
