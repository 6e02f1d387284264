"""One Adam step over 10M float32 parameters: gdlab beside torch.optim.Adam, same process.

Two layouts: one tensor of 10M elements, and 100 tensors of 100k. Candidates: gdlab's Adam
(NumPy, chunked in place), torch's default path (single-tensor loop on CPU), ``foreach=True``
and ``fused=True``. Repetitions are interleaved and the median is reported, with the
effective bandwidth: an Adam step reads param, grad, exp_avg, exp_avg_sq and writes three of
them, 28 bytes per float32 parameter. Issue 4's target: gdlab not slower than torch's
foreach path.

Run: ``python benchmarks/adam_step.py [--threads 1,2] [--smoke]``; in the suite it is
``python -m benchmarks --only adam_step``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import compare, row, thread_limit  # noqa: E402
from gdlab import optim  # noqa: E402
from gdlab.nn import Parameter  # noqa: E402

BYTES_PER_PARAM = 28  # 4 arrays read, 3 written, float32
LAYOUTS = {"1x10M": [(10_000_000,)], "100x100k": [(100_000,)] * 100}
SMOKE_LAYOUTS = {"1x200k": [(200_000,)], "20x10k": [(10_000,)] * 20}


def _candidates(shapes: Sequence[tuple[int, ...]]) -> dict[str, Callable[[], object]]:
    import torch

    rng = np.random.default_rng(0)
    data = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
    grads = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
    params = [Parameter(d.copy()) for d in data]
    for p, g in zip(params, grads, strict=True):
        p.grad = g.copy()
    out = {"gdlab": optim.Adam(params, lr=1e-3).step}
    for label, kwargs in [("torch", {}), ("torch_foreach", {"foreach": True}),
                          ("torch_fused", {"fused": True})]:  # fmt: skip
        ts = [torch.from_numpy(d.copy()).requires_grad_() for d in data]
        for t, g in zip(ts, grads, strict=True):
            t.grad = torch.from_numpy(g.copy())
        out[label] = torch.optim.Adam(ts, lr=1e-3, **kwargs).step
    return out


def run(threads: int = 1, smoke: bool = False) -> list[dict]:
    """Rows for the suite: gdlab vs each torch path, per layout (``ratio < 1``: gdlab faster)."""
    layouts = SMOKE_LAYOUTS if smoke else LAYOUTS
    rows = []
    old_threads = optim.get_num_threads()
    optim.set_num_threads(threads)  # gdlab's chunk threads; torch's are set by the suite
    try:
        for name, shapes in layouts.items():
            rows += _layout_rows(name, shapes, threads, smoke)
    finally:
        optim.set_num_threads(old_threads)
    return rows


def _layout_rows(name: str, shapes: list, threads: int, smoke: bool) -> list[dict]:
    n = sum(int(np.prod(s)) for s in shapes)
    repeats, min_time = (3, 0.01) if smoke else (9, 0.2)
    stats = compare(_candidates(shapes), repeats=repeats, min_time=min_time)
    gbps = {k: BYTES_PER_PARAM * n / s.median / 1e9 for k, s in stats.items()}
    return [
        row(
            f"adam_step {name} float32 ({threads} thr) vs {peer}",
            stats["gdlab"],
            peer,
            stats[peer],
            notes=f"gdlab {gbps['gdlab']:.1f} GB/s, {peer} {gbps[peer]:.1f} GB/s",
            target=1.0 if peer == "torch_foreach" else None,
        )
        for peer in ("torch", "torch_foreach", "torch_fused")
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    args = parser.parse_args(argv)
    print(f"{'case':<52} {'gdlab ms':>9} {'peer ms':>9} {'ratio':>6}  notes")
    for threads in (int(t) for t in args.threads.split(",")):
        with thread_limit(threads):
            for r in run(threads, args.smoke):
                print(
                    f"{r['name']:<52} {r['gdlab_s'] * 1e3:9.2f} {r['peer_s'] * 1e3:9.2f} "
                    f"{r['ratio']:6.2f}  {r['notes']}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
