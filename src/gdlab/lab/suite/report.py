"""The leaderboard: table, performance profile and best-trial curves as CSV, JSON and HTML.

``leaderboard.csv`` and ``trials.csv`` hold steps, metrics and scores only, so the same suite
gives the same bytes on any executor; wall times (which depend on the machine and its load)
go to ``times.csv`` and ``leaderboard.json``, with the machine and the versions.
"""

from __future__ import annotations

import os
import platform
import statistics
from typing import Any

from gdlab.lab.compare.profiles import plot_performance_profile
from gdlab.lab.output.plots import Series, plot_loss_curves
from gdlab.lab.output.report import Report, versions
from gdlab.lab.output.rundir import RunDir
from gdlab.lab.suite.protocol import SuiteResult
from gdlab.lab.suite.score import TAU_MAX

__all__ = ["leaderboard_rows", "machine", "write_suite"]


def machine() -> dict[str, Any]:
    """Where the suite ran (wall times mean little without it)."""
    return {"platform": platform.platform(), "processor": platform.processor() or "unknown",
            "cpus": os.cpu_count(), "python": platform.python_version()}  # fmt: skip


def leaderboard_rows(result: SuiteResult) -> list[dict[str, Any]]:
    """One row per optimizer, best score first: the score (mean, min and max over studies)
    and the first study's steps to target per workload (``inf``: missed)."""
    cfg = result.config
    rows = []
    for opt in cfg.optimizers:
        per_study = [result.scores[s][opt] for s in range(cfg.studies)]
        row: dict[str, Any] = {
            "optimizer": opt,
            "score": statistics.fmean(per_study),
            "score_min": min(per_study),
            "score_max": max(per_study),
        }
        for w in cfg.workloads:
            best = result.best(0, w, opt)
            row[f"steps_{w}"] = "inf" if best is None else best.steps_to_target
        rows.append(row)
    return sorted(rows, key=lambda r: -r["score"])


def _trial_rows(result: SuiteResult, timed: bool) -> list[dict[str, Any]]:
    rows = []
    for study, r in result.trials:
        row = {"study": study, "workload": r.workload, "optimizer": r.optimizer,
               **{f"hp_{k}": v for k, v in sorted(r.hparams.items())},
               "steps_to_target": r.steps_to_target, "best_metric": r.best_metric,
               "diverged": r.diverged}  # fmt: skip
        if timed:
            row = {k: row[k] for k in ("study", "workload", "optimizer", "steps_to_target")}
            row["seconds_to_target"] = r.seconds_to_target
        rows.append(row)
    return rows


def _curves(result: SuiteResult, workload: str) -> Any:
    series = []
    for opt in result.config.optimizers:
        best = result.best(0, workload, opt)
        if best is not None:
            series.append(Series(opt, best.steps, best.metrics))
    return plot_loss_curves(series, xlabel="step", ylabel="validation metric", log=False,
                            title=f"{workload}: best trial of each optimizer")  # fmt: skip


def write_suite(result: SuiteResult, run_dir: RunDir, command: str = "") -> dict[str, Any]:
    """Write the leaderboard files into ``run_dir``; return the table and the report path."""
    cfg = result.config
    table = leaderboard_rows(result)
    run_dir.write_config(cfg.settings())
    run_dir.write_csv("leaderboard.csv", table)
    run_dir.write_csv("trials.csv", _trial_rows(result, timed=False))
    run_dir.write_csv("times.csv", _trial_rows(result, timed=True))
    costs = [[result.cost(0, w, o) for o in cfg.optimizers] for w in cfg.workloads]
    run_dir.write_json("leaderboard.json", {
        "leaderboard": table, "scores_by_study": {str(k): v for k, v in result.scores.items()},
        "steps_to_target": dict(zip(cfg.workloads, costs, strict=True)),
        "machine": machine(), "versions": versions(), "settings": cfg.settings(),
    })  # fmt: skip
    report = Report("gdlab suite: optimizer leaderboard", subtitle=command, seed=cfg.seed,
                    settings=cfg.settings())  # fmt: skip
    report.add_text(
        f"Ruleset `{cfg.ruleset}`; score = ∫ρ(τ)dτ/{TAU_MAX - 1:g} over τ in [1, {TAU_MAX:g}] "
        f"of steps to target (1 = fastest on every workload); {cfg.studies} study(ies). "
        "Steps to target are from the first study; inf = target missed within the budget."
    )
    report.add_table(table)
    fig = plot_performance_profile(costs, cfg.optimizers, tau_max=TAU_MAX,
                                   title="Performance profile (steps to target)")  # fmt: skip
    run_dir.save_figure(fig, "profile", svg=False)
    report.add_figure(fig, "performance profile")
    for w in cfg.workloads:
        fig = _curves(result, w)
        run_dir.save_figure(fig, f"curves_{w}", svg=False)
        report.add_figure(fig, f"{w}: validation metric of the best trials")
    report.add_heading("Machine")
    report.add_table([machine()])
    path = report.save(run_dir)
    return {"table": table, "report": str(path)}
