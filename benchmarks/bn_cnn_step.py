"""A CIFAR-size batch-norm CNN in gdlab beside torch eager, same process, interleaved
(issue 20): 2 x [Conv2d 3->32 then 32->64, 3x3, padding 1, BatchNorm2d, ReLU,
MaxPool2d(2)], flatten, Linear 4096 -> 10, cross-entropy, SGD(lr=0.01, momentum=0.9).

Two rows:

- one training step (zero_grad, forward, backward, step) on a batch of 128 random
  3x32x32 float32 images; the two models start from the same weights (torch's init copied
  through ``load_state_dict``) and their first losses are checked equal before timing;
- time to a target: the same net trained on scikit-learn's 8x8 digits scaled up to
  3x32x32 (each pixel a 4x4 block, the grey value in all three channels), batches of 128
  reshuffled each epoch, until the test accuracy (eval mode: running statistics) reaches
  ``GOAL``; only training epochs are timed, from the same initial weights and batch order,
  the two alternating epoch by epoch.

Besides the wall-clock medians (the rows), ``main`` prints the ratio of ``time.thread_time``
CPU medians, which a loaded machine distorts less.

Run: ``python -m benchmarks.bn_cnn_step`` (``--smoke`` for a few-second check).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import Stats, long_run_state, row, thread_limit  # noqa: E402

LR, MOMENTUM = 0.01, 0.9
GOAL = 0.95
MAX_EPOCHS = 20


def build(nn, width: int = 32):
    """The issue's net on 3 x ``width`` x ``width`` inputs."""
    flat = 64 * (width // 4) ** 2
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(flat, 10),
    )  # fmt: skip


def twins(width: int = 32, seed: int = 0):
    """(gdlab model, torch model) with torch's initial weights in both."""
    import torch

    import gdlab.nn as gnn

    torch.manual_seed(seed)
    tm = build(torch.nn, width)
    gm = build(gnn, width)
    gm.load_state_dict({k: v.detach().numpy().copy() for k, v in tm.state_dict().items()})
    return gm, tm


def steppers(gm, tm):
    """(gdlab step, torch step): ``step(x, y) -> loss`` on arrays already converted."""
    import torch

    import gdlab
    import gdlab.nn.functional as F

    gopt = gdlab.optim.SGD(gm.parameters(), lr=LR, momentum=MOMENTUM)
    topt = torch.optim.SGD(tm.parameters(), lr=LR, momentum=MOMENTUM)

    def gdlab_step(x, y):
        gopt.zero_grad()
        loss = F.cross_entropy(gm(x), y)
        loss.backward()
        gopt.step()
        return loss

    def torch_step(x, y):
        topt.zero_grad()
        loss = torch.nn.functional.cross_entropy(tm(x), y)
        loss.backward()
        topt.step()
        return loss

    return gdlab_step, torch_step


