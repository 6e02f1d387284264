"""Momentum carries gradient descent out of a shallow local minimum (articles 001 and 004).

On the tilted double well f(x) = (x² − 1)² + 0.3x, started at x = 2, plain gradient descent
stops in the first (shallow) minimum near x = 0.96; with momentum 0.9 and the same learning
rate the velocity built on the way down carries it over the barrier near x = 0.08 into the
deeper minimum near x = −1.04. On Rastrigin (many local minima) momentum ends lower than
plain descent from some starts and higher from none, at the same learning rate.
Both use gdlab's ``optim.SGD``.
"""

from __future__ import annotations

import numpy as np

import gdlab
from gdlab import optim
from gdlab.lab.articles.claims import Check, ClaimResult, claim
from gdlab.lab.surface.trajectories import run_trajectory

__all__ = ["double_well", "momentum_escape"]

START, LR, STEPS = 2.0, 0.01, 300
RASTRIGIN_LR, RASTRIGIN_STEPS = 0.005, 400
BASIN = 0.5  # Rastrigin's minima differ by about 1 or more: a smaller difference is one basin


def double_well(x):
    """The tilted double well: shallow minimum near 0.96, deep one near −1.04."""
    return (x * x - 1.0) ** 2 + 0.3 * x


def descend(momentum: float, start: float = START, lr: float = LR, steps: int = STEPS):
    """The path of ``optim.SGD(lr, momentum)`` on :func:`double_well` from ``start``."""
    x = gdlab.tensor([start], dtype=gdlab.float64, requires_grad=True)
    opt = optim.SGD([x], lr=lr, momentum=momentum)
    path = [start]
    for _ in range(steps):
        opt.zero_grad()
        double_well(x).sum().backward()
        opt.step()
        path.append(float(x.data[0]))
    return np.array(path)


def _figure(paths, rastrigin):
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.4))
    grid = np.linspace(-1.6, 2.1, 400)
    ax.plot(grid, double_well(grid), color="0.4", lw=1)
    for k, (label, path) in enumerate(paths.items()):
        ax.plot(path, double_well(path), ".-", ms=3, lw=0.6, color=f"C{k}", label=label)
        ax.plot(path[-1], double_well(path[-1]), "o", ms=9, color=f"C{k}")
    ax.set(xlabel="x", ylabel="f(x)", title="f(x) = (x² − 1)² + 0.3x from x = 2")
    ax.legend()
    gd, mom = rastrigin
    bx.scatter(gd, mom, s=18)
    top = max(max(gd), max(mom)) * 1.05
    bx.plot([0, top], [0, top], "k:", lw=0.8)
    bx.set(
        xlabel="plain gradient descent: final f",
        ylabel="momentum 0.9: final f",
        title=f"Rastrigin, {len(gd)} random starts (below the line: momentum lower)",
    )
    fig.tight_layout()
    return fig


@claim(
    "momentum_escape",
    "articles 001/004: momentum carries descent out of a shallow local "
    "minimum that stops plain gradient descent",
    "articles 001 and 004 (momentum)",
)
def momentum_escape(seed: int = 0, full: bool = False) -> ClaimResult:
    paths = {"gradient descent": descend(0.0), "momentum 0.9": descend(0.9)}
    gd_end, mom_end = paths["gradient descent"][-1], paths["momentum 0.9"][-1]
    starts = np.random.default_rng(seed).uniform(-4.5, 4.5, size=(60 if full else 30, 2))
    finals = {
        name: [
            float(
                run_trajectory(
                    "rastrigin", name, start=s, steps=RASTRIGIN_STEPS, lr=RASTRIGIN_LR
                ).values[-1]
            )
            for s in starts
        ]
        for name in ("sgd", "momentum")
    }
    lower = sum(m < g - BASIN for g, m in zip(finals["sgd"], finals["momentum"], strict=True))
    higher = sum(m > g + BASIN for g, m in zip(finals["sgd"], finals["momentum"], strict=True))
    table = [
        {
            "function": "double well",
            "method": k,
            "final_x": float(p[-1]),
            "final_f": float(double_well(p[-1])),
        }
        for k, p in paths.items()
    ] + [
        {
            "function": "rastrigin",
            "method": k,
            "median_final_f": float(np.median(v)),
            "momentum_lower_from": lower,
            "momentum_higher_from": higher,
        }
        for k, v in finals.items()
    ]
    checks = [
        Check(
            "plain descent stops in the shallow minimum",
            abs(gd_end - 0.96) < 0.01,
            f"x = {gd_end:.4f}",
        ),
        Check(
            "momentum reaches the deeper minimum",
            abs(mom_end + 1.036) < 0.01,
            f"x = {mom_end:.4f}, f = {double_well(mom_end):.4f} < {double_well(gd_end):.4f}",
        ),
        Check(
            "on Rastrigin momentum ends lower from some starts, higher from none",
            lower > 0 and higher == 0,
            f"lower from {lower}, higher from {higher} of {len(starts)}",
        ),
    ]
    settings = {
        "start": START,
        "lr": LR,
        "steps": STEPS,
        "rastrigin_lr": RASTRIGIN_LR,
        "rastrigin_steps": RASTRIGIN_STEPS,
        "rastrigin_starts": len(starts),
    }
    rast = (finals["sgd"], finals["momentum"])
    return ClaimResult(table, checks, settings, {"escape": lambda: _figure(paths, rast)})
