"""The articles' first network, trained by hand: 3 inputs + bias -> 4 sigmoid units -> 1 output.

Forward pass layer by layer as matrix products, squared-error loss, gradients by
backpropagation (``loss.backward()``), and plain gradient descent written out::

    w <- w - lr * dL/dw        (under no_grad, in place)

The data are the classic four samples whose target is the XOR of the first two inputs (the
third input is a constant 1), which no network without a hidden layer can fit.

Run: ``python examples/three_four_one.py [--steps 3000] [--lr 2.0] [--seed 0]``
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

import gdlab

X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float64)
Y = np.array([[0], [1], [1], [0]], dtype=np.float64)


def init_params(seed: int) -> list[gdlab.Tensor]:
    """W1 (3, 4), b1 (4,), W2 (4, 1), b2 (1,), uniform in [-1, 1) as in the articles."""
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), (4, 1), (1,)]
    return [gdlab.tensor(rng.uniform(-1, 1, s), requires_grad=True) for s in shapes]


def forward(params: Sequence[gdlab.Tensor], x: gdlab.Tensor) -> gdlab.Tensor:
    w1, b1, w2, b2 = params
    hidden = (x @ w1 + b1).sigmoid()  # (n, 4)
    return (hidden @ w2 + b2).sigmoid()  # (n, 1)


def loss_fn(params: Sequence[gdlab.Tensor], x: gdlab.Tensor, y: gdlab.Tensor) -> gdlab.Tensor:
    """Half the summed squared error, 1/2 Σ (ŷ - y)², whose gradient is (ŷ - y)."""
    return ((forward(params, x) - y) ** 2).sum() * 0.5


def train(steps: int, lr: float, seed: int, every: int) -> list[float]:
    """Full-batch gradient descent; returns the loss at every step."""
    params = init_params(seed)
    x, y = gdlab.tensor(X), gdlab.tensor(Y)
    losses = []
    for step in range(steps):
        loss = loss_fn(params, x, y)
        for p in params:
            p.grad = None
        loss.backward()
        with gdlab.no_grad():
            for p in params:
                p -= lr * p.grad  # the update rule, in place
        losses.append(loss.item())
        if every and (step % every == 0 or step == steps - 1):
            print(f"step {step:5d}  loss {loss.item():.6f}")
    if every:
        with gdlab.no_grad():
            pred = forward(params, x).numpy().ravel()
        print("predictions", np.round(pred, 3), "targets", Y.ravel())
    return losses


def main(argv: Sequence[str] | None = None) -> list[float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--lr", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every", type=int, default=300, help="print every N steps (0: never)")
    args = parser.parse_args(argv)
    if args.steps <= 0:
        parser.error(f"--steps must be positive, got {args.steps}")
    return train(args.steps, args.lr, args.seed, args.every)


if __name__ == "__main__":
    main()
