"""Small test problems shared by the optimizer tests: values and analytic gradients in NumPy."""

from __future__ import annotations

import numpy as np

SHAPES = [(3, 4), (4,), (5,), (0,)]  # a matrix, two vectors and a zero-size parameter


def initial_values(seed: int = 0, shapes=SHAPES) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.5, 1.5, size=s) for s in shapes]


def loss_and_grads(values: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
    """A non-convex sum: a chained Rosenbrock plus a tanh coupling, on the flattened values."""
    x = np.concatenate([v.reshape(-1) for v in values])
    a, b = x[:-1], x[1:]
    t = np.tanh(x)
    f = np.sum((1 - a) ** 2 + 10.0 * (b - a**2) ** 2) / x.size + 0.3 * np.sum(t * np.roll(t, 1))
    g = np.zeros_like(x)
    g[:-1] += (-2 * (1 - a) - 40.0 * a * (b - a**2)) / x.size
    g[1:] += 20.0 * (b - a**2) / x.size
    dt = 1 - t**2
    g += 0.3 * dt * (np.roll(t, 1) + np.roll(t, -1))
    out, offset = [], 0
    for v in values:
        out.append(g[offset : offset + v.size].reshape(v.shape))
        offset += v.size
    return float(f), out