def interleaved(candidates: dict, repeats: int, warmup: int) -> dict[str, tuple[Stats, Stats]]:
    """name -> (wall Stats, thread-CPU Stats) of one call each, order rotated per repeat."""
    names = list(candidates)
    for name in names:
        for _ in range(warmup):
            candidates[name]()
    out = {name: (Stats(), Stats()) for name in names}
    for r in range(repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            c0, t0 = time.thread_time(), time.perf_counter()
            candidates[name]()
            t1, c1 = time.perf_counter(), time.thread_time()
            out[name][0].times.append(t1 - t0)
            out[name][1].times.append(c1 - c0)
    return out


def step_row(smoke: bool) -> tuple[dict, float]:
    """The step row and the ratio of CPU-time medians."""
    import torch

    import gdlab

    batch = 8 if smoke else 128
    gm, tm = twins()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    gx, tx, ty = gdlab.tensor(x), torch.from_numpy(x), torch.from_numpy(y)
    gstep, tstep = steppers(gm, tm)
    lg, lt = gstep(gx, y).item(), tstep(tx, ty).item()
    if not np.isclose(lg, lt, rtol=1e-4):
        raise AssertionError(f"BN CNN: gdlab loss {lg} != torch loss {lt}")
    stats = interleaved(
        {"gdlab": lambda: gstep(gx, y), "torch": lambda: tstep(tx, ty)},
        repeats=3 if smoke else 21,
        warmup=1 if smoke else 3,
    )
    cpu = stats["gdlab"][1].median / stats["torch"][1].median
    note = f"fwd+bwd+SGD momentum; CPU-time ratio {cpu:.2f}"
    name = f"BN CNN step b={batch} 3x32x32"
    return row(name, stats["gdlab"][0], "torch", stats["torch"][0], note, target=1.0), cpu


def digits_32(seed: int = 0) -> tuple[np.ndarray, ...]:
    """Digits in [0, 1] as (N, 3, 32, 32) float32, split 75/25 stratified."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    img = (x / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    img = np.repeat(np.repeat(img, 4, axis=2), 4, axis=3)
    img = np.ascontiguousarray(np.broadcast_to(img, (img.shape[0], 3, 32, 32)))
    return tuple(train_test_split(img, y, test_size=0.25, stratify=y, random_state=seed))


class _Run:
    """One framework's training towards GOAL: its step, evaluation and clocks."""

    def __init__(self, step, evaluate, model, convert):
        self.step, self.evaluate, self.model, self.convert = step, evaluate, model, convert
        self.wall = self.cpu = self.acc = 0.0
        self.epochs = 0

    def epoch(self, data, perm) -> None:
        """One timed epoch, then the (untimed) test accuracy in eval mode."""
        xtr, xte, ytr, yte = data
        self.model.train()
        c0, t0 = time.thread_time(), time.perf_counter()
        for b in range(0, len(perm), 128):
            idx = perm[b : b + 128]
            self.step(*self.convert(xtr[idx], ytr[idx]))
        self.wall += time.perf_counter() - t0
        self.cpu += time.thread_time() - c0
        self.epochs += 1
        self.model.eval()
        self.acc = self.evaluate(xte, yte)


def target_row(smoke: bool) -> tuple[dict, float]:
    """The time-to-target row and the ratio of CPU times. The two runs alternate epoch by
    epoch (same batch order), so a slow spell of the machine hits both."""
    import torch

    import gdlab

    data = digits_32()
    if smoke:
        data = (data[0][:64], data[1][:32], data[2][:64], data[3][:32])
    epochs = 1 if smoke else MAX_EPOCHS
    rng = np.random.default_rng(0)
    order = [rng.permutation(len(data[0])) for _ in range(epochs)]
    gm, tm = twins()
    gstep, tstep = steppers(gm, tm)

    def g_eval(x, y):
        with gdlab.no_grad():
            return float((gm(gdlab.tensor(x)).data.argmax(1) == y).mean())

    def t_eval(x, y):
        with torch.no_grad():
            return float((tm(torch.from_numpy(x)).numpy().argmax(1) == y).mean())

    runs = [
        _Run(gstep, g_eval, gm, lambda x, y: (gdlab.tensor(x), y)),
        _Run(tstep, t_eval, tm, lambda x, y: (torch.from_numpy(x), torch.from_numpy(y))),
    ]
    for perm in order:
        for r in runs:
            if r.acc < GOAL:
                r.epoch(data, perm)
    g, t = runs
    if not smoke and (g.acc < GOAL or t.acc < GOAL):
        raise AssertionError(f"BN CNN digits: no {GOAL} accuracy in {MAX_EPOCHS} epochs")
    cpu = g.cpu / t.cpu
    note = (
        f"digits 3x32x32, batch 128, to {GOAL:.0%} test accuracy: gdlab {g.epochs} epochs "
        f"({g.acc:.3f}), torch {t.epochs} ({t.acc:.3f}); CPU-time ratio {cpu:.2f}"
    )
    return row("BN CNN digits to target", g.wall, "torch", t.wall, note, target=1.0), cpu


def run(threads: int, smoke: bool) -> list[dict]:
    """The benchmark-suite interface: the step row and the time-to-target row."""
    long_run_state()  # steady-state step times: numba's kernels bought
    return [step_row(smoke)[0], target_row(smoke)[0]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run to check it works")
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    parser.add_argument("--step-only", action="store_true", help="only the step row")
    args = parser.parse_args(argv)
    print(f"{'case':<28}{'threads':>8}{'gdlab ms':>11}{'torch ms':>11}{'ratio':>8}{'cpu':>7}")
    for n in args.threads:
        with thread_limit(n):
            step, cpu = step_row(args.smoke)
            rows = [(step, f"{cpu:.2f}")]
            if not args.step_only:
                target, cpu = target_row(args.smoke)
                rows.append((target, f"{cpu:.2f}"))
                print(target["notes"])
            for r, c in rows:
                print(
                    f"{r['name']:<28}{n:>8}{r['gdlab_s'] * 1e3:>11.1f}{r['peer_s'] * 1e3:>11.1f}"
                    f"{r['ratio']:>8.2f}{c:>7}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
