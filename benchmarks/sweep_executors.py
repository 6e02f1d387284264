"""Sweep executors: the per-trial overhead of each, and trials per minute on 1 and 2 workers.

Overhead: ``N`` no-op trials through ``run_sweep`` once the executor is up (its start-up is
timed separately), per trial: scheduling, serialisation, the worker's call and the atomic
write of the trial file. Scaling: the same real trial (a small MLP trained for a fixed number
of steps) on local processes with 1 and 2 workers; parallel efficiency = rate(2) / (2 rate(1)).
A cluster's throughput follows as trials/hour = workers * 3600 / (trial time + overhead).

Run alone: ``python -m benchmarks.sweep_executors [--smoke]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import tempfile
import time

import numpy as np

from benchmarks.harness import ROOT, row

ONCE = True  # the executors set their own worker threads


def noop(seed: int) -> int:
    return seed


def train_mlp(steps: int, seed: int) -> float:
    """A real trial: ``steps`` Adam steps of a 64-128-10 MLP on seeded data."""
    import gdlab
    from gdlab import nn, optim

    rng = np.random.default_rng(seed)
    x = gdlab.tensor(rng.normal(size=(256, 64)).astype(np.float32))
    y = gdlab.tensor(rng.integers(0, 10, 256))
    gdlab.manual_seed(seed)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss = None
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return float(loss.item())


def _specs(function: str, n: int, offset: int, **params) -> list:
    from gdlab.lab.sweeps import TrialSpec

    return [TrialSpec(f"benchmarks.sweep_executors:{function}", params, seed=offset + i)
            for i in range(n)]  # fmt: skip


def _sweep_seconds(executor, specs) -> float:
    from gdlab.lab.sweeps import run_sweep

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = run_sweep(specs, tmp, executor)
        elapsed = time.perf_counter() - t0
    if res.failures:
        raise RuntimeError(f"{len(res.failures)} trials failed: {res.failures[0].reason}")
    return elapsed


def _available(name: str) -> bool:
    module = {"dask": "distributed", "ray": "ray"}.get(name)
    return module is None or importlib.util.find_spec(module) is not None


def run(threads: int = 1, smoke: bool = False) -> list[dict]:
    from gdlab.lab.sweeps import make_executor

    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    n = 20 if smoke else 200
    rows: list[dict] = []
    per_trial: dict[str, float] = {}
    # Smoke mode skips the clusters (their tests start them); a full run times all four.
    for name in ("serial", "processes") if smoke else ("serial", "processes", "dask", "ray"):
        if not _available(name):
            continue
        with make_executor(name, jobs=2) as ex:
            start = _sweep_seconds(ex, _specs("noop", 2, offset=10**6))  # start-up + warm-up
            per_trial[name] = _sweep_seconds(ex, _specs("noop", n, offset=0)) / n
        note = f"{n} no-op trials, 2 workers; start-up and first trials {start:.2f} s"
        rows.append(row("sweep overhead per trial", per_trial[name], "serial",
                        per_trial.get("serial"), note, subject=name))  # fmt: skip
    steps, trials = (5, 4) if smoke else (150, 8)
    rates = {}
    for jobs in (1, 2):
        with make_executor("processes", jobs=jobs) as ex:
            _sweep_seconds(ex, _specs("train_mlp", jobs, offset=10**6, steps=1))  # start workers
            elapsed = _sweep_seconds(ex, _specs("train_mlp", trials, offset=0, steps=steps))
        rates[jobs] = trials / elapsed * 60
    efficiency = rates[2] / (2 * rates[1])
    rows.append(row("trials per minute, 2 workers vs 1", rates[2], "1 worker", rates[1],
                    f"{trials} trials of {steps} Adam steps; parallel efficiency {efficiency:.2f}",
                    subject="processes", unit="trials/min"))  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.sweep_executors")
    p.add_argument("--smoke", action="store_true")
    args = p.parse_args(argv)
    for r in run(smoke=args.smoke):
        print(r)


if __name__ == "__main__":
    main()
