"""Per-op engine overhead: forward + backward of a chain of small ops, gdlab beside PyTorch.

The chain alternates ``y + x``, ``y * 0.5`` and ``tanh(y)`` (100 ops) on a tiny array, so the
time is almost all Python bookkeeping: building the graph, walking it backwards, calling
each VJP and accumulating gradients. Both libraries run in the same process, repetitions
interleaved (so machine noise hits both alike), and the median is reported as microseconds
per op (forward and backward together) and the ratio gdlab / torch. A hand-written NumPy
forward and backward of the same chain shows the floor: what the arithmetic alone costs.

Run: ``python benchmarks/engine_overhead.py`` (``--smoke`` for a seconds-long check).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence

import numpy as np

import gdlab

N_OPS = 100


def chain(x, tanh: Callable, n_ops: int = N_OPS):
    """n_ops small ops (add, mul, tanh in turn) ending in a sum; returns the scalar."""
    y = x
    for i in range(n_ops):
        k = i % 3
        if k == 0:
            y = y + x
        elif k == 1:
            y = y * 0.5
        else:
            y = tanh(y)
    return y.sum()


def _gdlab_step(shape: tuple[int, ...]) -> Callable[[], None]:
    x = gdlab.tensor(np.ones(shape, dtype=np.float32), requires_grad=True)

    def step() -> None:
        x.grad = None
        chain(x, gdlab.tanh).backward()

    return step


def _numpy_step(shape: tuple[int, ...]) -> Callable[[], None]:
    """The same chain and its backward written by hand in NumPy: the floor with no engine."""
    x = np.ones(shape, dtype=np.float32)

    def step() -> None:
        y, tape = x, []
        for i in range(N_OPS):
            k = i % 3
            if k == 0:
                y = y + x
            elif k == 1:
                y = y * 0.5
            else:
                y = np.tanh(y)
            tape.append((k, y))
        g, gx = np.ones_like(x), np.zeros_like(x)
        for k, out in reversed(tape):
            if k == 0:
                gx = gx + g
            elif k == 1:
                g = g * 0.5
            else:
                g = g * (1 - out * out)

    return step


def _torch_step(torch, shape: tuple[int, ...]) -> Callable[[], None]:
    x = torch.ones(shape, dtype=torch.float32, requires_grad=True)

    def step() -> None:
        x.grad = None
        chain(x, torch.tanh).backward()

    return step


def measure(steps: dict[str, Callable[[], None]], repeats: int, warmup: int = 3) -> dict:
    """Median seconds per call of each step, calls interleaved round-robin."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            t0 = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


def run(shapes: Sequence[tuple[int, ...]], threads: Sequence[int], repeats: int) -> list[dict]:
    """One row per (shape, torch threads): microseconds per op and the ratio."""
    try:
        import torch
    except ImportError:  # the benchmark still times gdlab alone
        torch = None
    rows = []
    for shape in shapes:
        for n_threads in threads if torch is not None else [None]:
            steps = {"gdlab": _gdlab_step(shape), "numpy": _numpy_step(shape)}
            if torch is not None:
                torch.set_num_threads(n_threads)
                steps["torch"] = _torch_step(torch, shape)
            med = measure(steps, repeats)
            row = {"shape": shape, "threads": n_threads}
            row.update({f"{k}_us_per_op": v / N_OPS * 1e6 for k, v in med.items()})
            if torch is not None:
                row["ratio"] = med["gdlab"] / med["torch"]
            rows.append(row)
    return rows


def format_rows(rows: list[dict]) -> str:
    head = ["shape", "threads", "gdlab us/op", "torch us/op", "ratio", "numpy floor us/op"]
    lines = ["  ".join(f"{h:>10}" for h in head)]
    for r in rows:
        cells = [str(r["shape"]), str(r["threads"])] + [
            f"{r.get(k, float('nan')):.2f}"
            for k in ("gdlab_us_per_op", "torch_us_per_op", "ratio", "numpy_us_per_op")
        ]
        lines.append("  ".join(f"{c:>10}" for c in cells))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a few repetitions only")
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args(argv)
    repeats = 3 if args.smoke else args.repeats
    shapes = [(4,)] if args.smoke else [(4,), (16, 16)]
    rows = run(shapes, threads=[1] if args.smoke else [1, 2], repeats=repeats)
    print(f"chain of {N_OPS} ops (add, mul, tanh), forward + backward, median of {repeats}")
    print(format_rows(rows))
    return rows


if __name__ == "__main__":
    main()
