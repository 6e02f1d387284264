"""Trajectories equal torch.optim's step by step (float64, rtol 1e-9) for every optimizer x option.

Both frameworks get the same NumPy gradients, so only the optimizers are under test. Every run
has two param groups (the second with other options), a non-contiguous parameter, a zero-size
parameter, a parameter whose grad is None at some steps, and a state_dict save/load in the
middle for gdlab (the resumed run must equal torch's uninterrupted one).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from optim_problems import SHAPES, initial_values, loss_and_grads  # noqa: E402

from gdlab import optim  # noqa: E402
from gdlab.nn import Parameter  # noqa: E402
from tolerances import RTOL_TORCH  # noqa: E402

STEPS = 50
RESUME_AT = 23

# (name, class name, kwargs of group 0, overrides of group 1)
CASES = [
    ("sgd", "SGD", dict(lr=0.05), dict(lr=0.02)),
    ("sgd_momentum", "SGD", dict(lr=0.02, momentum=0.9), dict(momentum=0.5, dampening=0.3)),
    ("sgd_nesterov_wd", "SGD", dict(lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.1),
     dict(weight_decay=0.0)),
    ("sgd_maximize", "SGD", dict(lr=0.02, momentum=0.8, maximize=True), dict(maximize=False)),
    ("adam", "Adam", dict(lr=0.03), dict(lr=0.01, betas=(0.8, 0.99))),
    ("adam_amsgrad_wd", "Adam", dict(lr=0.03, amsgrad=True, weight_decay=0.1),
     dict(amsgrad=False)),
    ("adam_decoupled_max", "Adam", dict(lr=0.03, decoupled_weight_decay=True, weight_decay=0.2,
     maximize=True), dict(maximize=False, eps=1e-3)),
    ("adamw", "AdamW", dict(lr=0.03), dict(weight_decay=0.5, amsgrad=True)),
    ("adagrad", "Adagrad", dict(lr=0.1), dict(lr_decay=0.01, weight_decay=0.1)),
    ("adagrad_init_acc", "Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6,
     maximize=True), dict(lr=0.05)),
    ("rmsprop", "RMSprop", dict(lr=0.01), dict(alpha=0.9, weight_decay=0.1)),
    ("rmsprop_centered_mom", "RMSprop", dict(lr=0.01, centered=True, momentum=0.9),
     dict(centered=False, maximize=True)),
    ("adadelta", "Adadelta", dict(lr=1.0), dict(rho=0.5, weight_decay=0.1)),
    ("adadelta_max", "Adadelta", dict(lr=0.5, rho=0.95, eps=1e-4, maximize=True), dict()),
    ("adamax", "Adamax", dict(lr=0.02), dict(betas=(0.5, 0.9), weight_decay=0.1)),
    ("nadam", "NAdam", dict(lr=0.02), dict(momentum_decay=0.01, weight_decay=0.1)),
    ("nadam_decoupled", "NAdam", dict(lr=0.02, weight_decay=0.1, decoupled_weight_decay=True,
     maximize=True), dict(maximize=False)),
    ("radam", "RAdam", dict(lr=0.02), dict(betas=(0.9, 0.9), weight_decay=0.1)),
    ("radam_decoupled", "RAdam", dict(lr=0.02, weight_decay=0.1, decoupled_weight_decay=True),
     dict(maximize=True)),
    ("asgd", "ASGD", dict(lr=0.05), dict(lambd=0.01, alpha=0.5, t0=10, weight_decay=0.1)),
    ("asgd_t0", "ASGD", dict(lr=0.05, t0=5, maximize=True), dict(lr=0.01)),
    ("rprop", "Rprop", dict(lr=0.01), dict(etas=(0.3, 1.5), step_sizes=(1e-3, 0.05))),
    ("rprop_max", "Rprop", dict(lr=0.02, maximize=True), dict()),
    ("adafactor", "Adafactor", dict(lr=0.02), dict(beta2_decay=-0.5, d=2.0, weight_decay=0.1)),
    ("adafactor_eps", "Adafactor", dict(lr=0.05, eps=(1e-20, 1e-2), maximize=True), dict()),
]  # fmt: skip


@pytest.fixture(autouse=True)
def _torch_float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # torch's scalar state (ASGD's eta) in float64
    yield
    torch.set_default_dtype(old)


def _gd_params(values):
    params = []
    for i, v in enumerate(values):
        data = np.asfortranarray(v.copy()) if i == 0 else v.copy()  # a non-contiguous param
        params.append(Parameter(data))
    return params


def _groups(params, kw0, kw1):
    return [{"params": params[:2] + params[3:]}, {"params": [params[2]], **kw1}], kw0


def _negated(kw0, kw1, n):
    """Params whose group maximizes: fed −∇f so that they follow the same path (no blow-up)."""
    maximize = [kw0.get("maximize"), kw1.get("maximize", kw0.get("maximize"))]
    return [i for i in range(n) if maximize[i == 2]]


def _set_grads(step, gd, th, negate=()):
    _, grads = loss_and_grads([p.data for p in gd])
    for i in negate:  # maximize on −f must follow the same path as minimize on f
        grads[i] = -grads[i]
    for i, (p, q, g) in enumerate(zip(gd, th, grads, strict=True)):
        if i == 2 and step % 7 == 3:  # this parameter gets no gradient at some steps
            p.grad, q.grad = None, None
        else:
            p.grad = g.copy()
            q.grad = torch.from_numpy(g.copy())


FUSABLE = {"SGD", "Adam", "AdamW"}  # optimizers with a fused (numba) kernel
FUSED_CASES = [c for c in CASES if c[1] in FUSABLE]


@pytest.mark.parametrize("name, cls, kw0, kw1", CASES, ids=[c[0] for c in CASES])
def test_trajectory_matches_torch(name, cls, kw0, kw1):
    """The NumPy rules (``fused=False`` where a fused kernel exists)."""
    _check_trajectory(name, cls, kw0, kw1, dict(fused=False) if cls in FUSABLE else {})


@pytest.mark.parametrize("name, cls, kw0, kw1", FUSED_CASES, ids=[c[0] for c in FUSED_CASES])
def test_fused_trajectory_matches_torch(name, cls, kw0, kw1):
    """The numba kernels (param 0 is Fortran-ordered with C-ordered grads: NumPy for it)."""
    pytest.importorskip("numba")
    _check_trajectory(name, cls, kw0, kw1, dict(fused=True))


def _check_trajectory(name, cls, kw0, kw1, gd_extra):
    shapes = SHAPES[:3] if cls == "Adafactor" else SHAPES  # torch's Adafactor fails on size 0
    values = initial_values(1, shapes)
    negate = _negated(kw0, kw1, len(shapes))
    gd = _gd_params(values)
    th = [torch.tensor(v, requires_grad=True) for v in values]
    gd_groups, kw = _groups(gd, kw0, kw1)
    th_groups, _ = _groups(th, kw0, kw1)
    opt = getattr(optim, cls)(gd_groups, **kw, **gd_extra)
    topt = getattr(torch.optim, cls)(th_groups, **kw)
    for step in range(STEPS):
        _set_grads(step, gd, th, negate)
        opt.step()
        topt.step()
        if step == RESUME_AT:  # resume from a state dict in a fresh optimizer
            saved = copy.deepcopy(opt.state_dict())
            opt = getattr(optim, cls)(_groups(gd, kw0, kw1)[0], **kw, **gd_extra)
            opt.load_state_dict(saved)
        for p, q in zip(gd, th, strict=True):
            assert np.isfinite(p.data).all(), f"{name} diverged at step {step}"
            np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=RTOL_TORCH, atol=1e-12,
                                       err_msg=f"{name} step {step}")  # fmt: skip
    _assert_same_layout(opt.state_dict(), topt.state_dict())


GDLAB_EXTENSIONS = {"eps_hat", "eps_in_sqrt", "ns_dtype"}


def _assert_same_layout(ours, theirs):
    """Same state keys per parameter, same group keys (besides gdlab's extensions)."""
    assert ours["state"].keys() == theirs["state"].keys()
    for k in ours["state"]:
        assert ours["state"][k].keys() == theirs["state"][k].keys(), k
    for g, h in zip(ours["param_groups"], theirs["param_groups"], strict=True):
        assert set(g) - GDLAB_EXTENSIONS == set(h)
        assert g["params"] == h["params"]


def test_muon_matches_torch_to_bfloat16_precision():
    rng = np.random.default_rng(3)
    values = [rng.normal(size=(4, 6)), rng.normal(size=(5, 3))]
    gd = [Parameter(v.copy()) for v in values]
    th = [torch.tensor(v, requires_grad=True) for v in values]
    kw = dict(lr=0.02, weight_decay=0.1)

    def groups(ps):
        return [
            {"params": [ps[0]]},
            {
                "params": [ps[1]],
                "nesterov": False,
                "adjust_lr_fn": "match_rms_adamw",
            },
        ]

    opt, topt = optim.Muon(groups(gd), **kw), torch.optim.Muon(groups(th), **kw)
    for _ in range(10):
        grads = [np.sin(3 * p.data) + p.data for p in gd]
        for p, q, g in zip(gd, th, grads, strict=True):
            p.grad, q.grad = g, torch.from_numpy(g.copy())
        opt.step()
        topt.step()
        for p, q in zip(gd, th, strict=True):  # the Newton-Schulz iteration runs in bfloat16
            np.testing.assert_allclose(p.data, q.detach().numpy(), atol=2e-3 * kw["lr"])


def _rosen_closure(params, grads_setter):
    def closure():
        values = [p.data if isinstance(p, Parameter) else p.detach().numpy() for p in params]
        f, grads = loss_and_grads(values)
        grads_setter(grads)
        return f

    return closure


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("kw", [dict(), dict(history_size=3, max_iter=7, lr=0.5)])
def test_lbfgs_matches_torch(line_search_fn, kw):
    values = initial_values(2, SHAPES[:3])
    gd = [Parameter(v.copy()) for v in values]
    th = [torch.tensor(v, requires_grad=True) for v in values]
    opt = optim.LBFGS(gd, line_search_fn=line_search_fn, **kw)
    topt = torch.optim.LBFGS(th, line_search_fn=line_search_fn, **kw)

    def gd_set(grads):
        for p, g in zip(gd, grads, strict=True):
            p.grad = g.copy()

    def th_set(grads):
        for q, g in zip(th, grads, strict=True):
            q.grad = torch.from_numpy(g.copy())

    for _ in range(4):
        loss = opt.step(_rosen_closure(gd, gd_set))
        tloss = topt.step(_rosen_closure(th, th_set))
        assert loss == pytest.approx(float(tloss), rel=1e-9)
        for p, q in zip(gd, th, strict=True):
            np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-8, atol=1e-10)
    assert opt.state[gd[0]]["func_evals"] == topt.state[th[0]]["func_evals"]
    assert opt.state[gd[0]]["n_iter"] == topt.state[th[0]]["n_iter"]


