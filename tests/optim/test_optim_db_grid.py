"""torch's optimizer option grid (``common_optimizers.optim_db``), step by step in float64.

For every optimizer gdlab has, every ``OptimizerInput`` torch's own tests use
(``optim_inputs_func``: default, non-default lr, Tensor lr, weight_decay, maximize, amsgrad,
nesterov, centered, lr_decay, strong_wolfe, ...) runs 20 steps on the same float64 problem in
torch and in gdlab, each library computing its own gradients; the parameters must agree after
every step to rtol 1e-7. SparseAdam's rows run on an ``Embedding(sparse=True)`` problem (the
same tanh regression on looked-up rows, with repeated indices and a padding row): torch's
SparseAdam takes sparse gradients only.

The problem is a small tanh regression with a quartic and a ridge term: smooth, bounded below
and well enough conditioned that torch agrees with itself under a 1e-15 perturbation to ~1e-11
(L-BFGS included), so a difference here is a difference of arithmetic, not of chaos. With
``maximize=True`` the objective is negated: the same trajectory through the maximize path.

Documented difference (torch's float32 scalars): with torch's default dtype float32, torch
keeps NAdam's ``mu_product`` and ASGD's ``eta``/``mu`` in float32 tensors even for float64
parameters, and does Muon's lr arithmetic (1 − lr·λ, lr·√(A/B)) in the dtype of a Tensor lr.
gdlab computes these in float64. Measured on this problem over 20 steps (largest difference,
relative to |θ| + 1e-5): ASGD 1.3e-6, NAdam 9e-8, Muon with ``lr=torch.tensor(0.001)`` 3.5e-7.
With ``torch.set_default_dtype(torch.float64)`` (torch's scalars in float64) they agree to
1e-13; the grid runs those rows that way, and ``test_torch_float32_scalars_difference`` keeps
the measured numbers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("expecttest")  # torch.testing._internal imports it
from torch.testing._internal.common_optimizers import optim_db  # noqa: E402

import gdlab  # noqa: E402
from gdlab import optim  # noqa: E402
from gdlab.nn import Parameter  # noqa: E402

STEPS = 20
RTOL = 1e-7
FLOOR = 1e-5  # |θ| below this counts as this (an absolute tolerance of RTOL·FLOOR = 1e-12)
TORCH_FLOAT32_SCALARS = {"ASGD", "NAdam"}  # all their rows; Muon's only with a Tensor lr

_rng = np.random.default_rng(0)
X = _rng.standard_normal((8, 4))
Y = _rng.standard_normal((8, 3))
INIT = (_rng.standard_normal((4, 3)) * 0.5, _rng.standard_normal((1, 3)) * 0.5,
        _rng.standard_normal(3) * 0.5)  # fmt: skip
RIDGE = 0.05


def objective(x: Any, y: Any, w: Any, b: Any, v: Any, tanh: Any, ridge: float = RIDGE) -> Any:
    """Written once for both libraries (their Tensors share these operators)."""
    h = tanh(x @ w + b)
    penalty = (w**2).sum() + (b**2).sum() + (v**2).sum()
    fit = ((h - y) ** 2).mean() + 0.1 * (w**4).sum() + ((h.sum(0) * v) ** 2).sum()
    return fit + ridge * penalty


class Case(NamedTuple):
    name: str  # optimizer class name, in torch and in gdlab
    desc: str
    kwargs: dict[str, Any]


@contextlib.contextmanager
def torch_default_dtype(dtype: Any) -> Iterator[None]:
    old = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def _float64_scalars(name: str, kwargs: dict[str, Any]) -> bool:
    return name in TORCH_FLOAT32_SCALARS or isinstance(kwargs.get("lr"), torch.Tensor)


def _cases() -> list[Case]:
    cases = []
    for info in optim_db:
        name = info.optim_cls.__name__
        if not hasattr(optim, name):
            continue
        for inp in info.optim_inputs_func(device="cpu", dtype=torch.float64):
            cases.append(Case(name, inp.desc, inp.kwargs))
    return cases


CASES = _cases()


def _gdlab_value(v: Any) -> Any:
    if isinstance(v, torch.Tensor):
        return gdlab.tensor(v.numpy(), dtype=v.numpy().dtype)
    return v


def trajectories(case: Case, kwargs: dict[str, Any]) -> tuple[list, list]:
    """The flattened parameters after each of STEPS steps: (torch's, gdlab's)."""
    init = INIT[:2] if case.name == "Muon" else INIT  # Muon takes matrices only
    t_params = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in init]
    g_params = [Parameter(a.copy()) for a in init]
    t_opt = getattr(torch.optim, case.name)(t_params, **kwargs)
    g_opt = getattr(optim, case.name)(g_params, **{k: _gdlab_value(v) for k, v in kwargs.items()})
    sign = -1.0 if kwargs.get("maximize") else 1.0
    tx, ty, gx, gy = torch.from_numpy(X), torch.from_numpy(Y), gdlab.tensor(X), gdlab.tensor(Y)
    v_t = t_params[2] if len(t_params) > 2 else torch.zeros(3, dtype=torch.float64)
    v_g = g_params[2] if len(g_params) > 2 else gdlab.zeros(3, dtype=np.float64)

    def t_closure() -> Any:
        t_opt.zero_grad()
        loss = sign * objective(tx, ty, t_params[0], t_params[1], v_t, torch.tanh)
        loss.backward()
        return loss

    def g_closure() -> Any:
        g_opt.zero_grad()
        loss = sign * objective(gx, gy, g_params[0], g_params[1], v_g, gdlab.tanh)
        loss.backward()
        return loss

    t_path, g_path = [], []
    for _ in range(STEPS):
        if case.name == "LBFGS":
            t_opt.step(t_closure)
            g_opt.step(g_closure)
        else:
            t_closure()
            g_closure()
            t_opt.step()
            g_opt.step()
        t_path.append(np.concatenate([p.detach().numpy().ravel() for p in t_params]))
        g_path.append(np.concatenate([p.data.ravel() for p in g_params]))
    return t_path, g_path


BATCHES = _rng.integers(0, 8, size=(STEPS, 6, 2))  # rows of a (10, 4) table; 8, 9 unused
TABLE = _rng.standard_normal((10, 4)) * 0.5
PADDING_IDX = 5


def sparse_trajectories(case: Case, kwargs: dict[str, Any]) -> tuple[list, list]:
    """SparseAdam on an embedding: the looked-up rows, summed over each pair, through the
    tanh regression of ``objective`` with the head fixed."""
    t_emb = torch.nn.Embedding(10, 4, PADDING_IDX, sparse=True, _weight=torch.tensor(TABLE))
    g_emb = gdlab.nn.Embedding(10, 4, PADDING_IDX, sparse=True, _weight=TABLE.copy())
    t_opt = getattr(torch.optim, case.name)(t_emb.parameters(), **kwargs)
    g_kwargs = {k: _gdlab_value(v) for k, v in kwargs.items()}
    g_opt = getattr(optim, case.name)(g_emb.parameters(), **g_kwargs)
    sign = -1.0 if kwargs.get("maximize") else 1.0
    w, b, v = INIT
    ty, gy = torch.from_numpy(Y[:6]), gdlab.tensor(Y[:6])
    t_path, g_path = [], []
    for idx in BATCHES:
        t_opt.zero_grad()
        g_opt.zero_grad()
        tx = t_emb(torch.from_numpy(idx)).sum(1)
        gx = g_emb(idx).sum(1)
        (sign * objective(tx, ty, torch.tensor(w), torch.tensor(b), torch.tensor(v),
                          torch.tanh)).backward()  # fmt: skip
        (sign * objective(gx, gy, gdlab.tensor(w), gdlab.tensor(b), gdlab.tensor(v),
                          gdlab.tanh)).backward()  # fmt: skip
        t_opt.step()
        g_opt.step()
        t_path.append(t_emb.weight.detach().numpy().ravel().copy())
        g_path.append(g_emb.weight.data.ravel().copy())
    return t_path, g_path


def max_difference(case: Case, float64_scalars: bool) -> float:
    dtype = torch.float64 if float64_scalars else torch.float32
    with torch_default_dtype(dtype):
        # optim_inputs_func builds Tensor lrs in the default dtype: rebuild them under it
        kwargs = {k: torch.tensor(v.item()) if isinstance(v, torch.Tensor) else v
                  for k, v in case.kwargs.items()}  # fmt: skip
        run = sparse_trajectories if case.name == "SparseAdam" else trajectories
        t_path, g_path = run(case, kwargs)
    return max(float(np.max(np.abs(g - t) / (np.abs(t) + FLOOR)))
               for t, g in zip(t_path, g_path, strict=True))  # fmt: skip


def test_grid_covers_every_optimizer_gdlab_has():
    names = {c.name for c in CASES}
    assert len(CASES) == 91 and "SparseAdam" in names  # torch 2.13
    assert {"LBFGS", "Muon", "Adafactor", "NAdam", "ASGD"} <= names


@pytest.mark.parametrize("case", CASES, ids=[f"{c.name}-{c.desc}" for c in CASES])
def test_optimizer_matches_torch_for_20_float64_steps(case):
    diff = max_difference(case, _float64_scalars(case.name, case.kwargs))
    assert diff <= RTOL, f"{case.name} ({case.desc}): {diff:.2e}"


FLOAT32_SCALARS = [  # optimizer, desc, the measured difference's bounds (see the docstring)
    ("ASGD", "default", 1e-7, 1e-5),
    ("NAdam", "default", 1e-9, 1e-6),
    ("Muon", "Tensor lr", 1e-8, 1e-5),
]


@pytest.mark.parametrize("name, desc, low, high", FLOAT32_SCALARS)
def test_torch_float32_scalars_difference(name, desc, low, high):
    """torch's float32 internal scalars move it by this much from the float64 formula."""
    (case,) = [c for c in CASES if c.name == name and c.desc == desc]
    assert low < max_difference(case, float64_scalars=False) < high
    assert max_difference(case, float64_scalars=True) < 1e-12


