"""Scaling: time per epoch of the MLP as the batch size and the width grow, gdlab vs PyTorch.

MLP 784-w-w-10 (ReLU, cross-entropy, SGD), an epoch of 8192 samples. The batch sweep
(w = 256) shows the time per step growing linearly with the batch (a fixed per-step overhead
plus a per-sample cost); the width sweep (batch 128) shows the time per epoch growing
linearly with the number of parameters. Steps are timed interleaved on a fixed batch and
scaled to an epoch (``ceil(8192 / batch)`` steps). ``plot`` draws both sweeps with
least-squares lines.

Run alone: ``python -m benchmarks.scaling [--smoke] [--plot PATH]``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from benchmarks import models
from benchmarks.harness import compare, long_run_state, row, thread_limit

ONCE = True  # one thread count is enough to show the shape of the curves
EPOCH = 8192
LR = 0.01


def _candidates(batch: int, width: int, n_in: int) -> tuple[dict, str]:
    import torch

    import gdlab

    sizes = (n_in, width, width, 10)
    rng = np.random.default_rng(batch + width)
    x = rng.standard_normal((batch, n_in), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    params = models.init_params(sizes)
    tmodel = models.build_mlp(torch, sizes, params)
    steps = {
        "torch": models.make_step(torch, tmodel, torch.optim.SGD(tmodel.parameters(), lr=LR), x, y)
    }
    if models.gdlab_nn_missing() is None:
        gmodel = models.build_mlp(gdlab, sizes, params)
        gopt = gdlab.optim.SGD(gmodel.parameters(), lr=LR)
        steps["gdlab"] = models.make_step(gdlab, gmodel, gopt, x, y)
        return steps, ""
    core = models.CoreMLP(sizes, params)
    gx, gy = gdlab.from_numpy(x), gdlab.from_numpy(y[:, None])
    steps["gdlab"] = lambda: core.step(gx, gy, LR)
    return steps, "gdlab = core ops + hand SGD (gdlab.nn missing)"


def run(threads: int = 1, smoke: bool = False) -> list[dict]:
    """One row per (batch, width) point: time per epoch, gdlab vs torch."""
    long_run_state()  # steady-state step times: numba's kernels bought
    if smoke:
        n_in, batches, widths, repeats, min_time = 32, (4, 8), (8, 16), 2, 0.001
    else:
        n_in, batches, widths, repeats, min_time = 784, (16, 32, 64, 128, 256, 512, 1024), (
            128, 256, 384, 512, 768, 1024), 5, 0.05  # fmt: skip
    points = [("batch", b, 256 if not smoke else 16) for b in batches]
    points += [("width", 128 if not smoke else 8, w) for w in widths]
    rows = []
    for axis, batch, width in points:
        steps, note = _candidates(batch, width, n_in)
        s = compare(steps, repeats=repeats, min_time=min_time, warmup=2)
        n_steps = math.ceil(EPOCH / batch)
        r = row(
            f"epoch, batch {batch}, width {width}",
            n_steps * s["gdlab"].median,
            "torch",
            n_steps * s["torch"].median,
            note or f"{n_steps} steps of {EPOCH} samples",
        )
        params = n_in * width + width + width * width + width + width * 10 + 10
        r.update(axis=axis, batch=batch, width=width, params=params, steps=n_steps)
        rows.append(r)
    return rows


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares line ``y = a x + b`` and its R^2."""
    a, b = np.polyfit(x, y, 1)
    pred = a * x + b
    ss = float(np.sum((y - y.mean()) ** 2)) or 1.0
    return float(a), float(b), 1.0 - float(np.sum((y - pred) ** 2)) / ss


def plot(rows: list[dict], path: str | Path) -> bool:
    """Draw the two sweeps to ``path`` (PNG); False if there is nothing to draw."""
    rows = [r for r in rows if "axis" in r]
    if not rows:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    panels = (
        ("batch", "batch", "batch size (width 256)", "time per step (ms)", 1),
        ("width", "params", "parameters, millions (batch 128)", "time per epoch (s)", 0),
    )
    for ax, (axis, key, xlabel, ylabel, per_step) in zip(axes, panels, strict=True):
        sel = [r for r in rows if r["axis"] == axis]
        if len(sel) < 2:
            continue
        x = np.array([r[key] for r in sel], dtype=float) / (1.0 if per_step else 1e6)
        for who, col, color in (
            ("gdlab", "gdlab_s", "tab:blue"),
            ("torch", "peer_s", "tab:orange"),
        ):
            y = np.array([r[col] / (r["steps"] if per_step else 1) for r in sel], dtype=float)
            y = y * (1e3 if per_step else 1.0)
            a, b, r2 = _fit(x, y)
            ax.plot(x, y, "o", color=color, label=f"{who} (linear fit R²={r2:.3f})")
            grid = np.linspace(0, x.max(), 50)
            ax.plot(grid, a * grid + b, "-", color=color, alpha=0.6)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend()
    threads = rows[0].get("threads", 1)
    fig.suptitle(
        f"MLP 784-w-w-10, SGD, epoch = {EPOCH} samples, {threads} thread(s): cost grows linearly"
    )
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--plot", default=None, help="write the PNG here")
    args = parser.parse_args(argv)
    with thread_limit(args.threads):
        rows = run(args.threads, args.smoke)
    for r in rows:
        print(r)
    if args.plot:
        plot(rows, args.plot)


if __name__ == "__main__":
    main()
