"""Decaying the learning rate settles stochastic gradient descent (article 003 §4.2, d2l 12.4).

With noisy gradients (here: the exact gradient of f(x) = x₁² + 2x₂² plus standard normal
noise, as d2l 12.4) a constant learning rate keeps the iterate jittering at a noise floor
proportional to the rate; step, exponential, 1/t and cosine decay shrink the steps and end
below it. Every run uses gdlab's ``optim.SGD`` and its ``lr_scheduler`` classes.
"""

from __future__ import annotations

import numpy as np

import gdlab
from gdlab import optim
from gdlab.lab.articles.claims import Check, ClaimResult, claim, runs_per_variant
from gdlab.lab.sweeps import Trials
from gdlab.optim import lr_scheduler

__all__ = ["SCHEDULES", "lr_decay", "noisy_run", "noisy_sgd"]

LR, STEPS, START = 0.1, 1000, (-5.0, -2.0)
TAIL = 100  # the noise floor: mean f over the last TAIL steps

SCHEDULES = {
    "constant": lambda opt: None,
    "step (x0.5 every 200)": lambda opt: lr_scheduler.StepLR(opt, step_size=200, gamma=0.5),
    "exponential (0.995)": lambda opt: lr_scheduler.ExponentialLR(opt, gamma=0.995),
    "1/t: 1 / (1 + 0.01 t)": lambda opt: lr_scheduler.LambdaLR(opt, lambda t: 1 / (1 + 0.01 * t)),
    "cosine": lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=STEPS),
}


def f(x: np.ndarray) -> np.ndarray:
    return x[..., 0] ** 2 + 2.0 * x[..., 1] ** 2


def noisy_sgd(schedule: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(f after every step, lr of every step) of SGD with noisy gradients under ``schedule``."""
    rng = np.random.default_rng(seed)
    x = gdlab.tensor(np.array(START), requires_grad=True)
    opt = optim.SGD([x], lr=LR)
    sched = SCHEDULES[schedule](opt)
    values, lrs = [], []
    for _ in range(STEPS):
        point = x.data
        x.grad = np.array([2.0 * point[0], 4.0 * point[1]]) + rng.standard_normal(2)
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        if sched is not None:
            sched.step()
        values.append(float(f(x.data)))
    return np.array(values), np.array(lrs)


def noisy_run(schedule: str, seed: int) -> dict[str, list[float]]:
    """``noisy_sgd`` as a trial: its values and learning rates as lists."""
    values, lrs = noisy_sgd(schedule, seed)
    return {"values": values.tolist(), "lrs": lrs.tolist()}


def _figure(curves, lrs):
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.4), gridspec_kw={"width_ratios": [3, 2]})
    kernel = np.ones(20) / 20
    for k, (name, values) in enumerate(curves.items()):
        ax.semilogy(np.convolve(values, kernel, mode="valid"), color=f"C{k}", label=name)
        bx.plot(lrs[name], color=f"C{k}", label=name)
    ax.set(
        xlabel="step",
        ylabel="f (median over seeds, 20-step mean)",
        title="noisy SGD on x₁² + 2x₂²: constant rate vs decay",
    )
    ax.legend(fontsize=8)
    bx.set(xlabel="step", ylabel="learning rate", title="the schedules")
    fig.tight_layout()
    return fig


@claim(
    "lr_decay",
    "article 003 §4.2: a decaying learning rate settles noisy SGD below the "
    "noise floor of a constant rate (d2l 12.4's experiment)",
    "article 003 §4.2; d2l 12.4",
    uses_trials=True,
)
def lr_decay(seed: int = 0, full: bool = False, trials: Trials | None = None) -> ClaimResult:
    seeds = range(seed, seed + (20 if full else 5))
    variants = {name: {"schedule": name} for name in SCHEDULES}
    curves, lrs, floors = {}, {}, {}
    for name, runs in runs_per_variant(trials, f"{__name__}:noisy_run", variants, seeds).items():
        values = np.array([r["values"] for r in runs])
        curves[name] = np.median(values, axis=0)
        lrs[name] = np.array(runs[0]["lrs"])
        floors[name] = float(np.median(values[:, -TAIL:].mean(axis=1)))
    base = floors["constant"]
    table = [{"schedule": n, "floor": v, "final_lr": float(lrs[n][-1])} for n, v in floors.items()]
    checks = [
        Check(
            f"{n} ends below the constant rate's noise floor",
            floors[n] < base / 2,
            f"{floors[n]:.4f} < {base:.4f} / 2",
        )
        for n in SCHEDULES
        if n != "constant"
    ]
    settings = {
        "lr": LR,
        "steps": STEPS,
        "start": list(START),
        "seeds": list(seeds),
        "floor": f"mean f over the last {TAIL} steps, median over seeds",
    }
    return ClaimResult(table, checks, settings, {"lr_decay": lambda: _figure(curves, lrs)})
