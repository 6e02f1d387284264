"""Batch size and its cost (articles 000-002): time per epoch, per sample, and peak memory.

The articles advise batch sizes that are powers of two. This measures it on the machine it
runs on instead of repeating it: one epoch of the digits MLP (64-256-256-10, SGD) at batch
sizes that include powers of two and their neighbours, median of several epochs, and the
peak memory NumPy allocates for one step (``tracemalloc``). What it finds about powers of two
is reported, not asserted; the check is the part that holds on any machine: a larger batch
costs less time per sample (the per-step overhead is shared by more samples).
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np

import gdlab
from gdlab import datasets, nn, optim
from gdlab.lab.articles.claims import Check, ClaimResult, claim

__all__ = ["batch_cost", "epoch_cost"]

QUICK_SIZES = (1, 8, 30, 32, 33, 64, 100, 128, 130, 256)
FULL_SIZES = (
    1,
    2,
    4,
    8,
    15,
    16,
    17,
    30,
    32,
    33,
    63,
    64,
    65,
    100,
    127,
    128,
    129,
    130,
    255,
    256,
    257,
    512,
    1024,
)
NEIGHBOURS = {32: (30, 33), 64: (63, 65), 128: (127, 129, 130), 256: (255, 257), 16: (15, 17)}


def epoch_cost(batch: int, x: np.ndarray, y: np.ndarray, repeats: int) -> tuple[float, int]:
    """(median seconds per epoch, peak bytes NumPy allocates in one step) at ``batch``."""
    gdlab.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)
    )
    opt = optim.SGD(model.parameters(), lr=0.01)
    batches = [
        (gdlab.tensor(x[i : i + batch]), gdlab.tensor(y[i : i + batch]))
        for i in range(0, len(x), batch)
    ]

    def step(xb, yb):
        opt.zero_grad()
        nn.functional.cross_entropy(model(xb), yb).backward()
        opt.step()

    step(*batches[0])  # warm-up: buffers and optimizer state exist before anything is timed
    tracemalloc.start()
    step(*batches[0])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for xb, yb in batches:
            step(xb, yb)
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), int(peak)


def _figure(rows):
    import matplotlib.pyplot as plt

    b = np.array([r["batch"] for r in rows])
    pow2 = (b & (b - 1)) == 0
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, key, label in (
        (axes[0], "epoch_s", "seconds per epoch"),
        (axes[1], "us_per_sample", "µs per sample"),
        (axes[2], "peak_kib", "peak KiB in one step"),
    ):
        v = np.array([r[key] for r in rows])
        ax.loglog(b, v, "-", color="0.6", lw=0.8)
        ax.loglog(b[pow2], v[pow2], "o", color="C0", label="power of two")
        ax.loglog(b[~pow2], v[~pow2], "s", color="C1", label="other sizes")
        ax.set(xlabel="batch size", ylabel=label)
        ax.legend(fontsize=8)
    fig.suptitle("the cost of a batch size on this machine (digits MLP, SGD)")
    fig.tight_layout()
    return fig


@claim(
    "batch_cost",
    "articles 000-002: time per epoch and per sample and peak memory against "
    "batch size, powers of two measured rather than assumed",
    "articles 000-002",
)
def batch_cost(seed: int = 0, full: bool = False) -> ClaimResult:
    bunch = datasets.load("digits", seed=seed)
    x, y = (bunch.X_train / 16.0).astype(np.float32), bunch.y_train
    sizes = FULL_SIZES if full else QUICK_SIZES
    rows = []
    for batch in sizes:
        seconds, peak = epoch_cost(batch, x, y, repeats=5 if full else 3)
        rows.append(
            {
                "batch": batch,
                "epoch_s": seconds,
                "us_per_sample": seconds / len(x) * 1e6,
                "peak_kib": peak / 1024,
            }
        )
    per = {r["batch"]: r["us_per_sample"] for r in rows}
    findings = []
    for p, near in NEIGHBOURS.items():
        present = [n for n in near if n in per]
        if p in per and present:
            ratio = per[p] / np.mean([per[n] for n in present])
            findings.append(f"batch {p} costs {ratio:.2f}x its neighbours {present} per sample")
    big, small = max(per), min(per)
    checks = [
        Check(
            "a larger batch costs less time per sample",
            per[big] < per[small] / 2,
            f"{per[big]:.1f} µs at batch {big} < half of {per[small]:.1f} µs at batch {small}",
        )
    ]
    settings = {"model": "64-256-256-10 ReLU, SGD", "samples": len(x), "sizes": list(sizes)}
    return ClaimResult(
        rows,
        checks,
        settings,
        {"batch_cost": lambda: _figure(rows)},
        notes="On this machine: " + "; ".join(findings) + ".",
    )
