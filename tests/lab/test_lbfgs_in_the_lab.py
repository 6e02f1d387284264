"""L-BFGS everywhere the other optimizers are (issue 11, item 10): full-batch compare (against
torch step by step), surface, train; no learning rate tuned or shown; the closure path is the
``requires_closure`` attribute's, so other closure optimizers take it too."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gdlab import cli, train
from gdlab.lab.compare import protocol as cmp
from gdlab.lab.compare.config import CompareConfig
from gdlab.lab.compare.report import _label, summary_rows
from gdlab.lab.optimizers import full_batch_only, tunes_lr
from gdlab.lab.search import lr_grid
from gdlab.lab.surface.trajectories import run_trajectory
from gdlab.lab.surface.tuning import tune_lr
from gdlab.lab.tasks import build_mlp, load_task, make_loader
from gdlab.optim import OPTIMIZERS, SGD

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")


def test_the_registry_marks_lbfgs():
    assert [n for n in OPTIMIZERS if not tunes_lr(n)] == ["lbfgs"]
    assert [n for n in OPTIMIZERS if full_batch_only(n)] == ["lbfgs"]
    np.testing.assert_array_equal(lr_grid("lbfgs", 5), [1.0])  # its own lr, no grid


@pytest.fixture(scope="module")
def with_lbfgs():
    return cmp.compare("iris", optimizers=["adam", "lbfgs"], batch_modes=[], hidden=[8],
                       epochs=3, trials=2, tune_epochs=1, seeds=1)  # fmt: skip


def test_compare_runs_lbfgs_on_the_full_batch_untuned(with_lbfgs):
    (v,) = [v for v in with_lbfgs.variants if v.optimizer == "lbfgs"]
    assert v.batch_mode == "bgd" and v.group == "optimizers"
    assert {t["variant"] for t in with_lbfgs.tuning} == {"adam"}  # no lbfgs trials
    assert with_lbfgs.best_lr[("iris", "lbfgs")] == 1.0
    (run,) = with_lbfgs.runs_of("iris", "lbfgs")
    assert run.epochs["step"] == [0, 1, 2, 3]  # one step per epoch: the full batch
    rows = {r["variant"]: r for r in summary_rows(with_lbfgs)}
    assert rows["lbfgs"]["lr"] is None and rows["adam"]["lr"] is not None
    assert _label(with_lbfgs, "iris", "lbfgs", [run]) == "lbfgs"
    assert "lbfgs" not in with_lbfgs.settings["lr_ranges"]


def test_compare_lbfgs_equals_torch_step_by_step(with_lbfgs):
    """The same MLP, initial weights and full batch in torch.optim.LBFGS: the loss at the start
    of each step (the epoch's training loss) agrees."""
    torch = pytest.importorskip("torch")
    task = load_task("iris", seed=0, val_fraction=0.2, standardize_target=True)
    model = build_mlp(task.n_features, [8], task.n_outputs, seed=0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    with torch.no_grad():
        for theirs, ours in zip(net.parameters(), model.parameters(), strict=True):
            theirs.copy_(torch.from_numpy(np.asarray(ours.data)))
    opt = torch.optim.LBFGS(net.parameters(), lr=1.0, line_search_fn="strong_wolfe")
    x, y = torch.from_numpy(task.x_train), torch.from_numpy(task.y_train)
    losses = []

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        return loss

    for _ in range(3):
        losses.append(float(opt.step(closure).detach()))
    (run,) = with_lbfgs.runs_of("iris", "lbfgs")
    # float32: after two steps the loss is ~1e-8, at the level of the rounding
    np.testing.assert_allclose(run.epochs["train_loss"][1:], losses, rtol=2e-3, atol=1e-7)


def test_surface_runs_lbfgs_once_at_its_own_lr():
    res = tune_lr("rosenbrock", "lbfgs", steps=100, budget=8)
    assert [t.lr for t in res.trials] == [1.0] and not res.at_grid_edge
    assert res.label == "lbfgs" and res.trajectory.label == "lbfgs"
    assert res.best.median < 1e-8  # measured 4.2e-10 after 100 steps from (−1.2, 1)
    assert tune_lr("rosenbrock", "adam", steps=10, budget=2).label.startswith("adam (lr=")


def test_surface_command_shows_no_lr_for_lbfgs(tmp_path, capsys):
    argv = ["surface", "--optimizers", "sgd", "lbfgs", "--steps", "30", "--tune", "2",
            "--no-gif", "--out", str(tmp_path), "--format", "json"]  # fmt: skip
    assert cli.main(argv) == 0
    rows = {r["optimizer"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert rows["lbfgs"]["lr"] is None and rows["sgd"]["lr"] is not None


class ClosureSGD(SGD):
    """SGD that asks for a closure (as SAM-style methods do) and evaluates it twice."""

    requires_closure = True

    def step(self, closure=None):
        closure()
        loss = closure()
        super().step()
        return loss


def test_any_closure_optimizer_takes_the_closure_path():
    plain = run_trajectory("rosenbrock", SGD, (-1.2, 1.0), 20, lr=1e-3)
    closure = run_trajectory("rosenbrock", ClosureSGD, (-1.2, 1.0), 20, lr=1e-3)
    np.testing.assert_array_equal(closure.points, plain.points)
    task = load_task("iris", seed=0)
    losses = []
    for cls in (SGD, ClosureSGD):
        model = build_mlp(task.n_features, [8], task.n_outputs, seed=0)
        loader = make_loader(task.x_train, task.y_train, 16, seed=0)
        trainer = train.Trainer(model, task.loss(), cls(model.parameters(), lr=0.1), loader)
        trainer.fit(2)
        losses.append(trainer.history.epochs["loss"])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-6)


def test_train_takes_lbfgs_on_the_full_batch(tmp_path, capsys):
    base = ["train", "--set", "optimizer.name=lbfgs", "--set", "optimizer.lr=1",
            "--set", "train.epochs=3", "--set", "data.name=iris"]  # fmt: skip
    assert cli.main([*base, "--out", str(tmp_path / "a")]) == 2
    assert "set data.batch_size = 0" in capsys.readouterr().err
    argv = [*base, "--set", "data.batch_size=0", "--out", str(tmp_path / "b"), "--format", "json"]
    assert cli.main(argv) == 0
    final = json.loads(capsys.readouterr().out)["final"]
    assert final["loss"] < 0.1 and final["val_accuracy"] > 0.9


def test_compare_config_lists_lbfgs():
    assert "lbfgs" in CompareConfig(optimizers=["lbfgs"]).optimizers
