"""Figures checked for content under Agg: series count, axis scales, no NaN drawn, files."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from gdlab.lab.articles import reproduce  # noqa: E402
from gdlab.lab.output.fileio import save_figure  # noqa: E402
from gdlab.lab.output.plots import (  # noqa: E402
    Series,
    plot_function_1d,
    plot_grad_norms,
    plot_loss_curves,
    plot_schedules,
    plot_trajectories,
)
from gdlab.lab.surface.animate import animate_trajectories, frame_steps  # noqa: E402
from gdlab.lab.surface.trajectories import run_trajectory  # noqa: E402


def _lines_finite(ax) -> bool:
    return all(np.isfinite(np.asarray(ln.get_xydata(), float)).all() for ln in ax.get_lines())


def _labels(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.fixture(scope="module")
def ravine_runs():
    return [
        run_trajectory("ravine", "sgd", steps=20, lr=0.4),
        run_trajectory("ravine", "momentum", steps=20, lr=0.4, momentum=0.5),
        run_trajectory("ravine", "sgd", steps=20, lr=0.6),  # grows to -1673 but stays in the box
        run_trajectory("ravine", "sgd", steps=20, lr=5.0),  # diverges
    ]


def test_contour_and_gap_panel(ravine_runs):
    fig = plot_trajectories("ravine", ravine_runs)
    contour_ax, gap_ax = fig.axes[:2]
    assert gap_ax.get_yscale() == "log" and contour_ax.get_yscale() == "linear"
    # one path + one end marker per run, the minimum, the start
    assert len(contour_ax.get_lines()) == 2 * len(ravine_runs) + 2
    assert len(gap_ax.get_lines()) == len(ravine_runs) + 1  # + the diverged run's X
    assert _lines_finite(contour_ax) and _lines_finite(gap_ax)
    labels = _labels(contour_ax)
    assert "sgd (lr=0.4)" in labels and "momentum (lr=0.4, momentum=0.5)" in labels
    assert any("diverged at step" in lab for lab in labels) and "start" in labels
    lo, hi = gap_ax.get_ylim()
    assert 0 < lo < hi <= 3e4 * ravine_runs[0].values[0]  # a diverged run does not set it
    # log-spaced contour levels of f − f*
    levels = np.asarray(contour_ax.collections[0].levels)
    ratios = levels[1:] / levels[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)


def test_function_without_minimum_uses_symlog():
    runs = [run_trajectory("saddle", o, steps=15, lr=0.1) for o in ("sgd", "adam")]
    fig = plot_trajectories("saddle", runs)
    assert fig.axes[1].get_yscale() == "symlog"
    assert _lines_finite(fig.axes[0])


def test_one_d_plot():
    res = reproduce("d2l_gd_1d")
    fig = res.plot()  # one panel per learning rate
    assert len(fig.axes) == 3
    for ax in fig.axes:
        assert len(ax.get_lines()) == 2 and _lines_finite(ax)
    ax = plot_function_1d("square", res.paths_1d).axes[0]
    assert len(ax.get_lines()) == 1 + 3 and _lines_finite(ax)
    assert plot_function_1d("xcos", {"eta=2": [10.0, 5.0]}).axes[0].get_lines()


def test_experiment_results_draw_themselves():
    fig = reproduce("dlfs_optimizer_compare").plot()
    labels = _labels(fig.axes[0])
    assert {"sgd (lr=0.95)", "adagrad (lr=1.5, eps=1e-07)",
            "adam (lr=0.3, eps=1e-07, eps_hat=True)"} <= set(labels)  # fmt: skip


def test_loss_curves_with_bands():
    x = np.arange(10)
    series = [
        Series("sgd", x, np.exp(-x / 3), np.exp(-x / 3) * 0.8, np.exp(-x / 3) * 1.2),
        Series("adam", x, np.r_[np.exp(-x[:-1]), np.nan]),  # a NaN is dropped, not drawn
    ]
    fig = plot_loss_curves(series, xlabel="samples seen")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "samples seen"
    assert len(ax.get_lines()) == 2 and len(ax.collections) == 1 and _lines_finite(ax)
    assert plot_loss_curves(series, log=False).axes[0].get_yscale() == "linear"


def test_schedules_and_grad_norms():
    fig = plot_schedules({"constant": lambda t: 0.1, "step": lambda t: 0.1 * 0.5 ** (t // 10),
                          "list": [0.1, 0.05, 0.02]}, steps=30)  # fmt: skip
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 3 and len(ax.get_lines()[0].get_xdata()) == 31
    fig = plot_grad_norms({"layer1": [1.0, 0.1, 0.01], "layer2": [1.0, 10.0, 100.0]})
    assert fig.axes[0].get_yscale() == "log" and len(fig.axes[0].get_lines()) == 4  # raw + EMA
    fig = plot_grad_norms({"layer1": [1.0, 0.1, 0.01]}, smoothing=0)
    assert len(fig.axes[0].get_lines()) == 1


def test_train_curves_show_loss_and_metric_per_epoch():
    from gdlab.lab.training import _curves_figure

    rows = [{"epoch": e, "loss": 1.0 / e, "accuracy": 0.5 + 0.1 * e, "val_loss": 1.2 / e,
             "val_accuracy": None if e == 2 else 0.4 + 0.1 * e} for e in (1, 2, 3)]  # fmt: skip
    loss_ax, metric_ax = _curves_figure(rows, "accuracy", "iris: sgd").axes
    assert loss_ax.get_yscale() == "log" and metric_ax.get_yscale() == "linear"
    assert [len(ax.get_lines()) for ax in (loss_ax, metric_ax)] == [2, 2]
    assert _labels(metric_ax) == ["training", "validation"] and _lines_finite(metric_ax)
    assert all(float(t).is_integer() for t in loss_ax.get_xticks())


def test_save_figure_is_atomic_and_small(tmp_path, ravine_runs):
    fig = plot_trajectories("ravine", ravine_runs[:2])
    out = save_figure(fig, tmp_path / "sub" / "ravine.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < 200_000
    assert [p.name for p in out.parent.iterdir()] == ["ravine.png"]
    save_figure(fig, tmp_path / "ravine.svg")
    assert (tmp_path / "ravine.svg").read_text().lstrip().startswith("<?xml")


def test_animated_gif(tmp_path, ravine_runs):
    from PIL import Image

    out = animate_trajectories("ravine", ravine_runs[:2], tmp_path / "r.gif", frames=8, dpi=30)
    with Image.open(out) as im:
        assert im.format == "GIF" and im.n_frames == 8
    assert [p.name for p in tmp_path.iterdir()] == ["r.gif"]
    np.testing.assert_array_equal(frame_steps(20, 5), [0, 5, 10, 15, 20])
    np.testing.assert_array_equal(frame_steps(3, 60), [0, 1, 2, 3])


def test_missing_matplotlib_names_the_extra(monkeypatch, ravine_runs):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=re.escape("pip install 'gdlab[plot]'")):
        plot_trajectories("ravine", ravine_runs)


def test_custom_labels(ravine_runs):
    fig = plot_trajectories("ravine", ravine_runs[:2], labels=["a", "b"])
    assert {"a", "b"} <= set(_labels(fig.axes[0])) and {"a", "b"} == set(_labels(fig.axes[1]))
    with pytest.raises(ValueError, match="got 1 labels for 2 trajectories"):
        plot_trajectories("ravine", ravine_runs[:2], labels=["a"])
