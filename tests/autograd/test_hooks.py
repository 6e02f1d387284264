"""Tensor.register_hook and module forward / pre-forward hooks, as torch's, with removable
handles (checked against torch on the same computation)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gdlab
from gdlab.autograd import grad

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4))


def chain(lib, x):
    h = lib.tanh(x) * 2.0
    return h, (h**2).sum()


@pytest.mark.parametrize("where", ["leaf", "intermediate"])
def test_gradient_hooks_see_and_replace_gradients_as_torch(where):
    seen, tseen = [], []
    x, tx = gdlab.tensor(A, requires_grad=True), torch.tensor(A, requires_grad=True)
    h, loss = chain(gdlab, x)
    th, tloss = chain(torch, tx)
    target, ttarget = (x, tx) if where == "leaf" else (h, th)
    target.register_hook(lambda g: seen.append(g.numpy().copy()))
    target.register_hook(lambda g: g * 3.0)  # replaces the gradient
    ttarget.register_hook(lambda g: tseen.append(g.numpy().copy()))
    ttarget.register_hook(lambda g: g * 3.0)
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(seen[0], tseen[0], rtol=1e-12)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12)


def test_removed_hook_is_not_called_and_autograd_grad_runs_hooks():
    x = gdlab.tensor(A, requires_grad=True)
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    handle.remove()
    handle.remove()  # twice is fine
    chain(gdlab, x)[1].backward()
    assert calls == []
    with x.register_hook(lambda g: g * 0.0):
        (g,) = grad(chain(gdlab, x)[1], x)
    np.testing.assert_array_equal(g, 0.0)
    (g,) = grad(chain(gdlab, x)[1], x)  # removed by the with block
    assert np.abs(g).sum() > 0


def test_retain_grad_sees_the_hooked_gradient_and_hooks_need_grad():
    x = gdlab.tensor(A, requires_grad=True)
    h, loss = chain(gdlab, x)
    h.retain_grad()
    h.register_hook(lambda g: g * 2.0)
    loss.backward()
    np.testing.assert_allclose(h.grad, 2 * 2 * h.data, rtol=1e-12)  # hooks run first
    assert h.retains_grad and not x.retains_grad
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        gdlab.tensor(A).register_hook(lambda g: g)


def test_module_forward_hooks_record_and_replace_as_torch():
    layer = gdlab.nn.Linear(4, 2)
    tlayer = torch.nn.Linear(4, 2).double()
    with torch.no_grad():
        tlayer.weight.copy_(torch.tensor(layer.weight.data, dtype=torch.float64))
        tlayer.bias.copy_(torch.tensor(layer.bias.data, dtype=torch.float64))
    layer.double()
    acts, tacts = [], []
    pre = layer.register_forward_pre_hook(lambda m, args: (args[0] * 2.0,))
    post = layer.register_forward_hook(lambda m, args, out: acts.append(out.data.copy()))
    tlayer.register_forward_pre_hook(lambda m, args: (args[0] * 2.0,))
    tlayer.register_forward_hook(lambda m, args, out: tacts.append(out.detach().numpy().copy()))
    out = layer(gdlab.tensor(A))
    tout = tlayer(torch.tensor(A))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(acts[0], tacts[0], rtol=1e-12)
    pre.remove()
    post.remove()
    layer(gdlab.tensor(A))
    assert len(acts) == 1
    replaced = layer.register_forward_hook(lambda m, args, out: out * 0.0)
    np.testing.assert_array_equal(layer(gdlab.tensor(A)).data, 0.0)
    replaced.remove()
