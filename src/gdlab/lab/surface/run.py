"""``gdlab surface``: optimizers on a 2-D test function, each at its best lr, drawn and saved.

Every optimizer gets the same tuning budget (``surface.tuning``, by the lab's one search
protocol ``lab.search``: a log grid over ``LR_RANGE``, scored by the median final gap over the
starts), then its run at the best lr is
drawn on one contour plot next to f − f* against steps, animated as a GIF and saved as data.

Files: ``paths.png``/``.svg`` (contour + gap panel), ``paths.gif``, ``paths.csv`` (one row
per optimizer and step), ``paths.json`` (every setting; ``lab.load_trajectories`` reads it
back), ``tuning.csv``, ``metrics.csv``/``.jsonl`` (final results), ``summary.json``,
``config.toml``, ``report.html``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.lab.optimizers import get_optimizer_spec, tunes_lr
from gdlab.lab.output.plots import Series, plot_loss_curves, plot_trajectories
from gdlab.lab.output.report import Report
from gdlab.lab.output.rundir import RunDir
from gdlab.lab.search import LR_RANGE
from gdlab.lab.surface.animate import animate_trajectories
from gdlab.lab.surface.config import SurfaceConfig
from gdlab.lab.surface.functions import get_function
from gdlab.lab.surface.trajectories import run_trajectory, save_trajectories
from gdlab.lab.surface.tuning import compare_optimizers, jittered_starts
from gdlab.lab.sweeps import Trials

__all__ = ["run_surface"]


def _row(t: Any, tuned: Any = None) -> dict[str, Any]:
    gap = float(t.gap[-1]) if not t.diverged else float("inf")
    row = {
        "optimizer": t.optimizer,
        "lr": t.lr if tunes_lr(t.optimizer) else None,  # L-BFGS: no lr to speak of
        "final_x": float(t.points[-1][0]),
        "final_y": float(t.points[-1][1]),
        "final_f": t.final_value,
        "gap": gap,
        "diverged": t.diverged,
        "diverged_step": t.diverged_step,
    }
    if tuned is not None:
        row["median_gap_over_starts"] = tuned.best.median
        row["lrs_diverged"] = sum(tr.n_diverged > 0 for tr in tuned.trials)
        row["lr_at_edge"] = tuned.at_grid_edge
    return row


def run_surface(
    config: SurfaceConfig, run_dir: RunDir, trials: Trials | None = None
) -> dict[str, Any]:
    """Tune (or not), run, draw and save; returns the results table and the report path.

    ``trials`` runs the tuning's (optimizer, lr) runs as sweep trials (default: serially,
    saved in ``run_dir/trials``, so the same command with the same ``--out`` resumes)."""
    steps, tune, starts, lr, seed = config.steps, config.tune, config.starts, config.lr, config.seed
    fn = get_function(config.function)
    points = jittered_starts(fn, starts, seed=seed)
    settings = config.settings()
    schedule = config.lr_schedule()
    run_dir.write_config(settings)
    tuned: dict[str, Any] = {}
    if lr is None and tune > 0:
        tuned = compare_optimizers(
            config.function, list(config.optimizers), steps=steps, budget=tune, starts=points,
            seeds=(seed,), trials=trials or Trials(run_dir.path), schedule=schedule,
        )  # fmt: skip
        paths = [res.trajectory for res in tuned.values()]
        trials = [
            {"optimizer": o, "lr": t.lr, "median_gap": t.median, "diverged_runs": t.n_diverged}
            for o, res in tuned.items()
            for t in res.trials
        ]
        run_dir.write_csv("tuning.csv", trials)
    else:
        paths = [_untuned_run(fn, o, points[0], config) for o in config.optimizers]
        trials = []
    table = [_row(t, tuned.get(t.optimizer)) for t in paths]
    run_dir.write_metrics(table)
    for suffix in ("csv", "json"):  # a table for other tools; every setting, to reload
        save_trajectories(paths, run_dir.path / f"paths.{suffix}")
    lo, hi = LR_RANGE
    if tuned:
        picked = f"each optimizer at its best of {tune} lrs in [{lo:g}, {hi:g}]"
    else:
        picked = f"lr {lr:g}" if lr else "default lrs"
    if schedule.active:
        picked += f", {schedule.describe()} schedule"
    fig = plot_trajectories(fn, paths, title=f"{fn.name}: {steps} steps, {picked}")
    run_dir.save_figure(fig, "paths")
    gif = animate_trajectories(fn, paths, run_dir.path / "paths.gif") if config.gif else None
    run_dir.write_json("summary.json", {"settings": settings, "results": table})
    rep = Report(f"Optimizers on {fn.name}", subtitle=fn.description, seed=seed, settings=settings)
    rep.add_text(_protocol_text(config, tuned, len(paths)))
    rep.add_table(table, caption="Final points (gap = f − f*)", bad=[t.diverged for t in paths])
    rep.add_figure(fig, caption="Paths on the contour plot (left) and f − f* against steps (right)")
    if gif is not None:
        rep.add_animation(gif, caption="The paths step by step (paths.gif)")
    if tuned and starts > 1:
        spread = _spread_figure(tuned, f"{fn.name}: f − f* over {starts} starts (median, 25-75%)")
        run_dir.save_figure(spread, "spread")
        rep.add_figure(spread, caption=f"f − f* over {starts} starts: median and 25-75% band")
    if trials:
        rep.add_table(trials, caption="Every learning rate tried")
    return {"table": table, "report": str(rep.save(run_dir))}


def _untuned_run(fn: Any, optimizer: str, start: Any, c: SurfaceConfig) -> Any:
    """One run at ``--lr`` (each optimizer's default without it; L-BFGS always its own),
    following the schedule from that lr."""
    lr = c.lr if tunes_lr(optimizer) else None
    start_lr = lr if lr is not None else get_optimizer_spec(optimizer).lr
    lrs = c.lr_schedule().at(start_lr, c.steps) if tunes_lr(optimizer) else None
    return run_trajectory(fn, optimizer, start, c.steps, lr, seed=c.seed, lr_schedule=lrs)


def _protocol_text(c: SurfaceConfig, tuned: dict[str, Any], n_paths: int) -> str:
    if tuned:
        lo, hi = LR_RANGE
        how = (
            f"each at its best of {c.tune} learning rates (log grid over "
            f"{lo:g}..{hi:g}, scored by the median final f − f* over {c.starts} start(s))"
        )
    else:
        how = f"all at lr {c.lr}" if c.lr else "each at its default lr"
    text = f"{n_paths} optimizers from the same start, {c.steps} steps, {how}."
    if (schedule := c.lr_schedule()).active:
        text += (
            f" The lr follows the schedule {schedule.describe()} per step from each run's lr "
            "(t_max/total_steps: the run's steps; not L-BFGS, whose line search sets the step)."
        )
    if edge := [name for name, res in tuned.items() if res.at_grid_edge]:
        text += (
            f"\n\nAt the edge of the learning-rate range: {', '.join(edge)}. The best lr may "
            "lie outside the range searched."
        )
    return text


def _spread_figure(tuned: dict[str, Any], title: str) -> Any:
    """Median and interquartile band of f − f* against steps over every start, per optimizer."""
    series = []
    for res in tuned.values():
        gaps = np.array([t.gap for t in res.best_trajectories], dtype=float)
        with np.errstate(all="ignore"):
            gaps = np.maximum(gaps, 1e-16)  # log axis: the exact minimum is drawn at 1e-16
        steps = np.arange(gaps.shape[1])
        lo, med, hi = np.nanpercentile(gaps, [25, 50, 75], axis=0)
        series.append(Series(res.label, steps, med, lo, hi))
    return plot_loss_curves(series, xlabel="step", ylabel="f − f*", title=title)
