"""``python -m benchmarks``: run the benchmark suite and print or write the report.

Examples:
    python -m benchmarks --smoke                       # seconds; what CI runs
    python -m benchmarks --threads 1,2 --out docs/benchmarks.md
    python -m benchmarks --only numpy_floor,adam_step --threads 1
    python -m benchmarks --native-blas --out docs/benchmarks.md   # unset OPENBLAS_CORETYPE
    python -m benchmarks --check      # re-measure README's claims; exit 1 if one moved

Every module follows ``run(threads: int, smoke: bool) -> list[dict]`` (see
``benchmarks.harness``); a module that only has ``main(argv)`` is run and its output is
quoted in the report. A module that is missing or fails is listed, the suite goes on.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import io
import json
import os
import re
import sys
import time
import traceback
from pathlib import Path

from benchmarks import claims, report
from benchmarks.harness import (
    cpu_model,
    gemm_peak_gflops,
    machine_info,
    memory_bandwidth,
    row,
    sanity_flags,
    thread_flags,
    thread_limit,
    threads_in_use,
)

# name -> module, in report order. Modules with ONCE = True run at the first thread count only.
BENCHMARKS = {
    "engine_overhead": "benchmarks.engine_overhead",
    "mlp_cnn_step": "benchmarks.mlp_cnn_step",
    "separate_processes": "benchmarks.separate_processes",
    "rnn_step": "benchmarks.rnn_step",
    "transformer_step": "benchmarks.transformer_step",
    "bn_cnn_step": "benchmarks.bn_cnn_step",
    "embedding_step": "benchmarks.embedding_step",
    "hvp": "benchmarks.hvp",
    "numpy_floor": "benchmarks.numpy_floor",
    "adam_step": "benchmarks.adam_step",
    "optim_step": "benchmarks.optim_step",
    "digits": "benchmarks.digits_time_to_accuracy",
    "sklearn_fit": "benchmarks.sklearn_fit",
    "memory": "benchmarks.memory",
    "scaling": "benchmarks.scaling",
    "sweep_executors": "benchmarks.sweep_executors",
}
PLOT = Path("docs/img/benchmark_scaling.png")
BLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds in all")
    p.add_argument("--only", default="", help=f"comma-separated subset of {', '.join(BENCHMARKS)}")
    p.add_argument("--threads", default="1,2", help="thread counts to run at, e.g. 1,2")
    p.add_argument("--out", default=None, help="write the Markdown report here (else print it)")
    p.add_argument("--json", default=None, help="also write the raw rows as JSON here")
    p.add_argument(
        "--native-blas",
        action="store_true",
        help="re-run with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset (NumPy's own BLAS kernel)",
    )
    p.add_argument(
        "--check", nargs="?", const=str(claims.CLAIMS), default=None, metavar="CLAIMS",
        help="re-measure the claims README quotes (default file: docs/benchmarks_claims.toml) "
        "and exit 1 when one moved by more than its noise",
    )  # fmt: skip
    args = p.parse_args(argv)
    try:
        args.threads = [int(t) for t in args.threads.split(",") if t.strip()]
    except ValueError:
        p.error(f"--threads: expected comma-separated integers, got {args.threads!r}")
    if not args.threads or min(args.threads) < 1:
        p.error(f"--threads: thread counts must be >= 1, got {args.threads}")
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        p.error(f"--only: unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
    args.names = names
    return args


def _reexec_native(argv: list[str]) -> None:
    """Replace this process by the same command with the BLAS overrides removed."""
    env = {k: v for k, v in os.environ.items() if k not in BLAS_OVERRIDES}
    rest = [a for a in argv if a != "--native-blas"]
    os.execve(sys.executable, [sys.executable, "-m", "benchmarks", *rest], env)


def _engine_overhead(module: object, threads: int, smoke: bool) -> list[dict]:
    """Adapter: engine_overhead.run(shapes, threads, repeats) rows -> suite rows."""
    shapes = [(4,)] if smoke else [(4,), (16, 16)]
    rows = []
    for r in module.run(shapes, threads=[threads], repeats=3 if smoke else 200):
        name = f"engine overhead per op, shape {r['shape']}"
        gd = r["gdlab_us_per_op"] * 1e-6
        note = "chain of 100 ops (add, mul, tanh), forward + backward, per op"
        if "torch_us_per_op" in r:
            rows.append(row(name, gd, "torch", r["torch_us_per_op"] * 1e-6, note, target=0.5))
        if "numpy_us_per_op" in r:
            floor = r["numpy_us_per_op"] * 1e-6
            rows.append(row(name, gd, "numpy by hand", floor, "the same chain and backward"))
    return rows


# Modules whose run() does not follow run(threads, smoke): name -> adapter(module, threads, smoke)
ADAPTERS = {"engine_overhead": _engine_overhead}


def _follows_interface(module: object) -> bool:
    run = getattr(module, "run", None)
    if run is None:
        return False
    try:
        params = inspect.signature(run).parameters
    except (TypeError, ValueError):
        return False
    return "threads" in params and "smoke" in params


def _run_module(name: str, threads: int, smoke: bool, raw: dict[str, str]) -> tuple[list, str]:
    """Rows of one module at one thread count, and a one-line status."""
    try:
        module = importlib.import_module(BENCHMARKS[name])
    except ModuleNotFoundError as e:
        if e.name == BENCHMARKS[name]:
            return [], "not written yet (module missing)"
        return [], f"import failed: {e!r}"
    except Exception as e:  # noqa: BLE001 -- one broken module must not stop the suite
        return [], f"import failed: {e!r}"
    t0 = time.perf_counter()
    try:
        if _follows_interface(module):
            rows = module.run(threads=threads, smoke=smoke)
            status = f"ok ({len(rows)} rows"
        elif name in ADAPTERS:
            rows = ADAPTERS[name](module, threads, smoke)
            status = f"ok via an adapter: run() is not run(threads, smoke) ({len(rows)} rows"
        elif hasattr(module, "main"):
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                module.main(["--smoke"] if smoke else [])
            raw[f"{name} ({threads}T)"] = buf.getvalue()
            rows, status = [], "has main() but no run(threads, smoke): output quoted below (ok"
        else:
            return [], "has neither run(threads, smoke) nor main()"
    except Exception:  # noqa: BLE001
        tb = traceback.format_exc(limit=3).strip().splitlines()
        return [], "failed: " + " / ".join(line.strip() for line in tb[-2:])
    for r in rows:
        # a thread count inside the name would split one table line into two
        r["name"] = re.sub(r"\s*\(\d+ ?thr(eads?)?\)", "", r["name"])
        r["bench"], r["threads"] = name, threads
    return rows, f"{status}, {time.perf_counter() - t0:.1f} s at {threads}T)"


def run_suite(
    names: list[str], threads: list[int], smoke: bool, used: dict[int, dict] | None = None
) -> tuple[list, dict, dict]:
    """All rows, a status line per module, and raw output of modules without ``run``;
    ``used`` receives the thread counts the libraries reported inside each limit."""
    rows: list[dict] = []
    status: dict[str, str] = {}
    raw: dict[str, str] = {}
    for i, t in enumerate(threads):
        with thread_limit(t):
            if used is not None:
                used[t] = threads_in_use()
            for name in names:
                module = sys.modules.get(BENCHMARKS[name])
                if i and module is not None and getattr(module, "ONCE", False):
                    continue
                got, msg = _run_module(name, t, smoke, raw)
                print(f"[benchmarks] {name} @ {t} thread(s): {msg}", file=sys.stderr, flush=True)
                rows += got
                status[name] = msg if name not in status else f"{status[name]}; {msg}"
    return rows, status, raw


def measure(bench: str, threads: int) -> list[dict]:
    """The rows of one module at ``threads`` threads (``--check``'s measurement)."""
    with thread_limit(threads):
        for flag in thread_flags(threads_in_use(), threads):
            print(f"[benchmarks] {threads} thread(s): {flag}", file=sys.stderr)
        rows, msg = _run_module(bench, threads, False, {})  # it labels each row's threads
    print(f"[benchmarks] {bench} @ {threads} thread(s): {msg}", file=sys.stderr, flush=True)
    return rows


def check_claims(path: str) -> int:
    """``--check``: re-measure the claims in ``path`` measured on this CPU's kind of host; 0
    when all hold, 1 otherwise, 2 when none was measured on such a host."""
    everything = claims.load_claims(path)
    cpu = cpu_model()
    claimed = claims.for_host(everything, cpu)
    if not claimed:
        hosts = ", ".join(sorted({c.host for c in everything}))
        print(f"no claim was measured on this CPU ({cpu}); the claims' hosts: {hosts}")
        return 2
    others = len(everything) - len(claimed)
    before = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    verdicts = claims.check(claimed, measure)
    after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(claims.render(verdicts))
    if others:
        print(f"{others} claims measured on other hosts were not checked (this CPU: {cpu})")
    print(f"load average (1 min) before / after: {before:.1f} / {after:.1f} on "
          f"{os.cpu_count()} cores")  # fmt: skip
    return 0 if all(v.ok for v in verdicts) else 1


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parse(argv)
    if args.native_blas and any(k in os.environ for k in BLAS_OVERRIDES):
        _reexec_native(argv)
    if args.check:
        return check_claims(args.check)
    t0 = time.perf_counter()
    info = machine_info()
    with thread_limit(1):
        info["bandwidth"] = memory_bandwidth(16 << 20 if args.smoke else 256 << 20)
    peak = gemm_peak_gflops(256 if args.smoke else 1024)
    used: dict[int, dict] = {}
    rows, status, raw = run_suite(args.names, args.threads, args.smoke, used)
    load_before = info.get("load")
    # torch is loaded by now; the environment is the one the run started with (a sweep
    # executor's in-process workers set thread variables while the suite runs)
    info = {**machine_info(), "bandwidth": info["bandwidth"], "env": info["env"]}
    info["load_before"], info["seconds"] = load_before, time.perf_counter() - t0
    info["gemm_peak_gflops"], info["sanity_flags"] = peak, sanity_flags(rows, peak)
    info["threads_used"] = {t: (u, thread_flags(u, t)) for t, u in used.items()}
    info["threads_note"] = (
        f"each benchmark at {', '.join(map(str, args.threads))} thread(s) "
        "(torch.set_num_threads and threadpoolctl for NumPy's BLAS)"
        + (
            f"; BLAS kernel overrides removed ({', '.join(BLAS_OVERRIDES)})"
            if args.native_blas
            else ""
        )
        + ("; SMOKE MODE: tiny sizes, numbers meaningless" if args.smoke else "")
    )
    plot = None
    if "scaling" in args.names and args.out and any(r["bench"] == "scaling" for r in rows):
        from benchmarks import scaling

        out_dir = Path(args.out).resolve().parent
        png = out_dir / "img" / "benchmark_scaling.png"
        if scaling.plot([r for r in rows if r["bench"] == "scaling"], png):
            plot = os.path.relpath(png, out_dir)
    analysis = report.existing_analysis(Path(args.out)) if args.out else report.DEFAULT_ANALYSIS
    text = report.render(rows, info, args.threads, status, raw, plot, analysis)
    if args.json:
        report.write(args.json, json.dumps({"info": info, "rows": rows}, indent=1, default=str))
    if args.out:
        report.write(args.out, text)
        print(f"[benchmarks] wrote {args.out}", file=sys.stderr)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
