"""What ``compare`` writes: metrics files, the results table, the figures and the report.

Files (see ``gdlab.lab.output.rundir`` for the formats): ``metrics.csv``/``.jsonl`` (one row per run
and epoch, from epoch 0 = the untrained model, no wall times), ``timing.csv`` (wall times, 0
at epoch 0), ``tuning.csv`` (every lr trial),
``summary.json`` (the table without wall times, chosen lrs, settings), ``curves-<data>.png``,
``steps-<data>.png``, ``profile.png`` (several data sets), ``report.html``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from gdlab.lab.compare.profiles import plot_performance_profile
from gdlab.lab.compare.protocol import CompareResult, Run
from gdlab.lab.optimizers import tunes_lr
from gdlab.lab.output.plots import COLORS, Series, plot_loss_curves
from gdlab.lab.output.report import Report
from gdlab.lab.output.rundir import RunDir
from gdlab.lab.output.tables import short_table
from gdlab.lab.search import at_edge, lr_grid
from gdlab.lab.tasks import dataset_stem

__all__ = [
    "lr_at_grid_edge",
    "metrics_rows",
    "summary_rows",
    "timing_rows",
    "write_compare",
]


def _metric(result: CompareResult, dataset: str) -> str:
    for r in result.runs:
        if r.dataset == dataset:
            return "r2" if "val_r2" in r.epochs else "accuracy"
    return "accuracy"


def metrics_rows(result: CompareResult) -> list[dict[str, Any]]:
    """One row per (run, epoch), epoch 0 (before training) first; deterministic (no wall
    time). A diverged run ends with a row ``epoch=None, step=<step>, diverged=True``."""
    rows = []
    for r in result.runs:
        base = {
            "dataset": r.dataset,
            "variant": r.variant.label,
            "optimizer": r.variant.optimizer,
            "batch_mode": r.variant.batch_mode,
            "lr": r.lr,
            "seed": r.seed,
        }
        for i in range(len(r.epochs["epoch"])):
            rows.append(base | {k: col[i] for k, col in r.epochs.items()} | {"diverged": False})
        if r.diverged:
            rows.append(base | {"epoch": None, "step": r.diverged_at, "diverged": True})
    return rows


def timing_rows(result: CompareResult) -> list[dict[str, Any]]:
    """Wall-clock seconds at the end of each epoch, 0 at epoch 0 (the only non-deterministic
    numbers)."""
    return [
        {
            "dataset": r.dataset,
            "variant": r.variant.label,
            "seed": r.seed,
            "epoch": e,
            "wall_time": t,
        }
        for r in result.runs
        for e, t in zip(r.epochs["epoch"], r.wall_time, strict=False)
    ]


def _median(values: Sequence[float]) -> float:
    finite = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.median(finite)) if finite else float("nan")


def summary_rows(result: CompareResult, timing: bool = True) -> list[dict[str, Any]]:
    """The results table: medians over seeds per (data set, variant).

    Classification: losses (cross-entropy), validation and test accuracy. Regression: the MSE
    in the targets' own units (training, validation), validation RMSE, validation and test R²;
    the target is on the validation metric (``CompareConfig.target_for``)."""
    rows = []
    for d in result.datasets:
        m = _metric(result, d)
        target = result.config.target_for(m)
        for v in result.variants:
            runs = result.runs_of(d, v.label)
            if not runs:
                continue
            tt = np.array([r.to_target(m, target) for r in runs])
            row = {
                "dataset": d,
                "variant": v.label,
                "optimizer": v.optimizer,
                "batch": v.batch_mode,
                # no lr for an optimizer whose lr is not a step size to tune (L-BFGS)
                "lr": result.best_lr.get((d, v.label)) if tunes_lr(v.optimizer) else None,
                **_final_columns(runs, m),
                "steps_to_target": float(np.median(tt[:, 0])),
                "samples_to_target": float(np.median(tt[:, 1])),
            }
            if timing:
                row["time_to_target_s"] = float(np.median(tt[:, 2]))
                row["time_s"] = _median(  # NaN: no epoch finished (only epoch 0's 0 s)
                    [r.wall_time[-1] if len(r.wall_time) > 1 else math.nan for r in runs]
                )
            row["diverged"] = f"{sum(r.diverged for r in runs)}/{len(runs)}"
            rows.append(row)
    return rows


def _final_columns(runs: list[Run], m: str) -> dict[str, float]:
    """The final losses and metrics of a variant's runs (medians), named for the task."""
    train_loss = _median([r.final("train_loss") for r in runs])
    val_loss = _median([r.final("val_loss") for r in runs])
    val_metric = _median([r.final(f"val_{m}") for r in runs])
    test_metric = _median([r.test_metric for r in runs])
    if m == "accuracy":
        return {"train_loss": train_loss, "val_loss": val_loss, "val_acc": val_metric,
                "test_acc": test_metric}  # fmt: skip
    return {
        "train_mse": train_loss,
        "val_mse": val_loss,
        "val_rmse": math.sqrt(val_loss) if val_loss >= 0 else math.nan,
        "val_r2": val_metric,
        "test_r2": test_metric,
    }


