"""``--schedule NAME --schedule-param KEY=VALUE`` in compare and surface (issue 11, item 5):
the runs follow the schedule from their own lr (checked against torch and by hand), the
setting is in config.toml and the report, bad arguments are usage errors."""

from __future__ import annotations

import numpy as np
import pytest

from gdlab import cli
from gdlab.lab.compare import protocol as cmp
from gdlab.lab.lr_schedule import LRSchedule
from gdlab.lab.surface.functions import get_function
from gdlab.lab.surface.trajectories import run_trajectory
from gdlab.lab.surface.tuning import tune_lr
from gdlab.lab.tasks import build_mlp, load_task

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")


@pytest.mark.parametrize(
    "name, params, lr, length, expected",
    [("step", ["step_size=2", "gamma=0.5"], 0.2, 6, [0.2, 0.2, 0.1, 0.1, 0.05, 0.05]),
     ("exponential", ["gamma=0.5"], 1.0, 3, [1.0, 0.5, 0.25]),
     ("cosine", [], 1.0, 4, [1.0, (1 + np.cos(np.pi / 4)) / 2, 0.5]),  # t_max = the length
     ("constant", [], 1.0, 3, None)],
)  # fmt: skip
def test_the_schedule_starts_from_the_runs_lr(name, params, lr, length, expected):
    fn = LRSchedule.from_options(name, params).at(lr, length)
    if expected is None:
        assert fn is None
    else:
        np.testing.assert_allclose([fn(t) for t in range(len(expected))], expected, rtol=1e-12)


def test_surface_path_follows_the_schedule_by_hand():
    """x_{k+1} = x_k − lr_k ∇f(x_k) with lr_k = 0.01 · 0.9^k, written out."""
    fn = get_function("booth")
    schedule = LRSchedule.from_options("exponential", ["gamma=0.9"]).at(0.01, 20)
    traj = run_trajectory(fn, "sgd", (0.5, -1.0), 20, 0.01, lr_schedule=schedule)
    x = np.array([0.5, -1.0])
    for k in range(20):
        x = x - 0.01 * 0.9**k * fn.gradient(*x)
        np.testing.assert_allclose(traj.points[k + 1], x, rtol=1e-12)


def test_surface_tuning_runs_every_trial_with_the_schedule():
    schedule = LRSchedule.from_options("step", ["step_size=5", "gamma=0.1"])
    res = tune_lr("booth", "sgd", steps=10, budget=2, schedule=schedule)
    for t in res.best_trajectories:
        plain = run_trajectory("booth", "sgd", None, 10, res.best_lr)
        assert not np.allclose(t.points[-1], plain.points[-1])  # the schedule changed the path
        np.testing.assert_array_equal(t.points[:6], plain.points[:6])  # same up to step 5


def test_compare_follows_the_schedule_as_torch_steplr():
    """Full-batch SGD with torch.optim.lr_scheduler.StepLR(step_size=1, gamma=0.5) on the same
    MLP and data: the epochs' training losses agree."""
    torch = pytest.importorskip("torch")
    res = cmp.run_compare(cmp.CompareConfig(
        datasets=["iris"], optimizers=[], batch_modes=["bgd"], hidden=[8], epochs=4, seeds=1,
        lr=0.5, schedule="step", schedule_params=["step_size=1", "gamma=0.5"]))  # fmt: skip
    (run,) = res.runs
    task = load_task("iris", seed=0, val_fraction=0.2, standardize_target=True)
    model = build_mlp(task.n_features, [8], task.n_outputs, seed=0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    with torch.no_grad():
        for theirs, ours in zip(net.parameters(), model.parameters(), strict=True):
            theirs.copy_(torch.from_numpy(np.asarray(ours.data)))
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    x, y = torch.from_numpy(task.x_train), torch.from_numpy(task.y_train)
    losses = []
    for _ in range(4):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
    np.testing.assert_allclose(run.epochs["train_loss"][1:], losses, rtol=1e-5)


def test_the_schedule_is_in_config_toml_and_the_report(tmp_path):
    argv = ["compare", "--dataset", "iris", "--optimizers", "sgd", "--batch-modes", "--hidden",
            "8", "--epochs", "2", "--trials", "1", "--seeds", "1", "--schedule", "cosine",
            "--schedule-param", "eta_min=0.001", "--out", str(tmp_path / "c"), "-q"]  # fmt: skip
    assert cli.main(argv) == 0
    toml = (tmp_path / "c" / "config.toml").read_text()
    assert 'schedule = "cosine"' in toml and 'schedule_params = ["eta_min=0.001"]' in toml
    assert "follows the schedule cosine (eta_min=0.001)" in (tmp_path / "c" / "report.html"
                                                               ).read_text()  # fmt: skip
    argv = ["surface", "--function", "booth", "--optimizers", "sgd", "--steps", "10", "--tune",
            "2", "--no-gif", "--schedule", "exponential", "--schedule-param", "gamma=0.9",
            "--out", str(tmp_path / "s"), "-q"]  # fmt: skip
    assert cli.main(argv) == 0
    assert 'schedule = "exponential"' in (tmp_path / "s" / "config.toml").read_text()
    assert "follows the schedule exponential (gamma=0.9)" in (tmp_path / "s" / "report.html"
                                                                ).read_text()  # fmt: skip


@pytest.mark.parametrize(
    "argv, message",
    [(["compare", "--schedule", "cosine", "--schedule-param", "t_max=abc"],
      "--schedule-param t_max must be a number, got 'abc'"),
     (["surface", "--schedule", "cosine", "--schedule-param", "tmax=3"],
      "did you mean 't_max'?"),
     (["surface", "--schedule", "step"], "missing a required argument: 'step_size'"),
     (["compare", "--schedule-param", "gamma=0.5"], "no --schedule given"),
     (["compare", "--schedule", "nope"], "invalid choice: 'nope'")],
)  # fmt: skip
def test_bad_schedules_are_usage_errors(argv, message, capsys):
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err
