"""examples/gradient_penalty.py and examples/maml_sine.py: the same computation written in
torch (double backward through torch.autograd.grad) gives the same numbers, step by step."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------ gradient penalty
def _torch_gradient_penalty(ex, steps, lr, lam, seed):
    x, y = ex.make_data(seed)
    params = [torch.tensor(p.detach().numpy(), requires_grad=True) for p in ex.init_params(seed)]
    yt = torch.from_numpy(y)
    losses, penalties = [], []
    for _ in range(steps):
        xt = torch.tensor(x, requires_grad=True)
        w1, b1, w2, b2 = params
        out = torch.tanh(xt @ w1.T + b1) @ w2.T + b2
        (gx,) = torch.autograd.grad(out.sum(), xt, create_graph=True)
        penalty = (gx * gx).sum(dim=1).mean()
        loss = ((out - yt) ** 2).mean() + lam * penalty
        gs = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, gs, strict=True):
                p -= lr * g
        losses.append(loss.item())
        penalties.append(penalty.item())
    return losses, penalties, [p.detach().numpy() for p in params]


@pytest.mark.parametrize("lam", [0.0, 0.1, 1.0])
def test_gradient_penalty_equals_torch(lam):
    ex = _load("gradient_penalty")
    ours = ex.train(30, 0.05, lam, seed=3)
    losses, penalties, params = _torch_gradient_penalty(ex, 30, 0.05, lam, seed=3)
    np.testing.assert_allclose(ours["loss"], losses, rtol=1e-11)
    np.testing.assert_allclose(ours["penalty"], penalties, rtol=1e-10)
    for a, b in zip(ours["params"], params, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


def test_gradient_penalty_flattens_the_fit():
    """The penalty does its job: after training, a larger λ leaves a smaller input gradient."""
    ex = _load("gradient_penalty")
    final = [ex.train(150, 0.05, lam, seed=0)["penalty"][-1] for lam in (0.0, 1.0)]
    assert final[1] < 0.5 * final[0]


def test_gradient_penalty_main_prints(capsys):
    _load("gradient_penalty").main(["--steps", "3", "--every", "1"])
    assert "penalty" in capsys.readouterr().out


# ------------------------------------------------------------------ MAML
def _torch_maml(ex, meta_steps, n_tasks, k, inner_lr, outer_lr, seed):
    rng = np.random.default_rng(seed)
    params = [torch.nn.Parameter(torch.from_numpy(p.data.copy())) for p in ex.init_params(seed)]
    opt = torch.optim.Adam(params, lr=outer_lr)

    def forward(ps, x):
        w1, b1, w2, b2, w3, b3 = ps
        h = torch.tanh(torch.tanh(x @ w1.T + b1) @ w2.T + b2)
        return h @ w3.T + b3

    def mse(ps, x, y):
        return ((forward(ps, torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).mean()

    losses = []
    for _ in range(meta_steps):
        opt.zero_grad()
        per_task = []
        for t in ex.sample_tasks(rng, n_tasks, k):
            gs = torch.autograd.grad(mse(params, t.x_support, t.y_support), params,
                                     create_graph=True)  # fmt: skip
            adapted = [p - inner_lr * g for p, g in zip(params, gs, strict=True)]
            per_task.append(mse(adapted, t.x_query, t.y_query))
        loss = sum(per_task[1:], per_task[0]) / len(per_task)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.detach().numpy() for p in params]


def test_maml_equals_torch():
    ex = _load("maml_sine")
    ours = ex.train(8, n_tasks=3, k=5, inner_lr=0.05, outer_lr=1e-2, seed=1)
    losses, params = _torch_maml(ex, 8, 3, 5, 0.05, 1e-2, seed=1)
    np.testing.assert_allclose(ours["meta_loss"], losses, rtol=1e-10)
    for a, b in zip(ours["params"], params, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_maml_meta_gradient_contains_the_hessian_term():
    """Second-order MAML differs from first-order MAML (the inner gradient detached): the
    Hessian term is really differentiated (checked against torch above)."""
    import gdlab
    from gdlab.autograd import grad

    ex = _load("maml_sine")
    params = ex.init_params(0)
    task = ex.sample_tasks(np.random.default_rng(0), 1, 5)[0]
    second = grad(ex.mse(ex.adapt(params, task, 0.05), task.x_query, task.y_query), params)
    adapted = [p - 0.05 * gdlab.tensor(np.asarray(g)) for p, g in
               zip(params, grad(ex.mse(params, task.x_support, task.y_support), params),
                   strict=True)]  # fmt: skip
    first = grad(ex.mse(adapted, task.x_query, task.y_query), params)
    assert max(np.abs(a - b).max() for a, b in zip(second, first, strict=True)) > 1e-6


def test_maml_main_prints(capsys):
    _load("maml_sine").main(["--meta-steps", "2", "--every", "1", "--tasks", "2", "--k", "3"])
    assert "meta-step" in capsys.readouterr().out
