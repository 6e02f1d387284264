"""Article 002: batch, mini-batch and stochastic gradient descent on the same problem.

x ~ U(0, 1) of shape (100, 8), y ~ U(0, 5) of shape (100, 1); the model
Linear(8, 1) -> Sigmoid -> Linear(1, 1) in float64, MSE loss, SGD with lr = 1e-3, 100 steps.
The three runs differ only in the batch the gradient comes from (``DataLoader(batch_size=...)``):

    BGD   batch_size=None  one step per epoch, all 100 samples: smooth, monotone loss
    MBGD  batch_size=20    five steps per epoch: jagged
    SGD   batch_size=1     a hundred steps per epoch: very noisy

Every run starts from the same weights (``gdlab.manual_seed``). The script prints the loss
every ``--every`` steps and, with ``--plot loss.png``, draws the three curves together.

Run: ``python examples/article_002_batch_modes.py [--steps 100] [--lr 1e-3] [--plot loss.png]``
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import gdlab
from gdlab import datasets, nn, optim, train
from gdlab.data import DataLoader, TensorDataset

MODES = {"BGD": None, "MBGD": 20, "SGD": 1}


def run(batch_size: int | None, steps: int, lr: float, seed: int) -> list[float]:
    """Train the article's model with one batch size; return the per-step losses."""
    data = datasets.load("article_uniform", seed=seed)
    gdlab.manual_seed(seed)  # the same initial weights for every mode
    model = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid(), nn.Linear(1, 1)).double()
    loader = DataLoader(TensorDataset(data.X_train, data.y_train), batch_size=batch_size)
    history = train.fit(
        model,
        nn.MSELoss(),
        optim.SGD(model.parameters(), lr=lr),
        loader,
        epochs=steps,
        max_steps=steps,
    )
    return history.steps["loss"]


def plot(curves: dict[str, list[float]], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for name, losses in curves.items():
        ax.plot(range(1, len(losses) + 1), losses, label=f"{name} (batch {MODES[name] or 100})")
    ax.set(xlabel="step", ylabel="MSE loss", title="Article 002: BGD vs MBGD vs SGD")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)


def main(argv: Sequence[str] | None = None) -> dict[str, list[float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every", type=int, default=10, help="print every N steps (0: never)")
    parser.add_argument("--plot", default=None, help="save the three loss curves to this file")
    args = parser.parse_args(argv)
    if args.steps <= 0:
        parser.error(f"--steps must be positive, got {args.steps}")
    curves = {name: run(b, args.steps, args.lr, args.seed) for name, b in MODES.items()}
    if args.every:
        print("step " + "".join(f"{name:>12}" for name in curves))
        for i in range(0, args.steps, args.every):
            print(f"{i + 1:4d} " + "".join(f"{c[i]:12.4f}" for c in curves.values()))
    if args.plot:
        plot(curves, args.plot)
    return curves


if __name__ == "__main__":
    main()