# ---------------------------------------------------------------- L-BFGS, step by step
def _lbfgs_torch(kwargs: dict[str, Any], perturbation: float = 0.0) -> tuple[list, list]:
    params = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in INIT]
    with torch.no_grad():
        params[0][0, 0] += perturbation
    opt = torch.optim.LBFGS(params, **kwargs)
    x, y = torch.from_numpy(X), torch.from_numpy(Y)

    def closure() -> Any:
        opt.zero_grad()
        loss = objective(x, y, *params, torch.tanh, ridge=0.0)
        loss.backward()
        return loss

    path, counts = [], []
    for _ in range(STEPS):
        opt.step(closure)
        state = opt.state[params[0]]
        counts.append((state["func_evals"], state["n_iter"], float(state["t"])))
        path.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
    return path, counts


def _lbfgs_gdlab(kwargs: dict[str, Any]) -> tuple[list, list]:
    params = [Parameter(a.copy()) for a in INIT]
    opt = optim.LBFGS(params, **kwargs)
    x, y = gdlab.tensor(X), gdlab.tensor(Y)

    def closure() -> Any:
        opt.zero_grad()
        loss = objective(x, y, *params, gdlab.tanh, ridge=0.0)
        loss.backward()
        return loss

    path, counts = [], []
    for _ in range(STEPS):
        opt.step(closure)
        state = opt.state[params[0]]
        counts.append((state["func_evals"], state["n_iter"], float(state["t"])))
        path.append(np.concatenate([p.data.ravel() for p in params]))
    return path, counts


