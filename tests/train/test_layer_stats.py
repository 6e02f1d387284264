"""``train.LayerStats``: per-layer gradient norms and activation statistics recorded through
hooks, against values computed by hand for a tiny network and against torch's hooks on the
same network and weights; the hooks are gone when training ends."""

from __future__ import annotations

import numpy as np
import pytest

import gdlab
from gdlab import nn, optim, train
from gdlab.data import DataLoader, TensorDataset
from gdlab.train.layer_stats import SATURATION

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
X = RNG.normal(size=(5, 3))
Y = RNG.normal(size=(5, 1))
W0 = RNG.normal(size=(4, 3))
B0 = np.array([-20.0, 0.1, 0.2, -0.3])  # unit 0 of the ReLU is dead on every sample
W2 = RNG.normal(size=(4, 4)) * np.array([[8.0], [1.0], [1.0], [1.0]])  # tanh unit 0 saturates
B2 = RNG.normal(size=4)
W4 = RNG.normal(size=(1, 4))
B4 = RNG.normal(size=1)
WEIGHTS = [W0, B0, W2, B2, W4, B4]
NAMES = ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]


def _model(lib):
    m = lib.nn
    model = m.Sequential(m.Linear(3, 4), m.ReLU(), m.Linear(4, 4), m.Tanh(), m.Linear(4, 1))
    model = model.double()
    with lib.no_grad():
        for p, w in zip(model.parameters(), WEIGHTS, strict=True):
            p.copy_(lib.tensor(w))
    return model


def _by_hand() -> dict[str, float]:
    """The first step's records, the chain rule written out in NumPy (MSE, full batch)."""
    z1 = X @ W0.T + B0
    h1 = np.maximum(z1, 0)
    a2 = np.tanh(h1 @ W2.T + B2)
    out = a2 @ W4.T + B4
    d_out = 2 * (out - Y) / out.size
    d_a2 = d_out @ W4
    d_z2 = d_a2 * (1 - a2**2)
    d_h1 = d_z2 @ W2
    d_z1 = d_h1 * (z1 > 0)
    grads = [d_z1.T @ X, d_z1.sum(0), d_z2.T @ h1, d_z2.sum(0), d_out.T @ a2, d_out.sum(0)]
    norms = [float(np.sqrt((g**2).sum())) for g in grads]
    rec = {f"grad_norm/{n}": v for n, v in zip(NAMES, norms, strict=True)}
    rec |= {"act_mean/1": h1.mean(), "act_std/1": h1.std(ddof=1)}
    rec["act_dead/1"] = np.mean([np.all(h1[:, j] == 0) for j in range(4)])
    rec |= {"act_mean/3": a2.mean(), "act_std/3": a2.std(ddof=1)}
    rec["act_saturated/3"] = np.mean(np.abs(a2) > SATURATION)
    return rec


def _with_torch_hooks() -> dict[str, float]:
    """The same records from torch's hooks (register_hook, register_forward_hook)."""
    model = _model(torch)
    rec: dict[str, float] = {}
    for name, p in model.named_parameters():
        p.register_hook(lambda g, n=name: rec.__setitem__(f"grad_norm/{n}", float(g.norm())))
    for name in ("1", "3"):

        def hook(module, args, out, n=name):
            out = out.detach()
            rec[f"act_mean/{n}"], rec[f"act_std/{n}"] = float(out.mean()), float(out.std())
            if isinstance(module, torch.nn.ReLU):
                rec[f"act_dead/{n}"] = float((out == 0).all(0).double().mean())
            else:
                rec[f"act_saturated/{n}"] = float((out.abs() > SATURATION).double().mean())

        getattr(model, name).register_forward_hook(hook)
    torch.nn.functional.mse_loss(model(torch.tensor(X)), torch.tensor(Y)).backward()
    return rec


def _fit(model, callbacks, accumulate=1, batch_size=None, epochs=1):
    loader = DataLoader(TensorDataset(X, Y), batch_size=batch_size)
    opt = optim.SGD(model.parameters(), lr=0.1)
    trainer = train.Trainer(
        model, nn.MSELoss(), opt, loader, callbacks=callbacks, accumulate=accumulate
    )
    trainer.fit(epochs)
    return trainer


def test_records_match_hand_computed_values_and_torch_hooks():
    trainer = _fit(_model(gdlab), [train.LayerStats()])
    ours = {k: v[0] for k, v in trainer.history.steps.items() if "/" in k}
    hand, theirs = _by_hand(), _with_torch_hooks()
    assert set(ours) == set(hand) == set(theirs)
    assert hand["act_dead/1"] == 0.25 and 0 < hand["act_saturated/3"] < 1  # the kinks are hit
    for key, value in hand.items():
        np.testing.assert_allclose(ours[key], value, rtol=1e-12, atol=1e-15, err_msg=key)
        np.testing.assert_allclose(theirs[key], value, rtol=1e-12, atol=1e-15, err_msg=key)


def test_gradient_norms_equal_the_accumulated_grad_over_micro_batches():
    """Two micro-batches per step (3 + 2 samples): the hooks' contributions add up to the
    step's .grad, as an explicit loop computes it."""
    trainer = _fit(_model(gdlab), [train.LayerStats()], accumulate=2, batch_size=3)
    steps = trainer.history.steps
    assert len(steps["step"]) == 1
    hooks = [steps[f"grad_norm/{n}"][0] for n in NAMES]
    model = _model(gdlab)
    opt = optim.SGD(model.parameters(), lr=0.1)
    opt.zero_grad()
    for sl, w in ((slice(0, 3), 3 / 5), (slice(3, 5), 2 / 5)):
        (nn.MSELoss()(model(gdlab.tensor(X[sl])), gdlab.tensor(Y[sl])) * w).backward()
    expected = [float(np.linalg.norm(p.grad.data)) for p in model.parameters()]
    np.testing.assert_allclose(hooks, expected, rtol=1e-12)


def test_activation_stats_concatenate_the_step_micro_batches():
    trainer = _fit(_model(gdlab), [train.LayerStats()], accumulate=2, batch_size=3)
    h1 = np.maximum(X @ W0.T + B0, 0)
    np.testing.assert_allclose(trainer.history.steps["act_std/1"][0], h1.std(ddof=1), rtol=1e-12)


def _hook_counts(model) -> tuple[int, int]:
    forward = sum(len(m.__dict__.get("_forward_hooks", {})) for m in model.modules())
    grads = sum(len(p._hooks.hooks) if p._hooks is not None else 0 for p in model.parameters())
    return forward, grads


def test_hooks_are_removed_when_training_ends_or_fails():
    model = _model(gdlab)
    stats = train.LayerStats()
    _fit(model, [stats], epochs=2)
    assert _hook_counts(model) == (0, 0)

    class Boom(train.Callback):
        def on_batch_end(self, step, logs=None):
            assert _hook_counts(self.trainer.model) == (2, 6)  # while training: all there
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _fit(model, [train.LayerStats(), Boom()])
    assert _hook_counts(model) == (0, 0)
