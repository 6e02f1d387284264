"""One training step of a transformer block in gdlab beside torch eager, same process,
interleaved (issue 20): ``TransformerEncoderLayer(d_model=128, nhead=4, dim_feedforward=512,
activation="gelu", norm_first=True, batch_first=True, dropout=0)`` on a batch of 16
sequences of length 64, float32; forward, backward of the output's sum and an Adam step.
The weights are torch's, copied through ``load_state_dict``; the outputs are checked equal
before timing.

Linear, LayerNorm, softmax attention and exact GELU: the parts issue 20 profiled (erf as a
Python call per element, LayerNorm from a dozen primitives, 3-D products one matrix at a
time).

Run: ``python benchmarks/transformer_step.py`` (``--smoke`` for a few-second check).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import compare, print_rows, row  # noqa: E402

D_MODEL, HEADS, FEEDFORWARD = 128, 4, 512


def _models(batch: int, seq: int):
    import torch

    import gdlab
    import gdlab.nn as gnn

    kwargs = dict(
        dim_feedforward=FEEDFORWARD, dropout=0.0, activation="gelu", batch_first=True,
        norm_first=True,
    )  # fmt: skip
    torch.manual_seed(0)
    tm = torch.nn.TransformerEncoderLayer(D_MODEL, HEADS, **kwargs)
    gm = gnn.TransformerEncoderLayer(D_MODEL, HEADS, **kwargs)
    gm.load_state_dict({k: v.detach().numpy().copy() for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((batch, seq, D_MODEL)).astype(np.float32)
    gx, tx = gdlab.tensor(x), torch.tensor(x)
    if not np.allclose(gm(gx).data, tm(tx).detach().numpy(), rtol=1e-4, atol=1e-4):
        raise AssertionError("transformer block: gdlab and torch outputs differ")
    topt = torch.optim.Adam(tm.parameters(), lr=1e-4)
    gopt = gdlab.optim.Adam(gm.parameters(), lr=1e-4)

    def torch_step() -> None:
        topt.zero_grad()
        tm(tx).sum().backward()
        topt.step()

    def gdlab_step() -> None:
        gopt.zero_grad()
        gm(gx).sum().backward()
        gopt.step()

    return gdlab_step, torch_step


def run(threads: int, smoke: bool) -> list[dict]:
    """The benchmark-suite interface: one row, the block's training step."""
    batch, seq = (2, 16) if smoke else (16, 64)
    gdlab_step, torch_step = _models(batch, seq)
    stats = compare(
        {"gdlab": gdlab_step, "torch": torch_step},
        repeats=3 if smoke else 25,
        min_time=0.0 if smoke else 0.05,
        warmup=1 if smoke else 3,
    )
    name = f"transformer block b={batch} seq {seq}"
    note = f"d {D_MODEL}, {HEADS} heads, ff {FEEDFORWARD}, GELU, pre-norm; fwd+bwd+Adam"
    return [row(name, stats["gdlab"], "torch", stats["torch"], note, target=1.0)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run to check it works")
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    args = parser.parse_args(argv)
    print_rows(run, args.threads, args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
