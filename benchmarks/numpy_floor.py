"""MLP step: gdlab vs the hand-written NumPy forward/backward (the floor) vs PyTorch eager.

The MLP 784-256-256-10, ReLU, softmax cross-entropy, SGD(lr=0.01), float32, on a fixed batch
of 32, 128 and 1024. The three steps are timed interleaved in one process. Issue 7's target:
gdlab within 1.25x of the NumPy floor's time (and >= PyTorch's speed, see mlp_cnn_step).

Run alone: ``python -m benchmarks.numpy_floor [--smoke] [--threads 1]``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np

from benchmarks import models
from benchmarks.harness import compare, long_run_state, row, thread_limit

BATCHES = (32, 128, 1024)
LR = 0.01


def _steps(batch: int, sizes: tuple[int, ...]) -> tuple[dict[str, Callable[[], object]], str]:
    """The contenders' step functions on one shared batch and one shared initialisation."""
    rng = np.random.default_rng(batch)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch)
    params = models.init_params(sizes)
    floor = models.NumpyMLP(sizes, params)
    steps: dict[str, Callable[[], object]] = {"numpy": lambda: floor.step(x, y, LR)}
    note = "gdlab with gdlab.optim.SGD"
    import torch

    tmodel = models.build_mlp(torch, sizes, params)
    topt = torch.optim.SGD(tmodel.parameters(), lr=LR)
    steps["torch"] = models.make_step(torch, tmodel, topt, x, y)
    import gdlab

    missing = models.gdlab_nn_missing()
    if missing is None:
        gmodel = models.build_mlp(gdlab, sizes, params)
        gopt = gdlab.optim.SGD(gmodel.parameters(), lr=LR)
        steps["gdlab"] = models.make_step(gdlab, gmodel, gopt, x, y)
    else:
        core = models.CoreMLP(sizes, params)
        gx, gy = gdlab.from_numpy(x), gdlab.from_numpy(y[:, None])
        steps["gdlab"] = lambda: core.step(gx, gy, LR)
        note = "gdlab = core ops + hand SGD (gdlab.nn missing)"
    return steps, note


def run(threads: int = 1, smoke: bool = False) -> list[dict]:
    """Rows: gdlab vs NumPy floor, NumPy floor vs torch, gdlab vs torch, per batch size."""
    long_run_state()  # steady-state step times: numba's kernels bought
    sizes = (64, 32, 32, 10) if smoke else models.MLP_SIZES
    batches = (8,) if smoke else BATCHES
    rows = []
    for batch in batches:
        steps, note = _steps(batch, sizes)
        repeats, min_time = (2, 0.001) if smoke else (9, 0.1)
        s = compare(steps, repeats=repeats, min_time=min_time, warmup=2)
        name = f"MLP step b={batch}"
        rows += [
            row(name, s["gdlab"], "numpy floor", s["numpy"], note, target=1.25),
            row(name, s["numpy"], "torch", s["torch"], "the floor itself", subject="numpy floor"),
            row(name, s["gdlab"], "torch", s["torch"], note, target=1.0),
        ]
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    with thread_limit(args.threads):
        for r in run(args.threads, args.smoke):
            print(r)


if __name__ == "__main__":
    main()
