"""One training step of an embedding bag in gdlab beside torch eager, same process,
interleaved (issue 20): ``Embedding(10000, 64)``, a batch of 256 index sequences of length 20,
the mean over each sequence, ``Linear(64, 10)``, cross-entropy, backward and a step, float32.

Rows: Adam, SGD (plain lr) and SGD with momentum 0.9 on a dense embedding (``.grad`` a dense
table, as torch's), and the same with ``sparse=True`` (SparseAdam on the table beside Adam on
the head, as torch requires; SGD on both). The weights are torch's; the first losses are
checked equal before timing. Which path runs depends on the process's history: the optimizers'
break-even rule (``optim/_fast/numba_loader.py``) loads numba after ~160 Adam or ~780 SGD steps
on this table, and from then on the embedding's scatter-add and the sparse rows run compiled
too; before that, NumPy throughout. The rows run in the order above, so the later ones may
measure the compiled regime and the first the NumPy one.

Run: ``python benchmarks/embedding_step.py`` (``--smoke`` for a few-second check).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import compare, long_run_state, row, standalone  # noqa: E402

TABLE, DIM, CLASSES, BATCH, LENGTH = 10_000, 64, 10, 256, 20
OPTIMIZERS = ("Adam", "SGD", "SGD momentum 0.9")


def _optimizers(lib, table, head, name: str, sparse: bool) -> list:
    if name == "Adam" and sparse:
        return [lib.SparseAdam(table, lr=1e-3), lib.Adam(head, lr=1e-3)]
    if name == "Adam":
        return [lib.Adam(table + head, lr=1e-3)]
    momentum = 0.9 if "momentum" in name else 0.0
    return [lib.SGD(table + head, lr=0.1, momentum=momentum)]


def _steps(name: str, sparse: bool, table: int, batch: int):
    import torch

    import gdlab
    import gdlab.nn as gnn
    import gdlab.nn.functional as F

    torch.manual_seed(0)
    t_emb, t_head = torch.nn.Embedding(table, DIM, sparse=sparse), torch.nn.Linear(DIM, CLASSES)
    g_emb, g_head = gnn.Embedding(table, DIM, sparse=sparse), gnn.Linear(DIM, CLASSES)
    g_emb.load_state_dict({k: v.detach().numpy().copy() for k, v in t_emb.state_dict().items()})
    g_head.load_state_dict({k: v.detach().numpy().copy() for k, v in t_head.state_dict().items()})
    rng = np.random.default_rng(0)
    idx, y = rng.integers(0, table, (batch, LENGTH)), rng.integers(0, CLASSES, batch)
    t_idx, t_y = torch.from_numpy(idx), torch.from_numpy(y)
    t_opts = _optimizers(torch.optim, list(t_emb.parameters()), list(t_head.parameters()),
                         name, sparse)  # fmt: skip
    g_opts = _optimizers(gdlab.optim, list(g_emb.parameters()), list(g_head.parameters()),
                         name, sparse)  # fmt: skip

    def torch_step() -> float:
        for opt in t_opts:
            opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(t_head(t_emb(t_idx).mean(1)), t_y)
        loss.backward()
        for opt in t_opts:
            opt.step()
        return loss.item()

    def gdlab_step() -> float:
        for opt in g_opts:
            opt.zero_grad()
        loss = F.cross_entropy(g_head(g_emb(idx).mean(1)), y)
        loss.backward()
        for opt in g_opts:
            opt.step()
        return loss.item()

    lg, lt = gdlab_step(), torch_step()
    if not np.isclose(lg, lt, rtol=1e-5):
        raise AssertionError(f"embedding {name}: gdlab loss {lg} != torch loss {lt}")
    return gdlab_step, torch_step


def run(threads: int, smoke: bool) -> list[dict]:
    """The benchmark-suite interface: a row per optimizer, dense then sparse."""
    long_run_state()  # steady-state step times: numba's kernels bought
    table, batch = (500, 16) if smoke else (TABLE, BATCH)
    rows = []
    for sparse in (False, True):
        for name in OPTIMIZERS:
            gdlab_step, torch_step = _steps(name, sparse, table, batch)
            stats = compare(
                {"gdlab": gdlab_step, "torch": torch_step},
                repeats=3 if smoke else 25,
                min_time=0.0 if smoke else 0.05,
                warmup=1 if smoke else 3,
            )
            kind = "sparse" if sparse else "dense"
            label = f"embedding {kind} {name}"
            note = f"Embedding({table}, {DIM}), batch {batch}x{LENGTH}, mean, Linear; fwd+bwd+step"
            rows.append(row(label, stats["gdlab"], "torch", stats["torch"], note, target=0.8))
    return rows


def main(argv: list[str] | None = None) -> int:
    return standalone(run, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
