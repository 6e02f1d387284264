"""LSTM and GRU in gdlab beside torch eager, in the same process, interleaved, float32.

Forward + backward (sum of the outputs): one layer, input 16, hidden 64, batch 32; sequence
lengths 100 / 200 / 400 show that the cost grows linearly with the length (issue 3: the
recurrence is one primitive per layer and direction, see ``gdlab.ops.rnn_ops``).

Training step (issue 20's workload): ``LSTM(32, 128)`` / ``GRU(32, 128)``, batch_first,
sequence 50, batch 32, a Linear(128, 10) head on the last output, cross-entropy, backward and
an Adam step (targets: LSTM ≤ 1.0, GRU ≤ 0.8 of torch's time).

Run: ``python benchmarks/rnn_step.py`` (``--smoke`` for a few-second check).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import compare, long_run_state, row, standalone  # noqa: E402

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


STEP_INPUT, STEP_HIDDEN, STEP_SEQ, STEP_CLASSES = 32, 128, 50, 10
STEP_TARGET = {"LSTM": 1.0, "GRU": 0.8}


def _gemm_floor(gates: int, seq: int) -> Callable[[], None]:
    """The matrix products a NumPy step cannot avoid, alone: per step h·W_hhᵀ forward and
    ∂a·W_hh backward, then ∂W_hh, the input projection and ∂W_ih as one GEMM each."""
    rng = np.random.default_rng(1)

    def arr(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.1).astype(np.float32)

    h, w_steps = arr(BATCH, STEP_HIDDEN), arr(gates, STEP_HIDDEN, STEP_HIDDEN)
    w_hh = arr(gates * STEP_HIDDEN, STEP_HIDDEN)
    d, rows = arr(BATCH, gates * STEP_HIDDEN), arr(seq * BATCH, gates * STEP_HIDDEN)
    hs, x = arr(seq * BATCH, STEP_HIDDEN), arr(seq * BATCH, STEP_INPUT)
    w_ih = arr(gates * STEP_HIDDEN, STEP_INPUT)
    a, dh = np.empty((gates, BATCH, STEP_HIDDEN), np.float32), np.empty_like(h)

    def floor() -> None:
        for _ in range(seq):
            np.matmul(h, w_steps, out=a)
        for _ in range(seq):
            np.matmul(d, w_hh, out=dh)
        rows.T @ hs
        x @ w_ih.T
        rows.T @ x

    return floor


def _training_step(kind: str, smoke: bool) -> list[dict]:
    """Issue 20's rows: recurrent layer + head on the last output, loss, backward, Adam; and
    the NumPy GEMM floor of that step against torch's whole step."""
    import torch

    import gdlab
    import gdlab.nn as gnn
    import gdlab.optim as goptim

    torch.manual_seed(0)
    seq = 5 if smoke else STEP_SEQ
    tm = getattr(torch.nn, kind)(STEP_INPUT, STEP_HIDDEN, batch_first=True)
    th = torch.nn.Linear(STEP_HIDDEN, STEP_CLASSES)
    gm = getattr(gnn, kind)(STEP_INPUT, STEP_HIDDEN, batch_first=True)
    gh = gnn.Linear(STEP_HIDDEN, STEP_CLASSES)
    for g, t in ((gm, tm), (gh, th)):
        g.load_state_dict({k: v.detach().numpy().copy() for k, v in t.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, seq, STEP_INPUT)).astype(np.float32)
    y = rng.integers(0, STEP_CLASSES, BATCH)
    gx, tx, ty = gdlab.tensor(x), torch.tensor(x), torch.tensor(y)
    gopt = goptim.Adam([*gm.parameters(), *gh.parameters()], lr=1e-3)
    topt = torch.optim.Adam([*tm.parameters(), *th.parameters()], lr=1e-3)

    def gdlab_step() -> None:
        gopt.zero_grad()
        out, _ = gm(gx)
        gnn.functional.cross_entropy(gh(out[:, -1]), y).backward()
        gopt.step()

    def torch_step() -> None:
        topt.zero_grad()
        out, _ = tm(tx)
        torch.nn.functional.cross_entropy(th(out[:, -1]), ty).backward()
        topt.step()

    floor = _gemm_floor(4 if kind == "LSTM" else 3, seq)
    stats = compare(
        {"gdlab": gdlab_step, "torch": torch_step, "floor": floor},
        repeats=3 if smoke else 15,
        min_time=0.0 if smoke else 0.05,
    )
    name = f"{kind} step H {STEP_HIDDEN}"
    notes = f"seq {seq}, batch 32, batch_first, head + CE + Adam"
    return [
        row(name, stats["gdlab"], "torch", stats["torch"], notes, target=STEP_TARGET[kind]),
        row(
            name,
            stats["floor"],
            "torch",
            stats["torch"],
            "NumPy's GEMMs of the step alone vs torch's whole step",
            subject="numpy GEMM floor",
        ),
    ]


def run(threads: int, smoke: bool) -> list[dict]:
    """The benchmark-suite interface: LSTM and GRU rows at three sequence lengths, and the
    training step of issue 20."""
    long_run_state()  # steady-state step times: numba's kernels bought
    seqs = [20] if smoke else [100, 200, 400]
    rows = [_case(kind, s, smoke) for kind in ("LSTM", "GRU") for s in seqs]
    rows += [r for kind in ("LSTM", "GRU") for r in _training_step(kind, smoke)]
    return rows


def main(argv: list[str] | None = None) -> int:
    return standalone(run, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