# --------------------------------------------------------------------------- figures
def _band(runs: list[Run], key: str, x_of: str) -> tuple[np.ndarray, ...]:
    """x (median over seeds), the median of ``key`` and its 25-75% band, per epoch."""
    n = max(len(r.epochs["epoch"]) for r in runs)
    ys = np.full((len(runs), n), np.nan)
    xs = np.full((len(runs), n), np.nan)
    for i, r in enumerate(runs):
        k = len(r.epochs["epoch"])
        ys[i, :k] = [np.nan if v is None else v for v in r.epochs[key]]
        xs[i, :k] = r.wall_time[:k] if x_of == "wall_time" else r.epochs[x_of]
    # All-NaN columns (every seed diverged by then) are expected: NaN, silently.
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return (
            np.nanmedian(xs, 0),
            np.nanmedian(ys, 0),
            np.nanpercentile(ys, 25, 0),
            np.nanpercentile(ys, 75, 0),
        )


def _label(result: CompareResult, d: str, label: str, runs: list[Run]) -> str:
    lr = result.best_lr.get((d, label)) if tunes_lr(runs[0].variant.optimizer) else None
    bad = sum(r.diverged for r in runs)
    parts = ([f"lr {lr:.2g}"] if lr else []) + ([f"{bad}/{len(runs)} diverged"] if bad else [])
    return f"{label} ({', '.join(parts)})" if parts else label


def _overlay_train_metric(result: CompareResult, d: str, variants: list, m: str, x_of: str,
                          ax: Any) -> None:  # fmt: skip

    for i, v in enumerate(variants):
        runs = [r for r in result.runs_of(d, v.label) if r.epochs["epoch"]]
        if runs:
            x, y, _, _ = _band(runs, f"train_{m}", x_of)
            ax.plot(x, y, ls="--", lw=1.0, alpha=0.8, color=COLORS[i % len(COLORS)])
    ax.set_ylabel(f"{m} (solid: validation, dashed: training)")


def _time_axis(ax: Any, result: CompareResult, d: str, variants: list) -> None:
    """Wall time on a symlog axis: linear from 0 (epoch 0) to the power of ten below the
    earliest first epoch, logarithmic above, so every curve starts at 0 s and the decades
    between BGD's and SGD's epochs stay readable."""
    from matplotlib.ticker import NullFormatter

    firsts = [
        r.wall_time[1]
        for v in variants
        for r in result.runs_of(d, v.label)
        if len(r.wall_time) > 1 and r.wall_time[1] > 0
    ]
    thresh = 10.0 ** math.floor(math.log10(min(firsts))) if firsts else 1.0
    ax.set_xscale("symlog", linthresh=thresh, linscale=0.5)
    ax.set_xlim(left=0.0)
    ax.xaxis.set_minor_formatter(NullFormatter())  # labels collide


