"""The trajectory runner and fair tuning: paths equal torch.optim's, divergence is a result,
paths are saved as data, every optimizer gets the same learning-rate budget."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from gdlab.lab.optimizers import OPTIMIZERS
from gdlab.lab.search import lr_candidates
from gdlab.lab.surface.functions import get_function
from gdlab.lab.surface.trajectories import (
    Trajectory,
    load_trajectories,
    run_trajectory,
    save_trajectories,
)
from gdlab.lab.surface.tuning import compare_optimizers, jittered_starts, tune_lr

# short name -> (torch class, torch kwargs): the runner must move exactly like torch.optim
TORCH_TABLE = [
    ("sgd", "SGD", {"lr": 1e-3}),
    ("momentum", "SGD", {"lr": 1e-3, "momentum": 0.9}),
    ("nesterov", "SGD", {"lr": 1e-3, "momentum": 0.9, "nesterov": True}),
    ("adagrad", "Adagrad", {"lr": 0.1}),
    ("rmsprop", "RMSprop", {"lr": 0.01}),
    ("adadelta", "Adadelta", {"lr": 1.0}),
    ("adam", "Adam", {"lr": 0.05}),
    ("adamw", "AdamW", {"lr": 0.05}),
    ("nadam", "NAdam", {"lr": 0.05}),
    ("radam", "RAdam", {"lr": 1e-4}),  # un-adapted first steps: lr·m̂
    ("adamax", "Adamax", {"lr": 0.05}),
    ("rprop", "Rprop", {"lr": 0.01}),
    ("asgd", "ASGD", {"lr": 1e-3}),
    ("lbfgs", "LBFGS", {"lr": 1.0, "line_search_fn": "strong_wolfe"}),
]


def _torch_path(cls_name: str, kwargs: dict, start, steps: int) -> np.ndarray:
    torch = pytest.importorskip("torch")
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # ASGD keeps eta and mu in the default dtype
    try:
        opt = getattr(torch.optim, cls_name)([p], **kwargs)
        return _torch_steps(opt, p, steps)
    finally:
        torch.set_default_dtype(old)


def _torch_steps(opt, p, steps: int) -> np.ndarray:

    def closure():
        opt.zero_grad()
        x, y = p[0], p[1]
        loss = (1 - x) ** 2 + 100 * (y - x**2) ** 2
        loss.backward()
        return loss

    out = [p.detach().numpy().copy()]
    for _ in range(steps):
        opt.step(closure)
        out.append(p.detach().numpy().copy())
    return np.array(out)


@pytest.mark.parametrize(("name", "cls_name", "kwargs"), TORCH_TABLE)
def test_path_equals_torch_optim(name, cls_name, kwargs):
    steps = 5 if name == "lbfgs" else 25
    extra = {k: v for k, v in kwargs.items() if k != "lr" and k not in OPTIMIZERS[name].defaults}
    traj = run_trajectory("rosenbrock", name, (-1.2, 1.0), steps, kwargs["lr"], **extra)
    want = _torch_path(cls_name, kwargs, (-1.2, 1.0), steps)
    np.testing.assert_allclose(traj.points, want, rtol=1e-9, atol=1e-12)
    assert traj.optimizer == name and traj.settings["lr"] == kwargs["lr"]


def test_every_registered_optimizer_descends_on_the_bowl():
    for name in OPTIMIZERS:
        traj = run_trajectory("bowl", name, steps=30, lr=0.1 if name != "adadelta" else 1.0)
        assert traj.points.shape == (31, 2) and not traj.diverged
        assert traj.values[-1] < traj.values[0], name


def test_one_sgd_step_is_p_minus_lr_g():
    fn = get_function("booth")
    traj = run_trajectory(fn, "sgd", (0.5, -1.0), 1, lr=0.01)
    g = fn.gradient(0.5, -1.0)
    np.testing.assert_array_equal(traj.points[1], np.array([0.5, -1.0]) - 0.01 * g)
    assert traj.grad_norms[0] == pytest.approx(np.linalg.norm(g))
    assert traj.values[0] == pytest.approx(fn.grid(0.5, -1.0))


@pytest.mark.parametrize(("lr", "step"), [(3.0, 8), (1e300, 1)])
def test_divergence_is_a_result_not_a_crash(lr, step):
    traj = run_trajectory("ravine", "sgd", (-5, -2), 50, lr)
    assert traj.diverged and traj.diverged_step == step
    assert np.isnan(traj.points[step + 1 :]).all()
    assert np.isfinite(traj.valid_points).all() and len(traj.valid_points) >= step
    assert traj.final_value == math.inf and "diverged at step" in traj.label
    assert np.isfinite(traj.final_point).all()


def test_noisy_functions_are_reproducible_from_the_seed():
    a = run_trajectory("ravine_noisy", "sgd", steps=10, lr=0.1, seed=1)
    b = run_trajectory("ravine_noisy", "sgd", steps=10, lr=0.1, seed=1)
    c = run_trajectory("ravine_noisy", "sgd", steps=10, lr=0.1, seed=2)
    exact = run_trajectory("ravine", "sgd", steps=10, lr=0.1)
    np.testing.assert_array_equal(a.points, b.points)
    assert not np.allclose(a.points, c.points) and not np.allclose(a.points, exact.points)


def test_factory_instead_of_a_name():
    from gdlab.optim import SGD

    a = run_trajectory("bowl", SGD, steps=5, lr=0.1, momentum=0.5)
    b = run_trajectory("bowl", "sgd", steps=5, lr=0.1, momentum=0.5)
    np.testing.assert_array_equal(a.points, b.points)
    assert a.optimizer == "sgd" and a.settings == {"lr": 0.1, "momentum": 0.5}


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [({"optimizer": "adamz"}, ValueError, r"invalid optimizer: 'adamz' \(choose from 'sgd'"),
     ({"optimizer": 3}, TypeError, "must be a name or a callable"),
     ({"steps": -1}, ValueError, "steps must be a non-negative int"),
     ({"start": (1.0, 2.0, 3.0)}, ValueError, "start must be two finite numbers"),
     ({"start": (np.nan, 0.0)}, ValueError, "start must be two finite numbers"),
     ({"function": "nope"}, ValueError, "unknown function 'nope'")],
)  # fmt: skip
def test_bad_arguments(kwargs, error, match):
    args = {"function": "bowl", "optimizer": "sgd", "steps": 3, "lr": 0.1} | kwargs
    with pytest.raises(error, match=match):
        run_trajectory(**args)


def test_paths_saved_as_json_and_csv(tmp_path):
    runs = [run_trajectory("ravine", "sgd", steps=12, lr=lr) for lr in (0.4, 3.0)]
    js, cs = tmp_path / "paths.json", tmp_path / "paths.csv"
    save_trajectories(runs, js)
    save_trajectories(runs, cs)
    first = js.read_bytes()
    save_trajectories(runs, js)
    assert js.read_bytes() == first  # deterministic
    json.loads(first)  # strict JSON: NaN written as null
    back = load_trajectories(js)
    assert isinstance(back[0], Trajectory) and back[1].diverged and back[1].diverged_step == 8
    np.testing.assert_array_equal(back[0].points, runs[0].points)
    np.testing.assert_array_equal(np.isnan(back[1].points), np.isnan(runs[1].points))
    lines = cs.read_text().splitlines()
    assert lines[0].startswith("function,optimizer,lr,step,x,y") and len(lines) == 1 + 2 * 13
    assert sorted(p.name for p in tmp_path.iterdir()) == ["paths.csv", "paths.json"]
    with pytest.raises(ValueError, match="use .json or .csv"):
        save_trajectories(runs, tmp_path / "paths.txt")


# ---------------------------------------------------------------- tuning
def test_lr_candidates_grid_and_random():
    np.testing.assert_allclose(lr_candidates(5, (1e-4, 1.0)), [1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    r1, r2 = lr_candidates(6, search="random", seed=3), lr_candidates(6, search="random", seed=3)
    np.testing.assert_array_equal(r1, r2)
    assert (np.diff(r1) >= 0).all() and r1.min() >= 1e-4 and r1.max() <= 10
    for bad in [{"budget": 0}, {"budget": 3, "lr_range": (0.0, 1.0)},
                {"budget": 3, "search": "bayes"}]:  # fmt: skip
        with pytest.raises(ValueError, match="lr_candidates"):
            lr_candidates(**bad)


def test_tune_lr_ranks_diverged_last_and_picks_the_best():
    res = tune_lr("ravine", "sgd", steps=20, budget=9, lr_range=(1e-3, 10.0))
    assert len(res.trials) == 9
    best = res.best
    assert best.n_diverged == 0 and best.median == min(t.median for t in res.trials)
    assert best.median < res.trajectory.values[0] / 10
    # on 0.1x² + 2y², GD diverges for lr > 2/4 = 0.5: the large lrs score +inf
    assert all(t.median == math.inf for t in res.trials if t.lr > 0.5)
    assert 0.05 < res.best_lr <= 0.5 and res.trajectory.lr == res.best_lr
    assert f"lr={res.best_lr:.3g}" in res.trajectory.label
    assert not res.at_grid_edge  # the best lr is inside the grid
    edge = tune_lr("ravine", "sgd", steps=20, budget=3, lr_range=(1e-4, 1e-2))
    assert edge.best_lr == 1e-2 and edge.at_grid_edge  # too small a range: flagged


def test_several_starts_give_median_and_iqr():
    starts = jittered_starts("rosenbrock", 4, seed=0)
    assert starts[0] == get_function("rosenbrock").start and len(set(starts)) == 4
    res = tune_lr("rosenbrock", "adam", steps=30, budget=3, lr_range=(1e-3, 0.1), starts=starts)
    for t in res.trials:
        assert len(t.finals) == 4
        q25, q75 = t.iqr
        assert q25 <= t.median <= q75
    assert len(res.best_trajectories) == 4


def test_compare_optimizers_same_budget():
    out = compare_optimizers("bowl", ["sgd", "adam", "momentum"], steps=15, budget=4)
    assert list(out) == ["sgd", "adam", "momentum"]
    lrs = {name: [t.lr for t in r.trials] for name, r in out.items()}
    assert lrs["sgd"] == lrs["adam"] == lrs["momentum"]


# ---------------------------------------------------------------- optimizers with a protocol
def test_schedule_free_path_is_x_stepped_at_y():
    """A schedule-free run takes its gradients at y and records x (where it is evaluated)."""
    from gdlab import optim
    from gdlab.nn import Parameter

    fn = get_function("rosenbrock")
    traj = run_trajectory(fn, "adamw_schedule_free", (-1.2, 1.0), 30, 0.05)
    p = Parameter(np.array([-1.2, 1.0]))
    opt = optim.AdamWScheduleFree([p], lr=0.05)
    want, at_y = [p.data.copy()], []
    for _ in range(30):
        opt.zero_grad()
        fn(p).backward()
        opt.step()
        at_y.append(p.data.copy())
        opt.eval()
        want.append(p.data.copy())
        opt.train()
        p.data[...] = at_y[-1]  # back at y exactly: recording x never changes the run
    np.testing.assert_array_equal(traj.points, np.array(want))
    assert np.abs(np.array(at_y) - np.array(want[1:])).max() > 1e-3  # x and y differ


def test_sam_path_takes_the_gradient_at_the_perturbed_point():
    from gdlab import optim
    from gdlab.nn import Parameter

    fn = get_function("rosenbrock")
    traj = run_trajectory(fn, "sam", (-1.2, 1.0), 20, 1e-3)
    p = Parameter(np.array([-1.2, 1.0]))
    opt = optim.SAM([p], optim.SGD, lr=1e-3, momentum=0.9)  # the registry's "sam"
    want = [p.data.copy()]
    for _ in range(20):
        opt.zero_grad()
        fn(p).backward()
        opt.first_step(zero_grad=True)
        fn(p).backward()
        opt.second_step()
        want.append(p.data.copy())
    np.testing.assert_array_equal(traj.points, np.array(want))


@pytest.mark.parametrize("name", ["adahessian", "sophiah"])
def test_random_probe_paths_repeat_and_follow_the_seed(name):
    """AdaHessian's and Sophia-H's Hutchinson probes come from the run's seed, not gdlab's
    global generator: the same seed gives the same path. (On these 2-D functions Sophia-H's
    steps are all clipped, so only AdaHessian's path shows another seed's probes.)"""
    from gdlab import random as grandom

    a = run_trajectory("rosenbrock", name, steps=15, seed=3)
    grandom.manual_seed(12345)  # the global generator plays no part
    b = run_trajectory("rosenbrock", name, steps=15, seed=3)
    c = run_trajectory("rosenbrock", name, steps=15, seed=4)
    assert np.array_equal(a.points, b.points)
    assert np.array_equal(a.points, c.points) == (name == "sophiah")
    assert "generator" not in a.settings
