"""The pictures in the docs, made by the lab itself: ``python -m gdlab.lab.gallery docs/img``.

Every optimizer in a comparison picture is tuned with the same budget of learning rates
(``gdlab.lab.surface.tuning``), so the picture compares optimizers, not someone's favourite lrs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from gdlab.lab.articles import reproduce
from gdlab.lab.output.fileio import save_figure
from gdlab.lab.output.plots import Series, plot_loss_curves, plot_schedules, plot_trajectories
from gdlab.lab.search import LR_RANGE
from gdlab.lab.surface.animate import animate_trajectories
from gdlab.lab.surface.trajectories import run_trajectory
from gdlab.lab.surface.tuning import compare_optimizers, jittered_starts
from gdlab.optim import schedules as sch
from gdlab.optim.registry import OPTIMIZERS, TORCH_OPTIMIZERS

__all__ = ["IMAGES", "main", "make_docs_images"]

BUDGET = 12  # learning rates tried per optimizer in every tuned picture
# The optimizers beyond torch.optim by family, a picture each (with Adam for scale); a new
# registry optimizer is drawn in "other" until it is given a family here.
FAMILIES = {
    "adam_like": {"adabelief", "yogi", "adan", "adabound", "amsbound", "adopt", "ademamix"},
    "schedule_free_and_adaptive": {"sgd_schedule_free", "adamw_schedule_free",
                                   "radam_schedule_free", "prodigy", "dadapt_sgd", "dadapt_adam"},
    "preconditioned": {"shampoo", "soap", "sophia", "newton", "damped_newton", "adahessian",
                       "sophiah"},
}  # fmt: skip


def _tuned(function: str, optimizers: Sequence[str], steps: int, **kw) -> list:
    results = compare_optimizers(function, optimizers, steps=steps, budget=BUDGET, **kw)
    return [r.trajectory for r in results.values()]


def _fair_title(text: str, steps: int) -> str:
    lo, hi = LR_RANGE
    return (f"{text}: {steps} steps, each optimizer with an lr to tune at its best of {BUDGET} "
            f"in [{lo:g}, {hi:g}]")  # fmt: skip


def ravine_optimizers(out: Path) -> list[Path]:
    runs = _tuned("ravine", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"], 30)
    fig = plot_trajectories("ravine", runs, title=_fair_title("ravine 0.1x² + 2y²", 30))
    return [save_figure(fig, out / "ravine_optimizers.png")]


def beyond_torch(out: Path) -> list[Path]:
    """The registry's optimizers beyond torch.optim on a ravine and Rosenbrock, a picture per
    family (``FAMILIES``; the rest in "other"), each with Adam for scale."""
    new = [n for n in OPTIMIZERS if n not in TORCH_OPTIMIZERS]
    families = set().union(*FAMILIES.values())
    groups = {name: ["adam", *(n for n in new if n in members)]
              for name, members in FAMILIES.items()}  # fmt: skip
    groups["other"] = ["adam", *(n for n in new if n not in families)]
    written = []
    for function, title, steps in [("ravine", "ravine 0.1x² + 2y²", 30),
                                   ("rosenbrock", "Rosenbrock", 300)]:  # fmt: skip
        for group, names in groups.items():
            runs = _tuned(function, names, steps)
            fig = plot_trajectories(function, runs, title=_fair_title(title, steps),
                                    figsize=(15, 6.5))  # fmt: skip
            written.append(save_figure(fig, out / f"beyond_torch_{function}_{group}.png"))
    return written


def rotated_ravine(out: Path) -> list[Path]:
    runs = _tuned("rotated_ravine", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"],
                  30)  # fmt: skip
    title = _fair_title("the same ravine rotated 45°", 30)
    return [save_figure(plot_trajectories("rotated_ravine", runs, title=title),
                        out / "rotated_ravine.png")]  # fmt: skip


def rosenbrock_paths(out: Path) -> list[Path]:
    steps = 300
    runs = _tuned("rosenbrock", ["sgd", "momentum", "rmsprop", "adam", "lbfgs"], steps)
    fig = plot_trajectories("rosenbrock", runs, title=_fair_title("Rosenbrock", steps))
    png = save_figure(fig, out / "rosenbrock_paths.png")
    gif = animate_trajectories("rosenbrock", runs, out / "rosenbrock_paths.gif", dpi=72)
    return [png, gif]


def rosenbrock_spread(out: Path) -> list[Path]:
    """Median and interquartile band of f − f* over 9 nearby starts, each optimizer at the
    lr tuned on those starts."""
    steps, starts = 300, jittered_starts("rosenbrock", 9, scale=0.05, seed=0)
    results = compare_optimizers("rosenbrock", ["sgd", "momentum", "rmsprop", "adam"],
                                 steps=steps, budget=BUDGET, starts=starts)  # fmt: skip
    series = []
    for res in results.values():
        gaps = np.maximum(np.array([t.gap for t in res.best_trajectories]), 1e-16)
        q25, med, q75 = np.percentile(gaps, [25, 50, 75], axis=0)
        series.append(Series(res.label, np.arange(steps + 1), med, q25, q75))
    fig = plot_loss_curves(series, xlabel="step", ylabel="f − f*  (median, IQR over 9 starts)",
                           title="Rosenbrock from 9 nearby starts")  # fmt: skip
    return [save_figure(fig, out / "rosenbrock_spread.png")]


def saddle(out: Path) -> list[Path]:
    runs = [run_trajectory("saddle", o, (-1.8, 0.01), 30, 0.1) for o in
            ("sgd", "momentum", "rmsprop", "adam")]  # fmt: skip
    title = "saddle x² − y² from (−1.8, 0.01), lr 0.1: GD lingers at the saddle point longest"
    return [save_figure(plot_trajectories("saddle", runs, title=title), out / "saddle.png")]


def plateau(out: Path) -> list[Path]:
    runs = [run_trajectory("plateau", o, None, 60, lr) for o, lr in
            (("sgd", 0.5), ("momentum", 0.5), ("adagrad", 0.5), ("adam", 0.1))]  # fmt: skip
    title = "plateau 1 − exp(−x² − y²): a vanishing gradient stalls GD; AdaGrad and Adam rescale it"
    return [save_figure(plot_trajectories("plateau", runs, title=title), out / "plateau.png")]


def noisy_ravine(out: Path) -> list[Path]:
    """Gradient noise (N(0, 1) per coordinate, from seed 0) as in stochastic descent."""
    runs = [run_trajectory("ravine", "sgd", None, 40, 0.2),
            run_trajectory("ravine_noisy", "sgd", None, 40, 0.2, seed=0),
            run_trajectory("ravine_noisy", "momentum", None, 40, 0.05, seed=0),
            run_trajectory("ravine_noisy", "adam", None, 40, 0.2, seed=0)]  # fmt: skip
    labels = ["exact gradient", "noisy", "noisy", "noisy"]
    title = "the ravine with exact and noisy gradients: noise keeps the iterates jittering"
    fig = plot_trajectories("ravine", runs, title=title, labels=[
        f"{t.label}, {what}" for t, what in zip(runs, labels, strict=True)])  # fmt: skip
    return [save_figure(fig, out / "noisy_ravine.png")]


def experiments(out: Path) -> list[Path]:
    names = {"momentum_zigzag": "momentum_zigzag.png", "dlfs_optimizer_compare":
             "dlfs_optimizers.png", "d2l_gd_1d": "d2l_gd_1d.png",
             "d2l_local_minimum": "d2l_local_minimum.png"}  # fmt: skip
    return [save_figure(reproduce(n).plot(), out / f) for n, f in names.items()]


def schedules(out: Path) -> list[Path]:
    fig = plot_schedules(_schedule_examples(), steps=100, title="learning-rate schedules")
    return [save_figure(fig, out / "schedules.png")]


def _schedule_examples() -> dict[str, Callable[[int], float]]:
    return {
        "constant": sch.constant(0.1),
        "step: ×0.5 every 30": sch.step(0.1, step_size=30, gamma=0.5),
        "exponential: γ = 0.97": sch.exponential(0.1, gamma=0.97),
        "inverse time: 1/(1 + 0.05t)": sch.inverse_time(0.1, decay=0.05),
        "cosine to 0 at 100": sch.cosine(0.1, t_max=100),
        "warm-up 10 + cosine": sch.warmup_cosine(0.1, warmup_steps=10, total_steps=100),
        "one-cycle": sch.one_cycle(0.1, total_steps=101),
    }


IMAGES: dict[str, Callable[[Path], list[Path]]] = {
    "ravine_optimizers": ravine_optimizers,
    "beyond_torch": beyond_torch,
    "rotated_ravine": rotated_ravine,
    "rosenbrock_paths": rosenbrock_paths,
    "rosenbrock_spread": rosenbrock_spread,
    "noisy_ravine": noisy_ravine,
    "saddle": saddle,
    "plateau": plateau,
    "experiments": experiments,
    "schedules": schedules,
}


def make_docs_images(out: str | Path, only: Sequence[str] | None = None) -> list[Path]:
    """Draw the docs pictures into ``out`` (atomic writes) and return their paths."""
    out = Path(out)
    written = []
    for name in only or IMAGES:
        written += IMAGES[name](out)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m gdlab.lab.gallery OUT [--only NAME ...]``: draw the docs images into OUT."""
    parser = argparse.ArgumentParser(prog="python -m gdlab.lab.gallery", description=__doc__)
    parser.add_argument("out", help="directory for the images, e.g. docs/img")
    parser.add_argument("--only", nargs="+", choices=list(IMAGES), help="draw only these")
    args = parser.parse_args(argv)
    for path in make_docs_images(args.out, args.only):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
