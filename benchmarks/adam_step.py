"""One Adam step over 10M float32 parameters: gdlab (NumPy and fused) beside torch.optim.Adam.

Two layouts: one tensor of 10M elements, and 100 tensors of 100k. Candidates: gdlab's Adam on
its NumPy path (``fused=False``: ufuncs chunked in cache, in place), gdlab's fused numba kernel
(``fused=True``, one pass over memory; needs ``gdlab[fast]``, skipped without numba), torch's
default path (single-tensor loop on CPU), ``foreach=True`` and ``fused=True``. Repetitions are
interleaved and the median is reported, with the effective bandwidth: an Adam step reads param,
grad, exp_avg, exp_avg_sq and writes three of them, 28 bytes per float32 parameter.
Issue 7's targets: gdlab's NumPy path not slower than torch's foreach (time ratio <= 1), the
fused path at least 0.8x torch fused's speed (time ratio <= 1.25).

Run: ``python benchmarks/adam_step.py [--threads 1,2] [--smoke]``; in the suite it is
``python -m benchmarks --only adam_step``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import compare, print_rows, row  # noqa: E402
from gdlab import optim  # noqa: E402
from gdlab.nn import Parameter  # noqa: E402

BYTES_PER_PARAM = 28  # 4 arrays read, 3 written, float32
LAYOUTS = {"1x10M": [(10_000_000,)], "100x100k": [(100_000,)] * 100}
SMOKE_LAYOUTS = {"1x200k": [(200_000,)], "20x10k": [(10_000,)] * 20}
TORCH_PATHS = {"torch": {}, "torch_foreach": {"foreach": True}, "torch_fused": {"fused": True}}
# (subject, peer, largest accepted time ratio) rows of the report
PAIRS = [
    ("gdlab_numpy", "torch", None),
    ("gdlab_numpy", "torch_foreach", 1.0),
    ("gdlab_numpy", "torch_fused", None),
    ("gdlab_fused", "torch_foreach", None),
    ("gdlab_fused", "torch_fused", 1.25),  # >= 0.8x torch fused's speed
]


def has_numba() -> bool:
    return importlib.util.find_spec("numba") is not None


def _candidates(shapes: Sequence[tuple[int, ...]]) -> dict[str, Callable[[], object]]:
    import torch

    rng = np.random.default_rng(0)
    data = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
    grads = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
    out = {}
    for label, fused in [("gdlab_numpy", False), ("gdlab_fused", True)]:
        if fused and not has_numba():
            continue
        params = [Parameter(d.copy()) for d in data]
        for p, g in zip(params, grads, strict=True):
            p.grad = g.copy()
        out[label] = optim.Adam(params, lr=1e-3, fused=fused).step
    for label, kwargs in TORCH_PATHS.items():
        ts = [torch.from_numpy(d.copy()).requires_grad_() for d in data]
        for t, g in zip(ts, grads, strict=True):
            t.grad = torch.from_numpy(g.copy())
        out[label] = torch.optim.Adam(ts, lr=1e-3, **kwargs).step
    return out


def run(threads: int = 1, smoke: bool = False) -> list[dict]:
    """Rows for the suite: gdlab's paths vs torch's, per layout (``ratio < 1``: gdlab faster)."""
    layouts = SMOKE_LAYOUTS if smoke else LAYOUTS
    rows = []
    old_threads = optim.get_num_threads()
    optim.set_num_threads(threads)  # gdlab's chunk threads; torch's are set by the suite
    try:
        for name, shapes in layouts.items():
            rows += _layout_rows(name, shapes, smoke)
    finally:
        optim.set_num_threads(old_threads)
    return rows


def _layout_rows(name: str, shapes: list, smoke: bool) -> list[dict]:
    n = sum(int(np.prod(s)) for s in shapes)
    repeats, min_time = (3, 0.01) if smoke else (9, 0.2)
    stats = compare(_candidates(shapes), repeats=repeats, min_time=min_time)
    gbps = {k: f"{BYTES_PER_PARAM * n / s.median / 1e9:.1f} GB/s" for k, s in stats.items()}
    return [
        row(
            f"adam_step {name} float32 vs {peer}",
            stats.get(subject),  # None: not measured (no numba)
            peer,
            stats[peer],
            notes=f"{subject} {gbps.get(subject, 'not run (no numba)')}, {peer} {gbps[peer]}",
            target=target,
            subject=subject,
        )
        for subject, peer, target in PAIRS
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    args = parser.parse_args(argv)
    print_rows(run, (int(t) for t in args.threads.split(",")), args.smoke)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
