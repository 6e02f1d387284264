"""One training step of a transformer block in gdlab beside torch eager, same process,
interleaved (issue 20): ``TransformerEncoderLayer(d_model=128, nhead=4, dim_feedforward=512,
activation="gelu", norm_first=True, batch_first=True, dropout=0)`` on a batch of 16
sequences of length 64, float32; forward, backward of the output's sum and an Adam step.
The weights are torch's, copied through ``load_state_dict``; the outputs are checked equal
before timing.

Linear, LayerNorm, softmax attention and exact GELU: the parts issue 20 profiled (erf as a
Python call per element, LayerNorm from a dozen primitives, 3-D products one matrix at a
time).

A second row trains a small transformer to a target (``--smoke``: to 20 %): reverse a
sequence of 16 tokens over 16 symbols (embedding + learned positions, one pre-norm GELU
encoder layer d 32, 2 heads, ff 64, a linear head; cross-entropy, Adam lr 3e-3, batches of
64 drawn from one seeded stream)
until per-token accuracy on 512 held-out sequences reaches 99 %. gdlab and torch start from
the same weights (torch's, copied) and see the same batches; only training steps are timed
(accuracy is checked every 10 steps off the clock), after one untimed warm-up step on a
throwaway copy (kernel loading is the first-step row's subject, not this one's).

Run: ``python benchmarks/transformer_step.py`` (``--smoke`` for a few-second check).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import compare, long_run_state, row, standalone  # noqa: E402

D_MODEL, HEADS, FEEDFORWARD = 128, 4, 512
# the reversal task of the time-to-target row
SYMBOLS, LENGTH, TASK_D, TASK_HEADS, TASK_FF, TASK_BATCH = 16, 16, 32, 2, 64, 64
GOAL, MAX_STEPS, EVAL_EVERY = 0.99, 1000, 10


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


def _reverser(lib):
    """Embedding + learned positions -> one pre-norm GELU encoder layer -> linear head, in
    ``lib`` (torch or gdlab), with the same parameter names in both."""
    import torch

    nn = torch.nn if lib is torch else lib.nn

    class Reverser(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(SYMBOLS, TASK_D)
            self.position = nn.Embedding(LENGTH, TASK_D)
            self.block = nn.TransformerEncoderLayer(
                TASK_D, TASK_HEADS, TASK_FF, dropout=0.0, activation="gelu",
                batch_first=True, norm_first=True,
            )  # fmt: skip
            self.head = nn.Linear(TASK_D, SYMBOLS)

        def forward(self, x, positions):
            return self.head(self.block(self.embed(x) + self.position(positions)))

    return Reverser()


def _reverser_pair(seed: int):
    """(gdlab model, torch model) with torch's initial weights in both."""
    import torch

    import gdlab

    torch.manual_seed(seed)
    tm = _reverser(torch)
    gm = _reverser(gdlab)
    gm.load_state_dict({k: v.detach().numpy().copy() for k, v in tm.state_dict().items()})
    return gm, tm


def _train_to_target(lib, model, seed: int, goal: float = GOAL, warmup: bool = False) -> dict:
    """Seconds of training steps until held-out per-token accuracy >= goal, and the steps."""
    import torch

    is_torch = lib is torch
    tensor = torch.tensor if is_torch else lib.tensor
    functional = torch.nn.functional if is_torch else lib.nn.functional
    no_grad = torch.no_grad if is_torch else lib.no_grad
    opt = (torch.optim.Adam if is_torch else lib.optim.Adam)(model.parameters(), lr=3e-3)
    rng = np.random.default_rng(seed)
    held_out = rng.integers(0, SYMBOLS, (512, LENGTH))
    held_out_t, positions = tensor(held_out), tensor(np.arange(LENGTH))
    spent, acc = 0.0, 0.0
    for step in range(1, MAX_STEPS + 1):
        x = rng.integers(0, SYMBOLS, (TASK_BATCH, LENGTH))
        y = np.ascontiguousarray(x[:, ::-1]).reshape(-1)
        t0 = time.perf_counter()
        opt.zero_grad()
        logits = model(tensor(x), positions)
        functional.cross_entropy(logits.reshape(-1, SYMBOLS), tensor(y)).backward()
        opt.step()
        spent += time.perf_counter() - t0
        if warmup:
            return {}
        if step % EVAL_EVERY == 0:
            with no_grad():
                pred = np.asarray(model(held_out_t, positions).argmax(-1))
            acc = float(np.mean(pred == held_out[:, ::-1]))
            if acc >= goal:
                return {"seconds": spent, "steps": step, "accuracy": acc}
    return {"seconds": None, "steps": MAX_STEPS, "accuracy": acc}


def time_to_target(repeats: int, goal: float = GOAL) -> dict[str, list[dict]]:
    """Both libraries trained to ``goal`` from the same weights, alternating which goes
    first."""
    import torch

    import gdlab

    for lib, model in zip((gdlab, torch), _reverser_pair(0), strict=True):
        _train_to_target(lib, model, 0, warmup=True)  # kernels, caches, allocator
    results: dict[str, list[dict]] = {"gdlab": [], "torch": []}
    for r in range(repeats):
        gm, tm = _reverser_pair(r)
        runs = [("gdlab", gdlab, gm), ("torch", torch, tm)]
        for name, lib, model in runs if r % 2 == 0 else runs[::-1]:
            results[name].append(_train_to_target(lib, model, r, goal))
    return results


def _median_seconds(runs: list[dict]) -> float | None:
    times = [r["seconds"] for r in runs]
    return None if None in times else float(np.median(times))


def run(threads: int, smoke: bool) -> list[dict]:
    """The benchmark-suite interface: the block's training step, and the reversal task
    trained to 99 % (one repetition with ``smoke``)."""
    long_run_state()  # steady-state step times: numba's kernels bought
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
    step_row = row(name, stats["gdlab"], "torch", stats["torch"], note, target=1.0)
    goal = 0.2 if smoke else GOAL  # smoke: a few steps, to check the row runs
    trained = time_to_target(1 if smoke else 3, goal)
    steps = {k: [r["steps"] for r in v] for k, v in trained.items()}
    target_note = (
        f"reverse {LENGTH} tokens of {SYMBOLS}, d {TASK_D}, {TASK_HEADS} heads, Adam 3e-3, batch "
        f"{TASK_BATCH}; steps to {goal:.0%}: gdlab {steps['gdlab']}, torch {steps['torch']}"
    )
    target_row = row(
        f"transformer to {goal:.0%} (reversal)",
        _median_seconds(trained["gdlab"]),
        "torch",
        _median_seconds(trained["torch"]),
        target_note,
        target=1.0,
    )
    return [step_row, target_row]


def main(argv: list[str] | None = None) -> int:
    return standalone(run, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
