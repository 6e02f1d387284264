"""Peak memory (RSS) of training the MLP for one epoch: gdlab vs PyTorch vs the NumPy floor.

Each contender trains MLP 784-256-256-10 (SGD, batch 128) for one epoch over the same
random data set in a fresh subprocess (``python -m benchmarks.memory --worker NAME``), which
reports its peak resident set size (Linux ``VmHWM``, else ``getrusage``) and its RSS just
before building the model (after imports and data). The peak is what a user pays; the growth
over that baseline is what the training loop itself costs. Workers run alternately. The
workers also time their first training step and their epoch: the one-time costs a fresh process
pays (lazy kernel loading, JIT caches) that the in-process benchmarks never see.

Run alone: ``python -m benchmarks.memory [--smoke]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import ROOT, row

ONCE = True  # memory hardly depends on the thread count: run at the first one only
WORKERS = ("gdlab", "torch", "numpy")
LR = 0.01


def _status_mib(field: str) -> float | None:
    """A ``/proc/self/status`` field (``VmRSS``, ``VmHWM``) in MiB, None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _rss_mib() -> float:
    """Current resident set size in MiB (falls back to the peak)."""
    rss = _status_mib("VmRSS")
    return _peak_mib() if rss is None else rss


def _peak_mib() -> float:
    """Peak RSS of this process in MiB.

    Linux's ``VmHWM`` first: ``ru_maxrss`` keeps the *parent's* peak across fork + exec, so a
    worker started from a process that had torch loaded would report that process's peak.
    """
    hwm = _status_mib("VmHWM")
    if hwm is not None:
        return hwm
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024  # bytes vs KiB


def worker(name: str, samples: int, batch: int, threads: int) -> dict:
    """Train one epoch in this process with ``name`` and return the memory figures."""
    from benchmarks import models

    sizes = models.MLP_SIZES
    rng = np.random.default_rng(0)
    x = rng.standard_normal((samples, sizes[0]), dtype=np.float32)  # no float64 temporary
    y = rng.integers(0, sizes[-1], samples)
    params = models.init_params(sizes)
    note = ""
    clock = {"start": time.perf_counter()}
    first_step = None
    if name == "numpy":
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
        baseline = _rss_mib()
        mlp = models.NumpyMLP(sizes, params)
        clock["start"] = time.perf_counter()
        for i in range(0, samples, batch):
            mlp.step(x[i : i + batch], y[i : i + batch], LR)
            first_step = first_step or time.perf_counter() - clock["start"]
    else:
        fw = models.framework(name)
        if name == "torch":
            fw.set_num_threads(threads)
        else:
            from threadpoolctl import threadpool_limits

            threadpool_limits(threads)
        baseline = _rss_mib()
        if name == "gdlab" and models.gdlab_nn_missing():
            note = "gdlab = core ops + hand SGD (gdlab.nn missing)"
            core = models.CoreMLP(sizes, params)
            clock["start"] = time.perf_counter()
            for i in range(0, samples, batch):
                xb, yb = fw.from_numpy(x[i : i + batch]), fw.from_numpy(y[i : i + batch, None])
                core.step(xb, yb, LR)
                first_step = first_step or time.perf_counter() - clock["start"]
        else:
            model = models.build_mlp(fw, sizes, params)
            opt = fw.optim.SGD(model.parameters(), lr=LR)
            clock["start"] = time.perf_counter()
            for i in range(0, samples, batch):
                xb, yb = fw.from_numpy(x[i : i + batch]), fw.from_numpy(y[i : i + batch])
                models.train_step(fw, model, opt, xb, yb)
                first_step = first_step or time.perf_counter() - clock["start"]
    return {
        "peak_mib": _peak_mib(),
        "baseline_mib": baseline,
        "first_step_s": first_step,
        "epoch_s": time.perf_counter() - clock["start"],
        "note": note,
        "lazy_modules": sorted(m for m in ("numba", "llvmlite") if m in sys.modules),
    }


def _start(name: str, samples: int, batch: int, threads: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "benchmarks.memory", "--worker", name]
    cmd += ["--samples", str(samples), "--batch", str(batch), "--threads", str(threads)]
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env
    )


def _collect(name: str, proc: subprocess.Popen) -> dict:
    try:
        out, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise RuntimeError(f"memory worker {name} timed out") from None
    if proc.returncode:
        raise RuntimeError(f"memory worker {name} failed: {err.strip()[-500:]}")
    return json.loads(out.strip().splitlines()[-1])


def run(threads: int = 1, smoke: bool = False) -> list[dict]:
    """Rows: peak RSS and RSS growth during training, gdlab and the NumPy floor vs torch."""
    samples, batch, repeats = (256, 128, 1) if smoke else (10_000, 128, 3)
    got: dict[str, list[dict]] = {name: [] for name in WORKERS}
    if smoke:  # only checks that the workers run: start them side by side
        procs = {name: _start(name, samples, batch, threads) for name in WORKERS}
        for name, proc in procs.items():
            got[name].append(_collect(name, proc))
    for r in range(0 if smoke else repeats):  # one at a time, so they do not compete
        for name in WORKERS[r % 3 :] + WORKERS[: r % 3]:
            got[name].append(_collect(name, _start(name, samples, batch, threads)))

    def med(name: str, key: str) -> float:
        if key == "growth":
            return float(np.median([g["peak_mib"] - g["baseline_mib"] for g in got[name]]))
        return float(np.median([g[key] for g in got[name]]))

    data_mib = samples * 784 * 4 / (1 << 20)
    notes = f"one epoch, {samples} samples ({data_mib:.0f} MiB float32), batch {batch}"
    if got["gdlab"][0]["note"]:
        notes += "; " + got["gdlab"][0]["note"]
    label = "peak RSS, MLP epoch"
    growth = "RSS growth in training"
    lazy = ", ".join(got["gdlab"][0].get("lazy_modules", [])) or "none"
    cold = f"fresh process, imports excluded; loaded during training by gdlab: {lazy}"
    return [
        row("first training step", med("gdlab", "first_step_s"), "torch",
            med("torch", "first_step_s"), cold),
        row("first epoch incl. first step", med("gdlab", "epoch_s"), "torch",
            med("torch", "epoch_s"), cold),
        row(label, med("gdlab", "peak_mib"), "torch", med("torch", "peak_mib"), notes,
            target=1.0, unit="MiB"),
        row(label, med("numpy", "peak_mib"), "torch", med("torch", "peak_mib"), notes,
            subject="numpy floor", unit="MiB"),
        row(growth, med("gdlab", "growth"), "torch", med("torch", "growth"),
            "peak minus RSS after imports and data", unit="MiB"),
        row(growth, med("gdlab", "growth"), "numpy floor", med("numpy", "growth"),
            "peak minus RSS after imports and data", unit="MiB"),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    parser.add_argument("--samples", type=int, default=10_000, help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=128, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.samples, args.batch, args.threads)))
        return
    for r in run(args.threads, args.smoke):
        print(r)


if __name__ == "__main__":
    main()
