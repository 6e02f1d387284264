"""nn.functional extras against torch (one_hot, pad, batch_norm with running statistics,
embedding, dropout arguments), BatchNorm's cumulative average (momentum=None) over several
steps, and float32 kept float32 through every layer of the parity table."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from test_layers_vs_torch import CASES  # noqa: E402

import gdlab  # noqa: E402
import gdlab.nn as gnn  # noqa: E402
import gdlab.nn.functional as F  # noqa: E402

TF = torch.nn.functional


def test_one_hot_and_pad_match_torch():
    idx = np.array([[0, 3], [2, 1]])
    np.testing.assert_array_equal(F.one_hot(idx).data, TF.one_hot(torch.tensor(idx)).numpy())
    assert F.one_hot(idx, num_classes=6).shape == (2, 2, 6)
    assert F.one_hot(idx).dtype == np.int64
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(
        F.pad(gdlab.tensor(x), (1, 2, 0, 1), value=-1.0).data,
        TF.pad(torch.tensor(x), (1, 2, 0, 1), value=-1.0).numpy(),
    )
    with pytest.raises(NotImplementedError, match="mirror"):
        F.pad(gdlab.tensor(x), (1, 1), mode="mirror")


def test_functional_batch_norm_updates_running_stats_like_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3, 2))
    rm, rv = np.zeros(3), np.ones(3)
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    out = F.batch_norm(gdlab.tensor(x), rm, rv, gdlab.tensor(w), gdlab.tensor(b), True, 0.2)
    ref = TF.batch_norm(torch.tensor(x), trm, trv, torch.tensor(w), torch.tensor(b), True, 0.2)
    np.testing.assert_allclose(out.data, ref.numpy(), rtol=1e-10)
    np.testing.assert_allclose(rm, trm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv, trv.numpy(), rtol=1e-12)
    ev = F.batch_norm(gdlab.tensor(x), rm, rv, training=False)
    np.testing.assert_allclose(ev.data, TF.batch_norm(torch.tensor(x), trm, trv).numpy())


@pytest.mark.parametrize("momentum", [None, 0.5])
def test_batchnorm_running_stats_over_several_steps(momentum):
    rng = np.random.default_rng(1)
    g, t = (
        gnn.BatchNorm1d(3, momentum=momentum).double(),
        torch.nn.BatchNorm1d(3, momentum=momentum).double(),
    )
    for _ in range(4):
        x = rng.standard_normal((6, 3)) * 2 + 1
        g(gdlab.tensor(x))
        t(torch.tensor(x))
    for name, buf in t.named_buffers():
        np.testing.assert_allclose(getattr(g, name).data, buf.numpy(), rtol=1e-12)
    g.eval()
    t.eval()
    x = rng.standard_normal((2, 3))
    np.testing.assert_allclose(g(gdlab.tensor(x)).data, t(torch.tensor(x)).detach().numpy())


def test_embedding_functional_padding_idx_gets_no_gradient():
    weight = gdlab.tensor(np.random.default_rng(0).standard_normal((5, 2)), requires_grad=True)
    idx = np.array([[0, 1, 1], [4, 0, 2]])
    F.embedding(idx, weight, padding_idx=1).sum().backward()
    np.testing.assert_array_equal(weight.grad[:, 0], [2, 0, 1, 0, 1])


def test_module_to_accepts_cpu():
    m = gnn.Linear(2, 2)
    assert m.to("cpu") is m and m.weight.dtype == np.float32
    assert m.to("cpu", dtype="float64").weight.dtype == np.float64


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_float32_stays_float32(case):
    _, name, args, kwargs, make_inputs, training = case
    rng = np.random.default_rng(0)
    module = getattr(gnn, name)(*args, **kwargs).train(training)
    inputs = [
        gdlab.tensor(a.astype(np.float32), requires_grad=True) if a.dtype.kind == "f" else a
        for a in make_inputs(rng)
        if not isinstance(a, tuple)
    ]
    out = module(*inputs)
    outs = out if isinstance(out, tuple) else (out,)
    first = outs[0]
    assert first.dtype == np.float32, name
    first.sum().backward()
    for p in module.parameters():
        assert p.grad is None or p.grad.dtype == np.float32
    for x in inputs:
        if isinstance(x, gdlab.Tensor):
            assert x.grad.dtype == np.float32
