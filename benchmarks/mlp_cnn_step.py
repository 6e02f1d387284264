"""One training step (forward + backward + a hand-written SGD update) of gdlab.nn models
beside the same models in PyTorch eager, in the same process, interleaved.

Models (float32):
- MLP 784-256-256-10 with ReLU and cross-entropy, batch 32 / 128 / 1024;
- small CNN: conv 1->8 3x3, ReLU, maxpool 2, conv 8->16 3x3, ReLU, maxpool 2, linear
  400 -> 10, cross-entropy; 28x28 inputs, batch 64.

Both frameworks start from the same weights and data. Times are medians over interleaved
repetitions (``benchmarks.harness.compare``) at 1 and 2 threads (torch.set_num_threads and
threadpoolctl for NumPy's BLAS). Targets (issue 3): MLP ratio gdlab/torch <= 1, CNN <= 2.

Run: ``python benchmarks/mlp_cnn_step.py`` (``--smoke`` for a few-second check).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import compare, long_run_state, row, standalone  # noqa: E402

LR = 0.01


def _mlp(nn, sizes=(784, 256, 256, 10)):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _cnn(nn):
    return nn.Sequential(
        nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 10),
    )  # fmt: skip


def _twins(kind: str):
    import torch

    import gdlab.nn as gnn

    torch.manual_seed(0)
    tm = _mlp(torch.nn) if kind == "mlp" else _cnn(torch.nn)
    gm = _mlp(gnn) if kind == "mlp" else _cnn(gnn)
    gm.load_state_dict({k: v.detach().numpy().copy() for k, v in tm.state_dict().items()})
    return gm, tm


def gdlab_step(model, x, y):
    """zero_grad, forward, cross-entropy, backward, p -= lr·grad (in place)."""
    import gdlab
    import gdlab.nn.functional as F

    model.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    with gdlab.no_grad():
        for p in model.parameters():
            p.grad *= LR
            p.data -= p.grad
    return loss


def torch_step(model, x, y):
    import torch

    model.zero_grad(set_to_none=True)
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(p.grad, alpha=-LR)
    return loss


def _data(kind: str, batch: int):
    rng = np.random.default_rng(0)
    shape = (batch, 784) if kind == "mlp" else (batch, 1, 28, 28)
    return rng.standard_normal(shape).astype(np.float32), rng.integers(0, 10, batch)


def _case(kind: str, batch: int, smoke: bool) -> dict:
    import torch

    import gdlab

    gm, tm = _twins(kind)
    x, y = _data(kind, batch)
    gx, tx, ty = gdlab.tensor(x), torch.from_numpy(x), torch.from_numpy(y)
    # one step each from the same weights: the losses must agree (same computation)
    lg, lt = gdlab_step(gm, gx, y).item(), torch_step(tm, tx, ty).item()
    if not np.isclose(lg, lt, rtol=1e-4):
        raise AssertionError(f"{kind}: gdlab loss {lg} != torch loss {lt}")
    stats = compare(
        {"gdlab": lambda: gdlab_step(gm, gx, y), "torch": lambda: torch_step(tm, tx, ty)},
        repeats=3 if smoke else 15,
        min_time=0.005 if smoke else 0.1,
    )
    target = 1.0 if kind == "mlp" else 2.0
    name = f"{kind} step batch {batch}"
    flop = mlp_flop(batch) if kind == "mlp" else None
    return row(
        name, stats["gdlab"], "torch", stats["torch"], "fwd+bwd+sgd", target=target, flop=flop
    )


def mlp_flop(batch: int, sizes: tuple[int, ...] = (784, 256, 256, 10)) -> int:
    """The matrix products of one MLP step: forward, weight gradients and input gradients
    (none for the first layer's input), 2·batch per weight each: 1.24 GFLOP at batch 1024."""
    weights = [a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    return 2 * batch * (2 * sum(weights) + sum(weights[1:]))


def run(threads: int, smoke: bool) -> list[dict]:
    """The benchmark-suite interface: rows for the MLP batches and the CNN."""
    long_run_state()  # steady-state step times: numba's kernels bought
    batches = [32] if smoke else [32, 128, 1024]
    rows = [_case("mlp", b, smoke) for b in batches]
    rows.append(_case("cnn", 8 if smoke else 64, smoke))
    return rows


def main(argv: list[str] | None = None) -> int:
    return standalone(run, __doc__, argv, threads=(1, 2))


if __name__ == "__main__":
    sys.exit(main())