@pytest.mark.parametrize(
    "kwargs", [{"line_search_fn": "strong_wolfe"}, {"lr": 0.01}, {}], ids=["strong_wolfe",
                                                                         "lr0.01", "default"]
)  # fmt: skip
def test_lbfgs_step_by_step_on_an_ill_conditioned_problem(kwargs):
    """Without the ridge the problem is chaotic for L-BFGS: torch moves by up to 6.8e-6 from
    itself when one coordinate is perturbed by 1e-15. gdlab must take the same number of
    evaluations and iterations with the same step lengths at every step, and stay within
    twice that control of torch (measured: strong-Wolfe 3.4e-6 against a control of 6.8e-6,
    lr=0.01 1.3e-7 against 1.3e-7, default 3.1e-14 against 1.6e-14)."""
    want, want_counts = _lbfgs_torch(kwargs)
    control, _ = _lbfgs_torch(kwargs, perturbation=1e-15)
    got, got_counts = _lbfgs_gdlab(kwargs)
    for step, (g, w) in enumerate(zip(got_counts, want_counts, strict=True)):
        assert g[:2] == w[:2], f"step {step}: (func_evals, n_iter) {g[:2]} != torch's {w[:2]}"
        assert g[2] == pytest.approx(w[2], rel=1e-6), f"step {step}: t"
    drift = max(float(np.abs(g - w).max()) for g, w in zip(got, want, strict=True))
    noise = max(float(np.abs(c - w).max()) for c, w in zip(control, want, strict=True))
    assert drift <= 2 * max(noise, 1e-12), f"gdlab drifts {drift:.1e}, torch's control {noise:.1e}"
