"""RNN / LSTM / GRU (one scan primitive per layer and direction) against torch in float64
(and float32): outputs, h_n / c_n, input, h_0 / c_0 and every parameter gradient; second
derivatives (double backward, hessian) against torch's. Plus: the graph does not
grow with the sequence length, no workspace is kept without a graph, retain_graph backward
twice gives the same gradients, dropout acts between layers only."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nn_helpers import compare_forward_backward, randomise, twin  # noqa: E402

import gdlab  # noqa: E402
import gdlab.nn as gnn  # noqa: E402
from gdlab.autograd.engine import iter_graph  # noqa: E402


def seq(shape, h_shape=None, lstm=False):
    def make(rng):
        x = rng.standard_normal(shape)
        if h_shape is None:
            return (x,)
        h = rng.standard_normal(h_shape) * 0.5
        return (x, (h, rng.standard_normal(h_shape) * 0.5)) if lstm else (x, h)

    return make


# (id, class, args, kwargs, inputs)
CASES = [
    ("rnn_tanh_long", "RNN", (3, 5), {}, seq((12, 2, 3), (1, 2, 5))),
    ("rnn_relu_bidir_2layer", "RNN", (3, 4, 2), {"nonlinearity": "relu", "bidirectional": True},
     seq((6, 2, 3), (4, 2, 4))),
    ("rnn_nobias_bf", "RNN", (2, 3), {"bias": False, "batch_first": True},
     seq((2, 5, 2), (1, 2, 3))),
    ("lstm_long_h0c0", "LSTM", (3, 5), {}, seq((12, 2, 3), (1, 2, 5), lstm=True)),
    ("lstm_3layer_bidir_h0c0", "LSTM", (2, 3, 3), {"bidirectional": True},
     seq((5, 2, 2), (6, 2, 3), lstm=True)),
    ("lstm_nobias_bf_bidir", "LSTM", (3, 4), {"bias": False, "batch_first": True,
                                             "bidirectional": True},
     seq((2, 6, 3), (2, 2, 4), lstm=True)),
    ("lstm_unbatched_h0c0", "LSTM", (3, 4, 2), {}, seq((5, 3), (2, 4), lstm=True)),
    ("lstm_proj", "LSTM", (3, 5), {"proj_size": 2}, seq((6, 2, 3))),
    ("lstm_proj_2layer_bidir_bf_h0c0", "LSTM", (3, 4, 2),
     {"proj_size": 3, "bidirectional": True, "batch_first": True},
     lambda rng: (rng.standard_normal((2, 5, 3)),
                  (rng.standard_normal((4, 2, 3)) * 0.5, rng.standard_normal((4, 2, 4)) * 0.5))),
    ("lstm_proj_nobias_unbatched", "LSTM", (2, 4), {"proj_size": 1, "bias": False},
     lambda rng: (rng.standard_normal((4, 2)),
                  (rng.standard_normal((1, 1)), rng.standard_normal((1, 4))))),
    ("lstm_one_step", "LSTM", (3, 4), {"bidirectional": True}, seq((1, 2, 3))),
    ("gru_long_h0", "GRU", (3, 5), {}, seq((12, 2, 3), (1, 2, 5))),
    ("gru_bidir_bf_h0", "GRU", (3, 4, 2), {"bidirectional": True, "batch_first": True},
     seq((2, 5, 3), (4, 2, 4))),
    ("gru_nobias_unbatched", "GRU", (2, 3), {"bias": False}, seq((4, 2), (1, 3))),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_recurrent_matches_torch(case):
    _, name, args, kwargs, make_inputs = case
    rng = np.random.default_rng(0)
    tm = getattr(torch.nn, name)(*args, **kwargs).double()
    randomise(tm)
    gm = twin(tm, getattr(gnn, name)(*args, **kwargs))
    compare_forward_backward(
        gm, tm, make_inputs(rng), dict(gm.named_parameters()), dict(tm.named_parameters()), rng
    )


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_graph_size_does_not_grow_with_sequence_length(name):
    """Linear backward: a fixed number of nodes per layer and direction, whatever T is."""

    def n_nodes(t_len):
        m = getattr(gnn, name)(2, 3, num_layers=2, bidirectional=True, generator=0)
        out, _ = m(gdlab.randn(t_len, 2, 2, generator=1))
        return sum(1 for _ in iter_graph(out))

    assert n_nodes(3) == n_nodes(40)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_backward_twice_with_retain_graph_is_identical(name):
    m = getattr(gnn, name)(2, 3, generator=0).double()
    x = gdlab.tensor(np.random.default_rng(0).standard_normal((4, 2, 2)), requires_grad=True)
    out, _ = m(x)
    loss = (out * out).sum()
    loss.backward(retain_graph=True)
    first = [p.grad.data.copy() for p in m.parameters()] + [x.grad.data.copy()]
    m.zero_grad()
    x.grad = None
    loss.backward()
    for a, b in zip(first, [p.grad for p in m.parameters()] + [x.grad], strict=True):
        np.testing.assert_array_equal(a, b)


def test_no_graph_and_float32_under_no_grad():
    m = gnn.LSTM(2, 3, generator=0)
    x = gdlab.randn(5, 2, 2, generator=1)
    with gdlab.no_grad():
        out, (h, c) = m(x)
    assert out.grad_fn is None and out.dtype == np.float32 and c.dtype == np.float32
    out2, (h2, c2) = m(x)
    np.testing.assert_array_equal(out.data, out2.data)
    np.testing.assert_array_equal(c.data, c2.data)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_dropout_between_layers_only(name):
    """dropout=1 zeroes the second layer's input in training (so its output depends only on
    its biases), never the last layer's output; eval mode ignores it."""
    x = gdlab.randn(4, 2, 3, generator=1)
    m = getattr(gnn, name)(3, 4, num_layers=2, dropout=1.0, generator=0)
    ref = getattr(gnn, name)(3, 4, num_layers=2, generator=0)
    out_train, _ = m(x)
    out_other, _ = m(gdlab.randn(4, 2, 3, generator=2))
    np.testing.assert_allclose(out_train.data, out_other.data)
    m.eval()
    np.testing.assert_allclose(m(x)[0].data, ref(x)[0].data)


