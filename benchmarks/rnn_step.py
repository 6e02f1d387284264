"""LSTM and GRU forward + backward (sum of the outputs) in gdlab beside torch eager, in the
same process, interleaved: one layer, input 16, hidden 64, batch 32, float32; sequence
lengths 100 / 200 / 400 show that the cost grows linearly with the length (issue 3: the
recurrence is one primitive per layer and direction, see ``gdlab.ops.rnn_ops``).

Run: ``python benchmarks/rnn_step.py`` (``--smoke`` for a few-second check).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import compare, print_rows, row  # noqa: E402

INPUT, HIDDEN, BATCH = 16, 64, 32


def _step(model, x) -> None:
    out, _ = model(x)
    out.sum().backward()


def _case(kind: str, seq: int, smoke: bool) -> dict:
    import torch

    import gdlab
    import gdlab.nn as gnn

    torch.manual_seed(0)
    tm = getattr(torch.nn, kind)(INPUT, HIDDEN)
    gm = getattr(gnn, kind)(INPUT, HIDDEN)
    gm.load_state_dict({k: v.detach().numpy().copy() for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((seq, BATCH, INPUT)).astype(np.float32)
    gx, tx = gdlab.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    go, to = gm(gx)[0], tm(tx)[0]  # same weights, same computation
    if not np.allclose(go.data, to.detach().numpy(), rtol=1e-4, atol=1e-5):
        raise AssertionError(f"{kind}: gdlab and torch outputs differ")
    stats = compare(
        {"gdlab": lambda: _step(gm, gx), "torch": lambda: _step(tm, tx)},
        repeats=3 if smoke else 9,
        min_time=0.0 if smoke else 0.05,
    )
    name = f"{kind} seq {seq}"
    return row(name, stats["gdlab"], "torch", stats["torch"], "fwd+bwd, batch 32, H 64")


def run(threads: int, smoke: bool) -> list[dict]:
    """The benchmark-suite interface: LSTM and GRU rows at three sequence lengths."""
    seqs = [20] if smoke else [100, 200, 400]
    rows = [_case(kind, s, smoke) for kind in ("LSTM", "GRU") for s in seqs]
    for r in rows:
        r["threads"] = threads
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run to check it works")
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    args = parser.parse_args(argv)
    print_rows(run, args.threads, args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
