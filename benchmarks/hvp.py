"""Hessian-vector products and the sharpness: gdlab beside PyTorch, same process, interleaved.

Model: MLP 784-256-256-10 with tanh and cross-entropy (written as −Σ onehot·log_softmax, as
twice differentiable in both), float32, the same weights and data in both libraries.

- ``hvp``: one H·v from scratch: forward, the gradient with ``create_graph=True``, and the
  backward of ⟨g, v⟩ (torch: ``autograd.grad`` twice), batch 128. Target (issue 16): ≤ 1.5.
- ``power iteration``: the top Hessian eigenvalue by 20 power-iteration HVPs on one gradient
  graph (gdlab: ``autograd.spectrum.hvp_operator`` + ``power_iteration``; torch: the same loop
  with ``retain_graph=True``), batch 1000. Target: under 1 s at one thread (absolute).

Run: ``python benchmarks/hvp.py`` (``--smoke`` for a seconds-long check).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import compare, row, standalone  # noqa: E402

SIZES = (784, 256, 256, 10)
POWER_STEPS = 20


def _weights(sizes=SIZES) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    out = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        out += [(rng.standard_normal((b, a)) / np.sqrt(a)).astype(np.float32),
                np.zeros(b, np.float32)]  # fmt: skip
    return out


def _data(batch: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, SIZES[0])).astype(np.float32)
    return x, np.eye(SIZES[-1], dtype=np.float32)[rng.integers(0, SIZES[-1], batch)]


def _loss(lib, params, x, onehot):
    """Mean cross-entropy of the tanh MLP (the same expression for gdlab and torch)."""
    h = x
    for i in range(0, len(params), 2):
        h = h @ params[i].T + params[i + 1]
        if i + 2 < len(params):
            h = lib.tanh(h)
    return -(onehot * lib.log_softmax(h, dim=1)).sum() / x.shape[0]


def _gdlab_case(batch: int):
    import gdlab
    from gdlab.autograd import grad
    from gdlab.autograd.spectrum import hvp_operator, power_iteration

    params = [gdlab.tensor(w.copy(), requires_grad=True) for w in _weights()]
    x, y = (gdlab.tensor(a) for a in _data(batch))
    vs = [np.ones_like(w) for w in _weights()]

    def hvp():
        gs = grad(_loss(gdlab, params, x, y), params, create_graph=True)
        return grad(gs, params, vs)

    def power():
        op = hvp_operator(lambda: _loss(gdlab, params, x, y), params)
        return power_iteration(op, op.size, iters=POWER_STEPS, tol=0.0)[0]

    return hvp, power


def _torch_case(batch: int):
    import torch

    params = [torch.tensor(w.copy(), requires_grad=True) for w in _weights()]
    x, y = (torch.from_numpy(a) for a in _data(batch))
    vs = [torch.ones_like(p) for p in params]

    def hvp():
        gs = torch.autograd.grad(_loss(torch, params, x, y), params, create_graph=True)
        return torch.autograd.grad(gs, params, vs)

    def power():
        gs = torch.autograd.grad(_loss(torch, params, x, y), params, create_graph=True)
        v = [torch.randn_like(p) for p in params]
        value = 0.0
        for _ in range(POWER_STEPS):
            hv = torch.autograd.grad(gs, params, v, retain_graph=True)
            value = float(sum((a * b).sum() for a, b in zip(v, hv, strict=True)))
            norm = torch.sqrt(sum((h * h).sum() for h in hv))
            v = [h / norm for h in hv]
        return value

    return hvp, power


def _check_same_hvp(batch: int) -> None:
    """Both compute the same H·v (float32 rounding apart): the rows time one computation."""
    a, _ = _gdlab_case(batch)
    b, _ = _torch_case(batch)
    for ga, gb in zip(a(), b(), strict=True):
        np.testing.assert_allclose(np.asarray(ga), gb.numpy(), rtol=2e-3, atol=1e-5)


def run(threads: int, smoke: bool) -> list[dict]:
    """The benchmark-suite interface: the HVP row and the power-iteration row."""
    batch, power_batch = (16, 64) if smoke else (128, 1000)
    _check_same_hvp(batch)
    g_hvp, _ = _gdlab_case(batch)
    t_hvp, _ = _torch_case(batch)
    reps = dict(repeats=3 if smoke else 11, min_time=0.005 if smoke else 0.2)
    stats = compare({"gdlab": g_hvp, "torch": t_hvp}, **reps)
    rows = [row(f"hvp mlp batch {batch}", stats["gdlab"], "torch", stats["torch"],
                "grad(create_graph) + grad(g, v)", target=1.5)]  # fmt: skip
    _, g_power = _gdlab_case(power_batch)
    _, t_power = _torch_case(power_batch)
    stats = compare({"gdlab": g_power, "torch": t_power}, repeats=3 if smoke else 5, min_time=0)
    rows.append(row(f"power iteration {POWER_STEPS} hvps batch {power_batch}", stats["gdlab"],
                    "torch", stats["torch"], "target: gdlab under 1 s at 1 thread"))  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    return standalone(run, __doc__, argv)


if __name__ == "__main__":
    raise SystemExit(main())
