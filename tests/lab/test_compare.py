"""compare: fair tuning, seeds, divergences as results, files and figures; performance profiles."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gdlab.lab import search
from gdlab.lab.compare import protocol as cmp
from gdlab.lab.compare.config import CompareConfig
from gdlab.lab.compare.profiles import (
    performance_profile,
    performance_ratios,
    plot_performance_profile,
    profile_scores,
)
from gdlab.lab.compare.report import (
    curves_figure,
    lr_at_grid_edge,
    steps_figure,
    summary_rows,
    write_compare,
)
from gdlab.lab.output.rundir import RunDir
from gdlab.lab.output.tables import format_table

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")

TINY = dict(optimizers=["sgd", "adam"], batch_modes=["bgd", "mbgd"], hidden=[8], epochs=2,
            trials=2, tune_epochs=1, seeds=2, batch_size=16)  # fmt: skip


@pytest.fixture(scope="module")
def tiny():
    return cmp.compare("iris", **TINY)


# --------------------------------------------------------------------------- profiles
COSTS = [[1.0, 2.0, np.inf], [4.0, 2.0, 8.0], [np.inf, np.inf, np.inf]]


def test_performance_ratios():
    r = performance_ratios(COSTS)
    np.testing.assert_array_equal(r[:2], [[1, 2, np.inf], [2, 1, 4]])
    assert np.isinf(r[2]).all()  # nobody solved it


@pytest.mark.parametrize(
    "tau, rho",
    [(1.0, [1 / 3, 1 / 3, 0]), (2.0, [2 / 3, 2 / 3, 0]), (4.0, [2 / 3, 2 / 3, 1 / 3])],
)  # fmt: skip
def test_performance_profile(tau, rho):
    np.testing.assert_allclose(performance_profile(COSTS, [tau])[:, 0], rho)


def test_profile_scores_are_areas():
    # solver 0: ratios 1 and 2 -> (3/3 + 2/3) / 3 problems; solver 2: ratio 4 -> 0
    np.testing.assert_allclose(profile_scores(COSTS), [5 / 9, 5 / 9, 0.0])
    assert profile_scores([[1.0, 1.0]]).tolist() == [1.0, 1.0]


@pytest.mark.parametrize("costs", [[1.0, 2.0], [[0.0, 1.0]], [[np.nan, 1.0]], np.zeros((0, 2))])
def test_profile_rejects_bad_costs(costs):
    with pytest.raises(ValueError, match="performance_ratios"):
        performance_ratios(costs)


def test_profile_plot():
    fig = plot_performance_profile(COSTS, ["a", "b", "c"])
    ax = fig.axes[0]
    assert len(ax.lines) == 3 and ax.get_xscale() == "log"
    assert [t.get_text().split(" ")[0] for t in ax.get_legend().get_texts()] == ["a", "b", "c"]


# --------------------------------------------------------------------------- protocol
RANGES = [("sgd", 1e-2, 10.0), ("momentum", 1e-3, 1.0), ("adam", 1e-4, 1e-1),
          ("unknown", *search.DEFAULT_RANGE)]  # fmt: skip


@pytest.mark.parametrize("name, lo, hi", RANGES)
def test_lr_grid_spans_the_documented_range(name, lo, hi):
    grid = search.lr_grid(name, 4)
    assert grid[0] == pytest.approx(lo) and grid[-1] == pytest.approx(hi)
    np.testing.assert_allclose(grid[1:] / grid[:-1], (hi / lo) ** (1 / 3))
    assert search.lr_grid(name, 1)[0] == pytest.approx(np.sqrt(lo * hi))
    assert search.lr_grid(name, 4, "bgd") == pytest.approx(grid)
    assert search.lr_grid(name, 4, "sgd") == pytest.approx(grid * 0.1)  # one sample: a decade lower


def test_variants():
    v = cmp.make_variants(["adam"], ["bgd", "sgd"], "sgd", 32)
    assert [(x.label, x.optimizer, x.batch_mode) for x in v] == [
        ("adam", "adam", "mbgd"),
        ("BGD (full batch)", "sgd", "bgd"),
        ("SGD (batch 1)", "sgd", "sgd"),
    ]


def test_every_variant_gets_the_same_budget_and_seeds(tiny):
    labels = [v.label for v in tiny.variants]
    for label in labels:
        trials = [t for t in tiny.tuning if t["variant"] == label]
        runs = tiny.runs_of("iris", label)
        # sgd at mbgd is shared by "sgd" and "MBGD (batch 16)": tuned once, reported twice
        assert len(trials) in (0, TINY["trials"]) and len(runs) == TINY["seeds"]
        assert sorted(r.seed for r in runs) == [0, 1]
        best = tiny.best_lr[("iris", label)]
        assert any(best == pytest.approx(g) for g in search.lr_grid(runs[0].variant.optimizer, 2))
        assert all(r.epochs["epoch"] == list(range(TINY["epochs"] + 1)) for r in runs)  # 0: init
    mb = tiny.runs_of("iris", "MBGD (batch 16)")
    assert [r.epochs for r in mb] == [r.epochs for r in tiny.runs_of("iris", "sgd")]


def test_batch_modes_take_the_right_number_of_steps(tiny):
    bgd = tiny.runs_of("iris", "BGD (full batch)")[0]
    mbgd = tiny.runs_of("iris", "MBGD (batch 16)")[0]
    assert bgd.epochs["step"] == [0, 1, 2]  # one step per epoch: the full batch
    n_train = bgd.epochs["samples_seen"][1]
    assert mbgd.epochs["step"][1] == -(-n_train // 16)
    assert mbgd.epochs["samples_seen"] == bgd.epochs["samples_seen"]


def test_every_run_starts_at_the_untrained_model(tiny):
    """Epoch 0 is evaluated before training: the same point for every variant of a seed."""
    for seed in (0, 1):
        runs = [r for r in tiny.runs if r.seed == seed]
        zeros = {tuple(col[0] for col in r.epochs.values()) for r in runs}
        assert len(zeros) == 1 and {r.wall_time[0] for r in runs} == {0.0}
        (zero,) = zeros
        assert zero[:3] == (0, 0, 0) and all(np.isfinite(zero[3:]))
    r = tiny.runs[0]
    assert r.epochs["val_accuracy"][0] < 0.9  # untrained: about chance on iris
    assert len(r.wall_time) == len(r.epochs["epoch"]) and r.wall_time[1] > 0
    assert r.to_target("accuracy", 0.0) == (0.0, 0.0, 0.0)  # reached before the first step


def test_diverged_run_is_a_result_not_a_crash():
    res = cmp.compare("iris", optimizers=["sgd"], batch_modes=[], hidden=[8], epochs=3,
                      seeds=1, lr=1e4)  # fmt: skip
    (run,) = res.runs
    assert run.diverged and run.diverged_at >= 1
    assert run.epochs["epoch"][0] == 0 and np.isfinite(run.epochs["val_loss"][0])
    (row,) = summary_rows(res)
    assert row["diverged"] == "1/1"
    assert np.isinf(row["steps_to_target"])


def test_summary_table_and_text(tiny):
    rows = summary_rows(tiny)
    assert [r["variant"] for r in rows] == [v.label for v in tiny.variants]
    for r in rows:
        assert 0.0 <= r["val_acc"] <= 1.0 and r["time_s"] > 0
        assert r["diverged"] == "0/2"
    assert "time_s" not in summary_rows(tiny, timing=False)[0]
    text = format_table(rows, width=1000)  # one block (a terminal's 100 columns wrap it)
    assert text.splitlines()[0].split()[:3] == ["dataset", "variant", "optimizer"]
    assert len(text.splitlines()) == 2 + len(rows)


def test_curves_figure_content(tiny):
    fig = curves_figure(tiny, "iris", "optimizers")
    axes = fig.axes
    assert len(axes) == 9
    for i, ax in enumerate(axes):
        assert len(ax.lines) == (2 if i < 6 else 4)  # sgd, adam (+ training accuracy, dashed)
        assert ax.get_yscale() == ("log" if i < 6 else "linear")
        for line in ax.lines:
            assert np.isfinite(np.asarray(line.get_ydata(), float)).all()
    assert [ax.get_xlabel() for ax in axes[:3]] == ["epoch", "samples seen", "wall time (s)"]
    assert all(float(t).is_integer() for t in axes[0].get_xticks())  # whole epochs
    assert axes[2].get_xscale() == "symlog" and axes[2].get_xlim()[0] == 0.0  # 0 s: epoch 0
    legend = [t.get_text() for t in axes[0].get_legend().get_texts()]
    assert legend[0].startswith("sgd (lr ") and legend[1].startswith("adam (lr ")


def test_steps_figure_shows_every_batch_mode(tiny):
    ax = steps_figure(tiny, "iris").axes[0]
    n_steps = sorted(len(line.get_ydata()) for line in ax.lines)
    assert n_steps == [2, 2 * -(-tiny.runs[0].epochs["samples_seen"][1] // 16)]
    assert ax.get_yscale() == "log"


def test_write_compare_files(tiny, tmp_path):
    out = write_compare(tiny, RunDir(tmp_path))
    names = {p.name for p in tmp_path.iterdir()}
    assert {"config.toml", "metrics.csv", "metrics.jsonl", "timing.csv", "tuning.csv",
            "summary.json", "report.html", "curves-iris-optimizers.png",
            "curves-iris-batch-modes.svg", "steps-iris.png"} <= names  # fmt: skip
    lines = (tmp_path / "metrics.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert "wall_time" not in header and "val_accuracy" in header
    assert len(lines) == 1 + len(tiny.runs) * (TINY["epochs"] + 1)  # epochs 0..2 per run
    first = dict(zip(header, lines[1].split(","), strict=True))
    assert (first["epoch"], first["step"], first["samples_seen"]) == ("0", "0", "0")
    timing = (tmp_path / "timing.csv").read_text().splitlines()
    assert timing[1].split(",")[-2:] == ["0", "0.0"]  # epoch 0 at 0 s
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["interrupted"] is False and len(summary["results"]) == len(tiny.variants)
    page = (tmp_path / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3 and out["report"].endswith("report.html")
    # two trials per variant: every chosen lr is an end of its grid, and the report says so
    assert out["lr_at_edge"] == [v.label for v in tiny.variants]
    assert "At the edge of its learning-rate range: sgd, adam, BGD" in page


@pytest.mark.parametrize(
    "settings, lrs, edge",
    [
        ({"trials": 3}, {"sgd": 1e-2, "adam": np.sqrt(1e-4 * 1e-1)}, ["sgd"]),  # low end
        ({"trials": 3}, {"sgd": np.sqrt(1e-1), "adam": 1e-1}, ["adam"]),  # high end
        ({"trials": 3}, {"sgd": np.sqrt(1e-1), "adam": np.sqrt(1e-5)}, []),  # inside
        ({"trials": 1}, {"sgd": np.sqrt(1e-1), "adam": np.sqrt(1e-5)}, []),  # one trial
        ({"trials": 3, "lr": 1e-3}, {"sgd": 1e-3, "adam": 1e-3}, []),  # fixed lr: no tuning
    ],
)
def test_lr_at_grid_edge(settings, lrs, edge):
    variants = cmp.make_variants(["sgd", "adam"], [], "sgd", 16)
    res = cmp.CompareResult(["iris"], variants, CompareConfig(**settings))
    res.best_lr = {("iris", name): lr for name, lr in lrs.items()}
    assert lr_at_grid_edge(res) == edge


def test_several_data_sets_give_a_performance_profile(tmp_path):
    res = cmp.compare(["iris", "wine"], optimizers=["sgd", "adam"], batch_modes=[], hidden=[8],
                      epochs=2, seeds=1, lr=0.05, target=0.5)  # fmt: skip
    write_compare(res, RunDir(tmp_path))
    assert (tmp_path / "profile.png").exists()
    assert res.datasets == ["iris", "wine"] and len(res.runs) == 4


def test_lr_at_grid_edge_uses_the_batch_modes_grid():
    """Single-sample SGD searches a decade lower: its grid's ends, not mini-batch's, count."""
    variants = cmp.make_variants([], ["sgd", "mbgd"], "sgd", 16)
    res = cmp.CompareResult(["iris"], variants, CompareConfig(trials=3))
    res.best_lr = {("iris", "SGD (batch 1)"): 1e-3, ("iris", "MBGD (batch 16)"): 1e-2}
    assert lr_at_grid_edge(res) == ["SGD (batch 1)", "MBGD (batch 16)"]
    res.best_lr = {("iris", "SGD (batch 1)"): 1e-2, ("iris", "MBGD (batch 16)"): 0.1}
    assert lr_at_grid_edge(res) == []


def test_a_finite_blow_up_is_diverged():
    """Issue 12: a validation loss of 5e12 is a divergence, though finite."""
    from gdlab.lab.compare import run as compare_run

    v = cmp.make_variants(["sgd"], [], "sgd", 16)[0]
    epochs = {"epoch": [0, 1, 2, 3], "step": [0, 4, 8, 12], "val_loss": [2.3, 1.9, 5e12, 7e12]}
    run = compare_run._mark_blow_up(
        compare_run.Run(v, "iris", 10.0, 0, epochs, [0.0, 0.1, 0.2, 0.3])
    )
    assert run.diverged and run.diverged_at == 8
    fine = dict(epochs, val_loss=[2.3, 1.9, 200.0, 1.0])  # below 100x epoch 0's loss
    assert not compare_run._mark_blow_up(
        compare_run.Run(v, "iris", 1.0, 0, fine, [0.0] * 4)
    ).diverged
    nan = dict(epochs, val_loss=[2.3, float("nan"), None, None])
    assert (
        compare_run._mark_blow_up(compare_run.Run(v, "iris", 1.0, 0, nan, [0.0] * 4)).diverged_at
        == 4
    )
