"""Write the benchmark report (docs/benchmarks.md): one table, 1- and 2-thread figures side by side.

Rows come from the benchmark modules (see ``benchmarks.harness``); the suite adds ``bench``
(module name) and ``threads``. Rows with the same (bench, name, subject, peer) measured at
different thread counts share a line of the table. The hand-written analysis between the
``ANALYSIS_START`` / ``ANALYSIS_END`` markers of an existing report is kept on regeneration.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

__all__ = ["fmt_value", "render", "write"]

ANALYSIS_START = "<!-- analysis:start (kept when the report is regenerated) -->"
ANALYSIS_END = "<!-- analysis:end -->"
DEFAULT_ANALYSIS = "_No analysis yet: profile the hot paths and write it here._"


def fmt_value(value: float | None, unit: str = "s") -> str:
    """``0.000123, "s"`` -> ``"123 µs"``; other units are printed with 3 significant digits."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit != "s":
        return f"{value:.3g} {unit}"
    for scale, name in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {name}"
    return f"{value * 1e9:.3g} ns"


def _ratio(r: dict | None) -> str:
    if r is None or r.get("ratio") is None:
        return "–"
    return f"{r['ratio']:.2f}"


def _verdict(cells: list[dict | None], target: float | None) -> str:
    if target is None:
        return ""
    marks = []
    for r in cells:
        if r is None or r.get("ratio") is None:
            marks.append("–")
        else:
            marks.append("met" if r["ratio"] <= target else "**missed**")
    return f"≤ {target:g}: " + " / ".join(marks)


