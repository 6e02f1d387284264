"""MAML on toy sine regression: learn an initialisation that one gradient step adapts to a
new sine wave.

Each task is y = A·sin(x − φ), A ∈ [0.1, 5], φ ∈ [0, π], x ∈ [−5, 5] (Finn et al. 2017,
§5.1). For a batch of tasks, with K support and K query points each::

    inner:  θ'_T = θ − α·∇_θ L_T^support(θ)           (create_graph=True: θ' stays a function of θ)
    outer:  θ ← Adam step on  mean_T L_T^query(θ'_T)

The outer gradient differentiates through the inner gradient step, so it contains the
Hessian of the support loss (second-order MAML; "first-order MAML" drops it).

Reference: Finn, Abbeel & Levine, "Model-Agnostic Meta-Learning for Fast Adaptation of
Deep Networks", ICML 2017, arXiv:1703.03400.

Run: ``python examples/maml_sine.py [--meta-steps 300] [--tasks 5] [--k 10] [--seed 0]``
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

import gdlab
from gdlab.autograd import grad
from gdlab.nn import Parameter
from gdlab.optim import Adam


class Task(NamedTuple):
    """One sine wave's support and query points, each (K, 1)."""

    x_support: np.ndarray
    y_support: np.ndarray
    x_query: np.ndarray
    y_query: np.ndarray


def sample_tasks(rng: np.random.Generator, n_tasks: int, k: int) -> list[Task]:
    tasks = []
    for _ in range(n_tasks):
        amplitude, phase = rng.uniform(0.1, 5.0), rng.uniform(0.0, np.pi)
        x = rng.uniform(-5.0, 5.0, (2 * k, 1))
        y = amplitude * np.sin(x - phase)
        tasks.append(Task(x[:k], y[:k], x[k:], y[k:]))
    return tasks


def init_params(seed: int, hidden: int = 40) -> list[Parameter]:
    """1 → hidden → hidden → 1, torch's Linear layout (weight (out, in), bias (out,))."""
    rng = np.random.default_rng(seed)
    sizes = [(1, hidden), (hidden, hidden), (hidden, 1)]
    params = []
    for fan_in, fan_out in sizes:
        bound = 1 / np.sqrt(fan_in)
        params.append(Parameter(rng.uniform(-bound, bound, (fan_out, fan_in))))
        params.append(Parameter(rng.uniform(-bound, bound, (fan_out,))))
    return params


def forward(params: Sequence[gdlab.Tensor], x: gdlab.Tensor) -> gdlab.Tensor:
    w1, b1, w2, b2, w3, b3 = params
    h = gdlab.tanh(x @ w1.T + b1)
    h = gdlab.tanh(h @ w2.T + b2)
    return h @ w3.T + b3


def mse(params: Sequence[gdlab.Tensor], x: np.ndarray, y: np.ndarray) -> gdlab.Tensor:
    return ((forward(params, gdlab.tensor(x)) - gdlab.tensor(y)) ** 2).mean()


def adapt(
    params: Sequence[gdlab.Tensor], task: Task, inner_lr: float, create_graph: bool = True
) -> list[gdlab.Tensor]:
    """θ' = θ − α·∇L^support(θ), still a function of θ when ``create_graph``."""
    gs = grad(mse(params, task.x_support, task.y_support), list(params),
              create_graph=create_graph)  # fmt: skip
    return [p - inner_lr * g for p, g in zip(params, gs, strict=True)]


def meta_loss(params: Sequence[gdlab.Tensor], tasks: Sequence[Task], inner_lr: float):
    """mean over tasks of the query loss after one inner step."""
    losses = [mse(adapt(params, t, inner_lr), t.x_query, t.y_query) for t in tasks]
    return sum(losses[1:], losses[0]) / len(losses)


def train(meta_steps: int, n_tasks: int, k: int, inner_lr: float, outer_lr: float, seed: int,
          every: int = 0) -> dict[str, list]:  # fmt: skip
    """Meta-training; returns the meta-losses and the final parameters."""
    rng = np.random.default_rng(seed)
    params = init_params(seed)
    opt = Adam(params, lr=outer_lr)
    history: dict[str, list] = {"meta_loss": []}
    for step in range(meta_steps):
        opt.zero_grad()
        loss = meta_loss(params, sample_tasks(rng, n_tasks, k), inner_lr)
        loss.backward()
        opt.step()
        history["meta_loss"].append(loss.item())
        if every and (step % every == 0 or step == meta_steps - 1):
            print(f"meta-step {step:4d}  query loss after one step {loss.item():.4f}")
    history["params"] = [p.detach().numpy().copy() for p in params]
    return history


def main(argv: Sequence[str] | None = None) -> dict[str, list]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meta-steps", type=int, default=300)
    parser.add_argument("--tasks", type=int, default=5, help="tasks per meta-batch")
    parser.add_argument("--k", type=int, default=10, help="support (and query) points per task")
    parser.add_argument("--inner-lr", type=float, default=0.01)
    parser.add_argument("--outer-lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every", type=int, default=50, help="print every N steps (0: never)")
    args = parser.parse_args(argv)
    if args.meta_steps <= 0:
        parser.error(f"--meta-steps must be positive, got {args.meta_steps}")
    return train(args.meta_steps, args.tasks, args.k, args.inner_lr, args.outer_lr, args.seed,
                 args.every)  # fmt: skip


if __name__ == "__main__":
    main()
