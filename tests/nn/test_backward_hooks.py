"""Module backward hooks against torch's: grad_input / grad_output, replacements, handles."""

from __future__ import annotations

import numpy as np
import pytest

import gdlab
from gdlab import nn

torch = pytest.importorskip("torch")


class Gate(nn.Module):
    """Two inputs: tanh(a)·b (torch twin below)."""

    def forward(self, a, b):
        return gdlab.tanh(a) * b


class TorchGate(torch.nn.Module):
    def forward(self, a, b):
        return torch.tanh(a) * b


def _linear_twins():
    torch.manual_seed(0)
    t = torch.nn.Linear(3, 2).double()
    g = nn.Linear(3, 2, dtype=np.float64)
    g.load_state_dict({k: v.detach().numpy().copy() for k, v in t.state_dict().items()})
    return g, t


def _arrays(values):
    return [None if v is None else np.asarray(v.detach().numpy() if hasattr(v, "numpy") and
            not isinstance(v, gdlab.Tensor) else v) for v in values]  # fmt: skip


def _record(log):
    def hook(module, grad_input, grad_output):
        log.append((_arrays(grad_input), _arrays(grad_output)))

    return hook


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_allclose(x, y, rtol=1e-12)


X = np.random.default_rng(0).standard_normal((4, 3))
W = np.random.default_rng(1).standard_normal((4, 2))  # weights of the final sum


@pytest.mark.parametrize("x_requires_grad", [True, False])
def test_linear_grad_input_and_output_equal_torch(x_requires_grad):
    g, t = _linear_twins()
    ours, theirs = [], []
    g.register_full_backward_hook(_record(ours))
    t.register_full_backward_hook(_record(theirs))
    gx = gdlab.tensor(X, requires_grad=x_requires_grad)
    tx = torch.tensor(X, requires_grad=x_requires_grad)
    (g(gx) * gdlab.tensor(W)).sum().backward()
    (t(tx) * torch.from_numpy(W)).sum().backward()
    assert len(ours) == len(theirs) == 1
    _same(ours[0][0], theirs[0][0])
    _same(ours[0][1], theirs[0][1])


def test_two_inputs_equal_torch():
    ours, theirs = [], []
    Gate_g, Gate_t = Gate(), TorchGate()
    Gate_g.register_full_backward_hook(_record(ours))
    Gate_t.register_full_backward_hook(_record(theirs))
    a, b = X[:, :2], X[:, 1:]
    ga, gb = gdlab.tensor(a, requires_grad=True), gdlab.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    (Gate_g(ga, gb) ** 2).sum().backward()
    (Gate_t(ta, tb) ** 2).sum().backward()
    _same(ours[0][0], theirs[0][0])
    _same(ours[0][1], theirs[0][1])
    np.testing.assert_allclose(np.asarray(ga.grad), ta.grad.numpy(), rtol=1e-12)


def test_pre_hook_replaces_grad_output_and_full_hook_replaces_grad_input():
    g, t = _linear_twins()
    for m in (g, t):
        m.register_full_backward_pre_hook(lambda mod, g_out: (g_out[0] * 3.0,))
        m.register_full_backward_hook(lambda mod, g_in, g_out: (g_in[0] * -2.0,))
    gx, tx = gdlab.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    (g(gx) * gdlab.tensor(W)).sum().backward()
    (t(tx) * torch.from_numpy(W)).sum().backward()
    np.testing.assert_allclose(np.asarray(gx.grad), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(g.weight.grad), t.weight.grad.numpy(), rtol=1e-12)


def test_handles_remove_hooks_and_sequential_records_every_layer():
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))
    seen = []
    handles = [m.register_full_backward_hook(lambda m, gi, go, k=k: seen.append(k))
               for k, m in enumerate(model)]  # fmt: skip
    x = gdlab.tensor(X, requires_grad=True)
    model(x).sum().backward()
    assert seen == [2, 1, 0]  # output side first, as backward runs
    for h in handles:
        h.remove()
    seen.clear()
    model(x).sum().backward()
    assert seen == []


def test_hooks_do_not_fire_without_grad_mode_and_reject_tuple_outputs():
    layer = nn.Linear(3, 2)
    calls = []
    layer.register_full_backward_hook(lambda *a: calls.append(a))
    with gdlab.no_grad():
        layer(gdlab.tensor(X))
    assert calls == []

    class Pair(nn.Module):
        def forward(self, x):
            return x, x

    pair = Pair()
    pair.register_full_backward_pre_hook(lambda m, g: None)
    with pytest.raises(TypeError, match="Pair: backward hooks need forward to return one"):
        pair(gdlab.tensor(X, requires_grad=True))


def test_replacing_grad_input_with_two_inputs_is_refused():
    gate = Gate()
    gate.register_full_backward_hook(lambda m, gi, go: gi)
    a = gdlab.tensor(X[:, :2], requires_grad=True)
    b = gdlab.tensor(X[:, 1:], requires_grad=True)
    with pytest.raises(RuntimeError, match="only when one input requires grad"):
        gate(a, b).sum().backward()
