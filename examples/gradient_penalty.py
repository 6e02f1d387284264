"""A gradient penalty: fit a network while penalising the size of its input gradient.

    L(θ) = mean (f_θ(x) − y)²  +  λ · mean_i ‖∇ₓ f_θ(x_i)‖²

The penalty is itself a function of a gradient, so the training step differentiates a
gradient: ∇ₓ f is computed with ``create_graph=True`` and the total loss, penalty included,
is differentiated again with respect to θ ("double backpropagation", Drucker & LeCun 1992;
the same term keeps a WGAN-GP critic or an R1-regularised discriminator smooth: Gulrajani et
al. 2017, Mescheder et al. 2018). A larger λ gives a flatter fit.

Run: ``python examples/gradient_penalty.py [--steps 200] [--lr 0.05] [--lam 0.1] [--seed 0]``
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

import gdlab
from gdlab.autograd import grad


def make_data(seed: int, n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Noisy samples of sin(2x₀)·x₁ on [−2, 2]²."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, (n, 2))
    return x, np.sin(2 * x[:, :1]) * x[:, 1:] + 0.1 * rng.standard_normal((n, 1))


def init_params(seed: int, hidden: int = 16) -> list[gdlab.Tensor]:
    """W1 (hidden, 2), b1, W2 (1, hidden), b2: torch's Linear layout, scaled normal."""
    rng = np.random.default_rng(seed + 1)
    shapes = [(hidden, 2), (hidden,), (1, hidden), (1,)]
    scales = [1 / np.sqrt(2), 0.1, 1 / np.sqrt(hidden), 0.1]
    return [gdlab.tensor(rng.standard_normal(s) * c, requires_grad=True)
            for s, c in zip(shapes, scales, strict=True)]  # fmt: skip


def forward(params: Sequence[gdlab.Tensor], x: gdlab.Tensor) -> gdlab.Tensor:
    w1, b1, w2, b2 = params
    return gdlab.tanh(x @ w1.T + b1) @ w2.T + b2


def penalised_loss(
    params: Sequence[gdlab.Tensor], x: np.ndarray, y: np.ndarray, lam: float
) -> tuple[gdlab.Tensor, gdlab.Tensor]:
    """(total loss, penalty): the input gradient is kept in the graph (create_graph=True)."""
    xt = gdlab.tensor(x, requires_grad=True)
    out = forward(params, xt)
    (gx,) = grad(out.sum(), xt, create_graph=True)  # row i: ∇ₓ f(x_i), samples independent
    penalty = (gx * gx).sum(dim=1).mean()
    fit = ((out - gdlab.tensor(y)) ** 2).mean()
    return fit + lam * penalty, penalty


def train(steps: int, lr: float, lam: float, seed: int, every: int = 0) -> dict[str, list]:
    """Gradient descent on the penalised loss; returns the losses, penalties and parameters."""
    x, y = make_data(seed)
    params = init_params(seed)
    history: dict[str, list] = {"loss": [], "penalty": []}
    for step in range(steps):
        loss, penalty = penalised_loss(params, x, y, lam)
        for p in params:
            p.grad = None
        loss.backward()  # through the penalty's gradient: second derivatives of f
        with gdlab.no_grad():
            for p in params:
                p -= lr * np.asarray(p.grad)
        history["loss"].append(loss.item())
        history["penalty"].append(penalty.item())
        if every and (step % every == 0 or step == steps - 1):
            print(f"step {step:4d}  loss {loss.item():.6f}  penalty {penalty.item():.6f}")
    history["params"] = [p.detach().numpy().copy() for p in params]
    return history


def main(argv: Sequence[str] | None = None) -> dict[str, list]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--lam", type=float, default=0.1, help="the penalty's weight λ")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every", type=int, default=20, help="print every N steps (0: never)")
    args = parser.parse_args(argv)
    if args.steps <= 0:
        parser.error(f"--steps must be positive, got {args.steps}")
    return train(args.steps, args.lr, args.lam, args.seed, args.every)


if __name__ == "__main__":
    main()