def curves_figure(result: CompareResult, d: str, group: str) -> Any:
    """Rows: training loss, validation loss, accuracy (validation solid, training dashed);
    columns: against epochs, samples seen and wall time (symlog: 0 s is on the axis). Every
    curve starts at epoch 0, the untrained model. Median over seeds, 25-75% band."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    m = _metric(result, d)
    variants = [v for v in result.variants if v.group == group]
    fig = Figure(figsize=(15, 11), layout="constrained")
    axes = fig.subplots(3, 3)
    xs = [("epoch", "epoch"), ("samples_seen", "samples seen"), ("wall_time", "wall time (s)")]
    loss = "loss" if m == "accuracy" else "MSE (original units)"
    ys = [
        ("train_loss", f"training {loss}", True),
        ("val_loss", f"validation {loss}", True),
        (f"val_{m}", f"validation {m}", False),
    ]
    for i, (key, ylabel, log) in enumerate(ys):
        for j, (x_of, xlabel) in enumerate(xs):
            series = []
            for v in variants:
                runs = [r for r in result.runs_of(d, v.label) if r.epochs["epoch"]]
                if runs:
                    x, y, lo, hi = _band(runs, key, x_of)
                    series.append(Series(_label(result, d, v.label, runs), x, y, lo, hi))
            plot_loss_curves(series, ax=axes[i, j], xlabel=xlabel, ylabel=ylabel, log=log)
            if key == f"val_{m}":  # training accuracy dashed beside it: the generalisation gap
                _overlay_train_metric(result, d, variants, m, x_of, axes[i, j])
            if x_of == "wall_time":  # SGD's per-sample steps take 10-100x longer than BGD's
                _time_axis(axes[i, j], result, d, variants)
            elif x_of == "epoch":
                axes[i, j].xaxis.set_major_locator(MaxNLocator(integer=True))
            if (i, j) != (0, 0) and axes[i, j].get_legend():
                axes[i, j].get_legend().remove()
    fig.suptitle(f"{d}: {group} (median over seeds, band = 25-75%)")
    return fig


def steps_figure(result: CompareResult, d: str) -> Any:
    """Per-step training loss against samples seen for the batch modes (first seed).

    Colours match the curves figure; the noisiest curve is drawn first, underneath.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 5), layout="constrained")
    ax = fig.add_subplot()
    modes = [v for v in result.variants if v.group == "batch modes"]
    runs = {v.label: result.runs_of(d, v.label) for v in modes}
    order = sorted(
        range(len(modes)),
        key=lambda i: -len(runs[modes[i].label][0].step_loss) if runs[modes[i].label] else 0,
    )
    for i in order:
        v = modes[i]
        if not runs[v.label] or not runs[v.label][0].step_loss:
            continue
        r = runs[v.label][0]
        before = [0, *r.step_samples[:-1]]  # a step's loss is measured before its update
        many = len(r.step_loss) > 2000
        ax.plot(
            before,
            r.step_loss,
            lw=0.5 if many else 1.4,
            alpha=0.55 if many else 1.0,
            color=COLORS[i % len(COLORS)],
            label=f"{v.label}: {len(r.step_loss)} steps, lr {r.lr:.2g}",
        )
    ax.set_yscale("log")
    ax.set_xlabel("samples seen")
    ax.set_ylabel("training loss of the step's batch")
    ax.set_title(f"{d}: batch vs stochastic vs mini-batch descent (seed {result.config.seed})")
    ax.grid(True, alpha=0.3)
    if ax.lines:
        handles, labels = ax.get_legend_handles_labels()
        pairs = sorted(
            zip(labels, handles, strict=True),
            key=lambda p: [m.label for m in modes].index(p[0].split(":")[0]),
        )
        ax.legend([h for _, h in pairs], [lab for lab, _ in pairs], fontsize=9)
    return fig


def profile_costs(result: CompareResult) -> tuple[np.ndarray, list[str]]:
    """Median samples-to-target per (data set, variant); inf when not reached."""
    seen: set[tuple[str, str]] = set()  # "sgd" and "MBGD (batch b)" are the same runs: once
    labels = []
    for v in result.variants:
        if (v.optimizer, v.batch_mode) not in seen:
            seen.add((v.optimizer, v.batch_mode))
            labels.append(v.label)
    rows = {
        (r["dataset"], r["variant"]): r["samples_to_target"] for r in summary_rows(result, False)
    }
    costs = np.array([[rows.get((d, lab), math.inf) for lab in labels] for d in result.datasets])
    return costs, labels


def lr_at_grid_edge(result: CompareResult) -> list[str]:
    """Variants (``"label"``, or ``"data set: label"`` with several) whose chosen lr is the
    smallest or largest one tried: their best lr may lie outside the searched range."""
    c = result.config
    if c.lr or c.trials < 2:
        return []
    variants = {v.label: v for v in result.variants}
    out = []
    for (d, label), lr in result.best_lr.items():
        v = variants[label]
        if at_edge(lr, lr_grid(v.optimizer, c.trials, v.batch_mode)):
            out.append(label if len(result.datasets) == 1 else f"{d}: {label}")
    return out


def write_compare(result: CompareResult, run_dir: RunDir, command: str = "gdlab compare") -> dict:
    """Write every file of a comparison into ``run_dir`` (a RunDir); return the summary."""
    summary = _write_data(result, run_dir)
    table = summary_rows(result)
    rep = Report(
        f"Optimizer comparison: {', '.join(result.datasets)}",
        subtitle=command,
        seed=result.config.seed,
        settings=result.settings,
    )
    rep.add_text(_protocol_text(result))
    if result.interrupted:
        rep.add_text("Interrupted: the tables and figures show the runs finished before Ctrl-C.")
    if edge := lr_at_grid_edge(result):
        rep.add_text(
            f"At the edge of its learning-rate range: {', '.join(edge)}. The best lr may lie "
            "outside the range searched; the range is in the settings (`lr_ranges`)."
        )
    rep.add_heading("Results")
    rep.add_table(
        short_table(table, len(result.datasets) > 1, drop=("batch",)),
        caption="Median over seeds (time columns are wall-clock seconds)",
        bad=[not r["diverged"].startswith("0/") for r in table],
    )
    for fig, stem, caption in _figures(result):
        run_dir.save_figure(fig, stem)
        rep.add_figure(fig, caption=caption)
    rep.add_heading("Tuning trials")
    rep.add_table(
        result.tuning,
        caption="Every learning rate tried (validation loss after the "
        "tuning epochs; inf = diverged)",
    )
    path = rep.save(run_dir)
    return {"table": table, "report": str(path), "summary": summary, "lr_at_edge": edge}