@pytest.mark.parametrize("name, cls, kw0, kw1", CASES[:8:3], ids=[c[0] for c in CASES[:8:3]])
def test_torch_state_dict_loads_into_gdlab(name, cls, kw0, kw1):
    values = initial_values(1)
    gd = _gd_params(values)
    th = [torch.tensor(v, requires_grad=True) for v in values]
    topt = getattr(torch.optim, cls)(_groups(th, kw0, kw1)[0], **kw0)
    negate = _negated(kw0, kw1, len(values))
    for step in range(5):
        _set_grads(step, gd, th, negate)
        topt.step()
    for p, q in zip(gd, th, strict=True):
        p.data[...] = q.detach().numpy()
    opt = getattr(optim, cls)(_groups(gd, kw0, kw1)[0], **kw0)
    opt.load_state_dict(topt.state_dict())
    _continue_both(gd, th, opt, topt, negate)


def _continue_both(gd, th, opt, topt, negate):
    """Five more steps of both optimizers from the transferred state: equal trajectories."""
    for step in range(5, 10):
        _set_grads(step, gd, th, negate)
        opt.step()
        topt.step()
    for p, q in zip(gd, th, strict=True):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=RTOL_TORCH, atol=1e-12)


def _to_torch(value):
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy())
    if isinstance(value, dict):
        return {k: _to_torch(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_torch(v) for v in value]
    return value


@pytest.mark.parametrize("name, cls, kw0, kw1", CASES[::4], ids=[c[0] for c in CASES[::4]])
def test_gdlab_state_dict_loads_into_torch(name, cls, kw0, kw1):
    """gdlab -> torch needs only arrays turned into tensors (torch makes ``step`` a tensor)."""
    shapes = SHAPES[:3] if cls == "Adafactor" else SHAPES
    values = initial_values(1, shapes)
    gd = _gd_params(values)
    th = [torch.tensor(v, requires_grad=True) for v in values]
    opt = getattr(optim, cls)(_groups(gd, kw0, kw1)[0], **kw0)
    negate = _negated(kw0, kw1, len(shapes))
    for step in range(5):
        _set_grads(step, gd, th, negate)
        opt.step()
    for p, q in zip(gd, th, strict=True):
        q.data.copy_(torch.from_numpy(np.ascontiguousarray(p.data)))
    topt = getattr(torch.optim, cls)(_groups(th, kw0, kw1)[0], **kw0)
    saved = opt.state_dict()
    saved = {
        "state": _to_torch(saved["state"]),
        "param_groups": [
            {k: v for k, v in g.items() if k not in GDLAB_EXTENSIONS} for g in saved["param_groups"]
        ],
    }
    topt.load_state_dict(saved)
    _continue_both(gd, th, opt, topt, negate)


def test_torch_state_dict_with_execution_flags_loads_into_gdlab():
    """A torch checkpoint saved with capturable/foreach still loads; the flags keep gdlab's
    values (they choose a code path, not the math)."""
    values = initial_values(1)
    gd = _gd_params(values)
    th = [torch.tensor(v, requires_grad=True) for v in values]
    topt = torch.optim.Adam(th, lr=0.03, foreach=True)
    for step in range(3):
        _set_grads(step, gd, th)
        topt.step()
    for p, q in zip(gd, th, strict=True):
        p.data[...] = q.detach().numpy()
    saved = copy.deepcopy(topt.state_dict())
    saved["param_groups"][0]["capturable"] = True  # as saved on a GPU (torch refuses it on CPU)
    opt = optim.Adam(gd, lr=0.03)
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["capturable"] is False and opt.param_groups[0]["foreach"] is None
    _continue_both(gd, th, opt, topt, negate=())
