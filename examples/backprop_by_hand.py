"""Backpropagation by hand (article 001): the 3-4-1 sigmoid network's chain rule, written out.

Forward, for a batch X (n, 3)::

    z₁ = X W₁ + b₁      h = σ(z₁)          (n, 4)
    z₂ = h W₂ + b₂      ŷ = σ(z₂)          (n, 1)
    L  = ½ Σ (ŷ − y)²

Backward: each layer's δ is the gradient of L with respect to its pre-activation z, and
σ'(z) = σ(z)(1 − σ(z)) is read off the forward output::

    δ₂ = (ŷ − y) ⊙ ŷ(1 − ŷ)              ∂L/∂W₂ = hᵀ δ₂     ∂L/∂b₂ = Σₙ δ₂
    δ₁ = (δ₂ W₂ᵀ) ⊙ h(1 − h)             ∂L/∂W₁ = Xᵀ δ₁     ∂L/∂b₁ = Σₙ δ₁

The script computes these by hand with NumPy, then checks them against gdlab's
``loss.backward()`` and against central finite differences, and prints the largest
differences.

Run: ``python examples/backprop_by_hand.py [--seed 0]``
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

import gdlab

X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float64)
Y = np.array([[0], [1], [1], [0]], dtype=np.float64)
NAMES = ("W1", "b1", "W2", "b2")


def init_params(seed: int) -> list[np.ndarray]:
    """W₁ (3, 4), b₁ (4,), W₂ (4, 1), b₂ (1,), uniform in [-1, 1) as in the articles."""
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, s) for s in ((3, 4), (4,), (4, 1), (1,))]


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def loss(params: Sequence[np.ndarray], x: np.ndarray = X, y: np.ndarray = Y) -> float:
    w1, b1, w2, b2 = params
    y_hat = sigmoid(sigmoid(x @ w1 + b1) @ w2 + b2)
    return float(0.5 * ((y_hat - y) ** 2).sum())


def backprop(params: Sequence[np.ndarray], x: np.ndarray = X, y: np.ndarray = Y):
    """The gradients (∂L/∂W₁, ∂L/∂b₁, ∂L/∂W₂, ∂L/∂b₂) by the chain rule, layer by layer."""
    w1, b1, w2, b2 = params
    h = sigmoid(x @ w1 + b1)
    y_hat = sigmoid(h @ w2 + b2)
    delta2 = (y_hat - y) * y_hat * (1.0 - y_hat)  # output layer: ∂L/∂z₂
    delta1 = (delta2 @ w2.T) * h * (1.0 - h)  # hidden layer: ∂L/∂z₁, sent back through W₂
    return [x.T @ delta1, delta1.sum(axis=0), h.T @ delta2, delta2.sum(axis=0)]


def autograd(params: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The same gradients from gdlab's reverse mode."""
    ts = [gdlab.tensor(p, requires_grad=True) for p in params]
    w1, b1, w2, b2 = ts
    y_hat = ((gdlab.tensor(X) @ w1 + b1).sigmoid() @ w2 + b2).sigmoid()
    (((y_hat - gdlab.tensor(Y)) ** 2).sum() * 0.5).backward()
    return [np.asarray(t.grad) for t in ts]


def finite_differences(params: Sequence[np.ndarray], eps: float = 1e-6) -> list[np.ndarray]:
    """Central differences (L(θ + ε) − L(θ − ε)) / 2ε, one coordinate at a time."""
    grads = []
    for k, p in enumerate(params):
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            shifted = [q.copy() for q in params]
            shifted[k][i] = p[i] + eps
            up = loss(shifted)
            shifted[k][i] = p[i] - eps
            g[i] = (up - loss(shifted)) / (2 * eps)
        grads.append(g)
    return grads


def compare(seed: int = 0) -> dict[str, tuple[float, float]]:
    """Per parameter: (max |hand − backward()|, max |hand − finite differences|)."""
    params = init_params(seed)
    hand, auto, numeric = backprop(params), autograd(params), finite_differences(params)
    return {
        name: (float(np.abs(h - a).max()), float(np.abs(h - n).max()))
        for name, h, a, n in zip(NAMES, hand, auto, numeric, strict=True)
    }


def main(argv: Sequence[str] | None = None) -> dict[str, tuple[float, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    result = compare(args.seed)
    print(f"{'param':6} {'vs backward()':>14} {'vs finite diff':>15}")
    for name, (auto, numeric) in result.items():
        print(f"{name:6} {auto:14.2e} {numeric:15.2e}")
    return result


if __name__ == "__main__":
    main()