def _write_data(result: CompareResult, run_dir: RunDir) -> dict[str, Any]:
    """config.toml, metrics, timing.csv, tuning.csv and summary.json; returns the summary."""
    run_dir.write_config(result.settings)
    run_dir.write_metrics(metrics_rows(result))
    run_dir.write_csv(
        "timing.csv", timing_rows(result), ["dataset", "variant", "seed", "epoch", "wall_time"]
    )
    run_dir.write_csv(
        "tuning.csv", result.tuning, ["dataset", "variant", "lr", "val_loss", "diverged"]
    )
    summary = {
        "settings": result.settings,
        "results": summary_rows(result, timing=False),
        "best_lr": [
            {"dataset": d, "variant": v, "lr": lr} for (d, v), lr in result.best_lr.items()
        ],
        "interrupted": result.interrupted,
    }
    run_dir.write_json("summary.json", summary)
    return summary


def _figures(result: CompareResult) -> Iterator[tuple[Any, str, str]]:
    """(figure, file stem, caption) for every figure of the comparison, in report order."""
    for d in result.datasets:
        for group in ("optimizers", "batch modes"):
            if any(v.group == group and result.runs_of(d, v.label) for v in result.variants):
                yield (
                    curves_figure(result, d, group),
                    f"curves-{dataset_stem(d)}-{group.replace(' ', '-')}",
                    f"{d}: {group}, against epochs, samples seen and time",
                )
        if any(v.group == "batch modes" for v in result.variants) and result.runs:
            yield (
                steps_figure(result, d),
                f"steps-{dataset_stem(d)}",
                "Per-step loss: BGD smooth, MBGD jagged, SGD very noisy",
            )
    if len(result.datasets) > 1 and result.runs:
        costs, labels = profile_costs(result)
        if np.isfinite(costs).any():
            title = f"Samples to target: performance profile over {len(costs)} data sets"
            yield (
                plot_performance_profile(costs, labels, title=title),
                "profile",
                "Performance profile over data sets (Dolan-Moré)",
            )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _protocol_text(result: CompareResult) -> str:
    c = result.config
    if c.lr:
        tuned = f"all at lr {c.lr}"
    else:
        tuned = (
            f"each tuned with the same budget of {c.trials} learning rates (log grid over "
            f"its family's range, {_plural(c.tune_epochs, 'epoch')} per trial, scored by "
            "validation loss; a diverged trial scores infinity)"
        )
    hidden = " → ".join(map(str, c.hidden))
    if fixed := sorted({v.label for v in result.variants if not tunes_lr(v.optimizer)}):
        tuned += (
            f"; {', '.join(fixed)} on the full batch at its own settings (its line search "
            "chooses the step: no learning rate to tune)"
        )
    if (schedule := c.lr_schedule()).active:
        tuned += (
            f"; the lr follows the schedule {schedule.describe()} per epoch from each run's lr "
            "(t_max/total_steps: the run's epochs)"
        )
    metrics = dict.fromkeys(_metric(result, d) for d in result.datasets)
    targets = " and ".join(
        f"validation {'accuracy' if m == 'accuracy' else 'R²'} {c.target_for(m)}" for m in metrics
    )
    regression = (
        " Regression targets are trained standardised (the training part's mean and standard "
        "deviation); losses are reported as the MSE in the targets' own units."
        if "r2" in metrics
        else ""
    )
    network = {
        "mlp": f"An MLP (inputs → {hidden} → outputs, {c.activation})",
        "cnn": f"A CNN (two convolutions of {c.hidden[0] if c.hidden else 32} channels, ReLU, "
        "a linear head)",
        "gru": f"A GRU (state {c.hidden[0] if c.hidden else 32}) reading the features as a "
        "sequence",
        "lstm": f"An LSTM (state {c.hidden[0] if c.hidden else 32}) reading the features as a "
        "sequence",
    }[c.model]
    return (
        f"{network} trained with every variant, "
        f"{tuned}, then trained for {_plural(c.epochs, 'epoch')} from "
        f"{_plural(c.seeds, 'seed')}. Curves show the median over seeds with the 25-75% "
        "band, from epoch 0 (the untrained model: step 0, 0 samples, 0 s; its training loss is "
        "over the whole training set, later epochs' the mean over their steps). Target for "
        f"steps/samples/time to target: {targets}, checked at epoch 0 and at the end of each "
        f"epoch.{regression}"
    )