def _table(rows: list[dict], threads: list[int]) -> list[str]:
    groups: dict[tuple, dict[int, dict]] = {}
    for r in rows:
        key = (r["bench"], r["name"], r.get("subject", "gdlab"), r["peer"])
        groups.setdefault(key, {})[r["threads"]] = r
    head = ["benchmark", "what vs peer"]
    for t in threads:
        tt = f"{t}T"
        head += [f"what {tt}", f"peer {tt}", f"ratio {tt}"]
    head += ["target (ratio)", "notes"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (bench, name, subject, peer), by_t in groups.items():
        cells = [by_t.get(t) for t in threads]
        any_row = next(r for r in cells if r is not None) if any(cells) else by_t[min(by_t)]
        unit = any_row.get("unit", "s")
        line = [f"{name} ({bench})", f"{subject} vs {peer}"]
        for r in cells:
            line += [
                fmt_value(r and r.get("gdlab_s"), unit),
                fmt_value(r and r.get("peer_s"), unit),
                _ratio(r),
            ]
        notes = "; ".join(dict.fromkeys(r["notes"] for r in cells if r and r.get("notes")))
        line += [_verdict(cells, any_row.get("target")), notes.replace("|", "/")]
        lines.append("| " + " | ".join(line) + " |")
    return lines


TWO_THREAD_ROWS = ("batch 1024", "cnn")  # issue 20: 2-thread speed-ups of these workloads


def _two_threads(rows: list[dict], info: dict) -> list[str]:
    """1T time over 2T time, gdlab's and the peer's, for the rows named in TWO_THREAD_ROWS
    (gdlab vs torch, measured at both counts), under the load the run saw."""
    by_key: dict[tuple, dict[int, dict]] = {}
    for r in rows:
        if r.get("subject", "gdlab") == "gdlab" and r["peer"] == "torch":
            if any(w in r["name"].lower() for w in TWO_THREAD_ROWS) and r.get("unit", "s") == "s":
                by_key.setdefault((r["bench"], r["name"]), {})[r["threads"]] = r
    lines = []
    for (bench, name), by_t in by_key.items():
        one, two = by_t.get(1), by_t.get(2)
        if not (one and two and one.get("gdlab_s") and two.get("gdlab_s")):
            continue
        ours, theirs = one["gdlab_s"] / two["gdlab_s"], one["peer_s"] / two["peer_s"]
        lines.append(f"| {name} ({bench}) | {ours:.2f}x | {theirs:.2f}x | {_ratio(two)} |")
    if not lines:
        return []
    before, after = info.get("load_before"), info.get("load")
    load = f"{before[0]:.1f} / {after[0]:.1f}" if before and after else "?"
    quiet = bool(before and before[0] < 0.5)  # after: the run's own threads count too
    return [
        "## Two threads",
        "",
        f"Speed-up from 1 to 2 threads (1T time / 2T time) of gdlab and torch, each in the run"
        f" above; load average (1 min) before / after the run: {load} (after includes the"
        f" run's own threads): "
        + (
            "quiet before (< 0.5)."
            if quiet
            else "**not quiet (≥ 0.5 before the run): these speed-ups are unreliable**."
        ),
        "",
        "| workload | gdlab 1T→2T | torch 1T→2T | ratio at 2T |",
        "|---|---|---|---|",
        *lines,
        "",
    ]


def _machine(info: dict) -> list[str]:
    blas = ", ".join(
        f"{b.get('file')} ({b.get('internal_api')} {b.get('version') or ''}"
        f"{', kernel ' + b['architecture'] if b.get('architecture') else ''})"
        for b in info.get("blas", [])
    )
    env = ", ".join(f"{k}={v}" for k, v in sorted(info.get("env", {}).items())) or "none set"
    bw = info.get("bandwidth", {})
    lines = [
        f"- Date: {info.get('date')}, gdlab {info.get('gdlab')} (commit {info.get('commit')})",
        f"- CPU: {info.get('cpu')}; {info.get('cores')} cores ({info.get('usable_cores')} usable),"
        f" {info.get('mem_gib', 0) or 0:.0f} GiB; {info.get('os')}",
        f"- Python {info.get('python')}, NumPy {info.get('numpy')}, torch {info.get('torch')}"
        f" ({info.get('torch_backends', '?')}), scikit-learn {info.get('sklearn')},"
        f" numba {info.get('numba')} (gdlab's optional fused optimizer kernels)",
        f"- BLAS/OpenMP libraries loaded: {blas or '?'}; environment: {env}",
        f"- Allocator: {info.get('allocator', '?')}",
        f"- Threads: {info.get('threads_note', '')}",
    ]
    before, after = info.get("load_before"), info.get("load")
    if before and after:
        lines.append(
            f"- Load average (1 min) before / after the run: {before[0]:.1f} / {after[0]:.1f} on "
            f"{info.get('cores')} cores (a shared machine: above ~0.5 the 2-thread figures are "
            f"unreliable); the run took {info.get('seconds', 0):.0f} s"
        )
    lines += _conditions(info)
    if bw:
        lines.append(
            f"- Memory bandwidth (NumPy, 1 thread, {bw['nbytes'] >> 20} MiB arrays): copy "
            f"{bw['copy_GBps']:.1f} GB/s, triad {bw['triad_GBps']:.1f} GB/s"
        )
    return lines


def _conditions(info: dict) -> list[str]:
    """What the run verified of its own conditions: the threads each limit really gave, and
    the rows whose matrix products imply more than one core's measured GEMM peak."""
    lines = []
    used = info.get("threads_used") or {}
    if used:
        parts = []
        for t, (u, flags) in sorted(used.items()):
            seen = f"BLAS {'/'.join(map(str, sorted(set(u['blas'])))) or '?'}"
            if u.get("torch") is not None:
                seen += f", torch {u['torch']}"
            parts.append(f"{t}T: {seen}" + (f" (**{'; '.join(flags)}**)" if flags else ""))
        lines.append(
            "- Threads in use inside each limit (threadpoolctl, torch): " + "; ".join(parts)
        )
    peak = info.get("gemm_peak_gflops")
    if peak:
        flags = info.get("sanity_flags") or []
        shown = "none" if not flags else "**" + "; ".join(flags) + "**"
        lines.append(
            f"- GEMM peak, float32 1024³ at 1 thread: {peak:.0f} GFLOP/s; rows implying more "
            f"per thread (timing or thread limit wrong): {shown}"
        )
    return lines


def render(
    rows: list[dict],
    info: dict,
    threads: list[int],
    status: dict[str, str],
    raw: dict[str, str] | None = None,
    plot: str | None = None,
    analysis: str = DEFAULT_ANALYSIS,
) -> str:
    """The whole Markdown report as a string."""
    out = [
        "# Benchmarks",
        "",
        "Generated by `python -m benchmarks` (see `benchmarks/`); do not edit the tables by hand."
        " Each ratio is gdlab's (or the named subject's) median time over the peer's, both"
        " timed interleaved in one process: **below 1 means gdlab is faster** (or smaller,"
        " for memory). nT = n threads for NumPy's BLAS and torch alike.",
        "",
        "## Machine",
        "",
        *_machine(info),
        "",
        "## Results",
        "",
        *_table(rows, threads),
        "",
    ]
    out += _two_threads(rows, info)
    if plot:
        out += ["## Scaling", "", f"![time per epoch vs batch size and width]({plot})", ""]
    out += ["## Status of the benchmark modules", ""]
    out += [f"- `{name}`: {msg}" for name, msg in status.items()]
    out += ["", "## Where the time goes", "", ANALYSIS_START, analysis.strip(), ANALYSIS_END, ""]
    if raw:
        out += ["## Raw output of modules without `run()`", ""]
        for name, text in raw.items():
            out += [f"### {name}", "", "```", text.rstrip(), "```", ""]
    return "\n".join(out)


def existing_analysis(path: Path) -> str:
    """The hand-written analysis of an existing report, or the placeholder."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return DEFAULT_ANALYSIS
    start, end = text.find(ANALYSIS_START), text.find(ANALYSIS_END)
    if start < 0 or end < start:
        return DEFAULT_ANALYSIS
    return text[start + len(ANALYSIS_START) : end].strip() or DEFAULT_ANALYSIS


def write(path: str | Path, text: str) -> None:
    """Write ``text`` atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
