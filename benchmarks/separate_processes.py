"""The MLP 784-256-256-10 training step at batch 1024, gdlab and torch each in its own process.

In one process the two libraries share an allocator and a BLAS's caches, and torch's
allocations move glibc's thresholds for gdlab too (docs/benchmarks.md, item 6): this module
times each in a fresh process that never imports the other (``python -m
benchmarks.separate_processes --worker NAME``), alternating gdlab and torch workers, and
reports the ratio of the medians beside the in-process row of ``mlp_cnn_step``. When the
environment sets BLAS, thread or allocator variables (``OPENBLAS_CORETYPE``, ``MALLOC_*``,
...), a second pair of workers runs without them: the figure a default install gets.

Run alone: ``python -m benchmarks.separate_processes [--smoke] [--threads 1]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

from benchmarks.harness import ROOT, long_run_state, print_rows, row, tuning_variables
from benchmarks.mlp_cnn_step import _data, _mlp, gdlab_step, mlp_flop, torch_step

WORKERS = ("gdlab", "torch")


def worker(name: str, batch: int, threads: int, rounds: int) -> dict:
    """Median seconds (wall and this thread's CPU) of one step, timed in this process."""
    x, y = _data("mlp", batch)
    if name == "torch":
        import torch

        torch.set_num_threads(threads)
        torch.manual_seed(0)
        model = _mlp(torch.nn)
        args = (model, torch.from_numpy(x), torch.from_numpy(y))
        step = torch_step
    else:
        import gdlab

        long_run_state()  # the steady state, as the in-process row
        gdlab.set_num_threads(threads)
        gdlab.manual_seed(0)
        model = _mlp(gdlab.nn)
        args = (model, gdlab.tensor(x), y)
        step = gdlab_step
    for _ in range(3):  # first steps: allocator, lazy kernels
        step(*args)
    number = max(1, int(0.1 / max(_time(step, args, 1)[0], 1e-6)))
    wall, cpu = zip(*(_time(step, args, number) for _ in range(rounds)), strict=True)
    modules = sorted(m for m in ("torch", "gdlab", "numba") if m in sys.modules)
    return {"wall_s": float(np.median(wall)), "cpu_s": float(np.median(cpu)), "modules": modules}


def _time(step, args, number: int) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.thread_time()
    for _ in range(number):
        step(*args)
    return (time.perf_counter() - t0) / number, (time.thread_time() - c0) / number


def default_environment(env: dict[str, str]) -> dict[str, str]:
    """``env`` without the variables a tuned setup sets (BLAS kernel, threads, allocator)."""
    tuned = tuning_variables(env)
    return {k: v for k, v in env.items() if k not in tuned}


def _run_worker(name: str, batch: int, threads: int, rounds: int, env: dict) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.separate_processes", "--worker", name,
           "--batch", str(batch), "--threads", str(threads), "--rounds", str(rounds)]  # fmt: skip
    path = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600,
                          env={**env, "PYTHONPATH": path})  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"{name} worker failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _pairs(batch: int, threads: int, smoke: bool, env: dict) -> dict[str, list[dict]]:
    got: dict[str, list[dict]] = {name: [] for name in WORKERS}
    for r in range(1 if smoke else 3):  # one process at a time, the order alternating
        for name in WORKERS[r % 2 :] + WORKERS[: r % 2]:
            got[name].append(_run_worker(name, batch, threads, 3 if smoke else 15, env))
    return got


def run(threads: int, smoke: bool) -> list[dict]:
    """Rows: the step in separate processes (wall and CPU time), and in a default environment
    when this one is tuned."""
    batch = 64 if smoke else 1024
    envs = {"": dict(os.environ)}
    if default_environment(dict(os.environ)) != dict(os.environ):
        envs[", default environment"] = default_environment(dict(os.environ))
    rows = []
    for label, env in envs.items():
        got = _pairs(batch, threads, smoke, env)

        def med(name: str, key: str, got=got) -> float:
            return float(np.median([g[key] for g in got[name]]))

        name = f"mlp step batch {batch}, separate processes{label}"
        note = f"median of {len(got['gdlab'])} fresh processes each, 15 rounds per process"
        rows.append(row(name, med("gdlab", "wall_s"), "torch", med("torch", "wall_s"),
                        f"wall; {note}", target=1.0, flop=mlp_flop(batch)))  # fmt: skip
        rows.append(row(f"{name}, CPU time", med("gdlab", "cpu_s"), "torch",
                        med("torch", "cpu_s"), f"time.thread_time; {note}"))  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    parser.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=1024, help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=15, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.batch, args.threads[0], args.rounds)))
        return 0
    print_rows(run, args.threads, args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