# (id, call, message)
ERRORS = [
    ("proj_negative", lambda: gnn.LSTM(3, 4, proj_size=-1), "positive integer or zero"),
    ("proj_too_big", lambda: gnn.LSTM(3, 4, proj_size=4), "smaller than hidden_size"),
    ("proj_gru", lambda: gnn.GRU(3, 4, proj_size=2), "only supported for LSTM, not RNN or GRU"),
    ("empty_sequence", lambda: gnn.GRU(3, 4)(gdlab.zeros(0, 2, 3)), "larger than 0"),
    ("empty_sequence_bf", lambda: gnn.LSTM(3, 4, batch_first=True)(gdlab.zeros(2, 0, 3)),
     "larger than 0"),
    ("proj_h0_width", lambda: gnn.LSTM(3, 4, proj_size=2)(
        gdlab.zeros(5, 2, 3), (gdlab.zeros(1, 2, 4), gdlab.zeros(1, 2, 4))), r"\(1, 2, 2\)"),
]  # fmt: skip


@pytest.mark.parametrize("case", ERRORS, ids=[e[0] for e in ERRORS])
def test_recurrent_errors(case):
    _, call, message = case
    with pytest.raises(ValueError, match=message):
        call()


def test_proj_size_repr_and_state_dict_match_torch():
    kw = {"num_layers": 2, "bidirectional": True, "proj_size": 2}
    g, t = gnn.LSTM(3, 5, **kw), torch.nn.LSTM(3, 5, **kw)
    assert repr(g) == repr(t)
    tsd = t.state_dict()
    assert [(k, v.shape) for k, v in g.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in tsd.items()
    ]


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_one_loop_over_time_per_node_and_pass(name, monkeypatch):
    """Performance contract: the VJPs of all inputs share one backward loop over the saved
    gates, so each layer and direction loops over time once forward and once backward (no
    recomputation of the forward, no loop per input)."""
    from gdlab.ops import rnn_ops

    loops = []
    steps = rnn_ops._steps
    monkeypatch.setattr(rnn_ops, "_steps", lambda *a: loops.append(1) or steps(*a))
    m = getattr(gnn, name)(2, 3, num_layers=2, bidirectional=True, generator=0)
    h0 = gdlab.zeros(4, 2, 3, requires_grad=True)
    hx = (h0, gdlab.zeros(4, 2, 3, requires_grad=True)) if name == "LSTM" else h0
    out, _ = m(gdlab.randn(5, 2, 2, generator=1, requires_grad=True), hx)
    assert len(loops) == 4
    out.sum().backward()
    assert len(loops) == 8


# float32 against torch in float32: the fused scans in the dtype users train in
F32_TOL = {"rtol": 2e-4, "atol": 2e-5}


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize("compiled", [False, True], ids=["numpy", "kernels"])
@pytest.mark.parametrize(
    "name, kwargs",
    [("LSTM", {}), ("LSTM", {"proj_size": 3, "bidirectional": True}), ("GRU", {}),
     ("GRU", {"num_layers": 2, "batch_first": True}), ("RNN", {})],
)  # fmt: skip
def test_float32_matches_torch(name, kwargs, compiled, monkeypatch):
    """The NumPy cells, and the compiled ones (ops/_rnn_kernels.py) at any size."""
    from gdlab.ops import rnn_ops

    if compiled:
        pytest.importorskip("gdlab.ops._rnn_kernels")
        monkeypatch.setattr(rnn_ops, "MIN_KERNEL_SIZE", 0)
    tm = getattr(torch.nn, name)(4, 6, **kwargs)
    randomise(tm)
    gm = getattr(gnn, name)(4, 6, **kwargs)
    gm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((7, 3, 4)).astype(np.float32)
    gx, tx = gdlab.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    go, to = gm(gx)[0], tm(tx)[0]
    w = np.random.default_rng(1).standard_normal(go.shape).astype(np.float32)
    (go * gdlab.tensor(w)).sum().backward()
    (to * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(go.data, to.detach().numpy(), **F32_TOL)
    np.testing.assert_allclose(gx.grad.data, tx.grad.numpy(), **F32_TOL)
    for (n, p), tp in zip(gm.named_parameters(), tm.parameters(), strict=True):
        assert p.grad.dtype == np.float32
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), err_msg=n, **F32_TOL)


# Second order (create_graph=True): the scans' VJPs differentiate the cells composed of
# primitive rows (gdlab.ops.rnn_cells). (id, class, args, kwargs, (T, N) or T for unbatched)
SECOND_ORDER = [
    ("lstm_cell", "LSTM", (2, 3), {}, (1, 2)),
    ("lstm_seq_proj_bidir", "LSTM", (2, 4), {"proj_size": 2, "bidirectional": True}, (3, 2)),
    ("gru_cell", "GRU", (2, 3), {}, (1, 2)),
    ("gru_seq_2layer_bf", "GRU", (2, 3, 2), {"batch_first": True}, (3, 2)),
    ("rnn_seq", "RNN", (2, 3), {}, (3, 2)),
]  # fmt: skip


def _with_state(name, module, x, rng, torch_side):
    """The module's output on x with a random initial state (h0, c0 for the LSTM)."""
    n_states = module.num_layers * (2 if module.bidirectional else 1)
    n = x.shape[0] if module.batch_first else x.shape[1]
    size = module.proj_size or module.hidden_size if name == "LSTM" else module.hidden_size
    h = rng.standard_normal((n_states, n, size)) * 0.5
    c = rng.standard_normal((n_states, n, module.hidden_size)) * 0.5
    make = torch.tensor if torch_side else gdlab.tensor
    hx = (make(h), make(c)) if name == "LSTM" else make(h)
    return module(x, hx)[0]


@pytest.mark.parametrize("case", SECOND_ORDER, ids=[c[0] for c in SECOND_ORDER])
def test_double_backward_matches_torch(case):
    """grad with create_graph, then the gradient of ⟨gradient, w⟩: every second derivative
    along w, for the input and every parameter, against torch's double backward (float64)."""
    _, name, args, kwargs, (t_len, n) = case
    tm = getattr(torch.nn, name)(*args, **kwargs).double()
    randomise(tm)
    gm = twin(tm, getattr(gnn, name)(*args, **kwargs))
    rng = np.random.default_rng(0)
    shape = (n, t_len, args[0]) if kwargs.get("batch_first") else (t_len, n, args[0])
    x = rng.standard_normal(shape)
    gx, tx = gdlab.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    gout = _with_state(name, gm, gx, np.random.default_rng(1), False)
    tout = _with_state(name, tm, tx, np.random.default_rng(1), True)
    v = rng.standard_normal(gout.shape)
    g_in, t_in = [gx, *gm.parameters()], [tx, *tm.parameters()]
    gs = gdlab.autograd.grad(gout, g_in, grad_outputs=v, create_graph=True)
    ts = torch.autograd.grad(tout, t_in, grad_outputs=torch.tensor(v), create_graph=True)
    for a, b in zip(gs, ts, strict=True):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-9, atol=1e-12)
    ws = [rng.standard_normal(a.shape) for a in gs]
    g2 = gdlab.autograd.grad(sum((a * w).sum() for a, w in zip(gs, ws, strict=True)), g_in)
    t2 = torch.autograd.grad(
        sum((b * torch.tensor(w)).sum() for b, w in zip(ts, ws, strict=True)), t_in
    )
    for a, b in zip(g2, t2, strict=True):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-8, atol=1e-11)


def test_hessian_of_a_tiny_gru_net_matches_torch():
    """hessian of tanh(head(GRU(x)[-1])) summed, in x and h_0, against
    torch.autograd.functional.hessian (float64)."""
    tg, th = torch.nn.GRU(2, 3).double(), torch.nn.Linear(3, 1).double()
    randomise(tg)
    gg = twin(tg, gnn.GRU(2, 3))
    gh = twin(th, gnn.Linear(3, 1))
    rng = np.random.default_rng(0)
    x, h0 = rng.standard_normal((3, 1, 2)), rng.standard_normal((1, 1, 3)) * 0.5

    def g_net(x, h0):
        return gdlab.tanh(gh(gg(x, h0)[0][-1])).sum()

    def t_net(x, h0):
        return torch.tanh(th(tg(x, h0)[0][-1])).sum()

    ours = gdlab.autograd.functional.hessian(g_net, (gdlab.tensor(x), gdlab.tensor(h0)))
    theirs = torch.autograd.functional.hessian(t_net, (torch.tensor(x), torch.tensor(h0)))
    for row_g, row_t in zip(ours, theirs, strict=True):
        for a, b in zip(row_g, row_t, strict=True):
            np.testing.assert_allclose(np.asarray(a.data), b.numpy(), rtol=1e-9, atol=1e-12)
