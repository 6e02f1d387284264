"""Article 003: Adam on the six-sample linear regression, one sample per update.

x = [(1,1,1), (1,2,1), (2,2,1), (3,1,1), (1,3,1), (2,4,1)] (the last column is the bias),
y = [6, 8, 9, 8, 10, 13]; the model is y ≈ x·w (``nn.Linear(3, 1, bias=False)``, w = 0 at
the start), squared error (x·w − y)², Adam with lr = 0.01, β₁ = 0.9, β₂ = 0.999, ε = 1e-8::

    m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  w ← w − lr·m̂ / (√v̂ + ε)

with m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ). ``DataLoader(batch_size=1)`` without shuffling
gives the article's per-sample loop exactly (tests/train/test_fit.py checks it against a
hand-written NumPy loop). Prints the mean loss per epoch and the final weights.

Run: ``python examples/article_003_adam_six_samples.py [--epochs 1000] [--lr 0.01]``
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

import gdlab
from gdlab import datasets, nn, optim, train
from gdlab.data import DataLoader, TensorDataset


def run(epochs: int, lr: float) -> tuple[np.ndarray, train.History]:
    """Adam from w = 0, one sample per update; return the final weights and the history."""
    data = datasets.load("article_six_samples")
    model = nn.Linear(3, 1, bias=False).double()
    with gdlab.no_grad():
        model.weight.zero_()
    loader = DataLoader(TensorDataset(data.X_train, data.y_train), batch_size=1)
    history = train.fit(
        model, nn.MSELoss(), optim.Adam(model.parameters(), lr=lr), loader, epochs=epochs
    )
    return model.weight.data[0].copy(), history


def main(argv: Sequence[str] | None = None) -> tuple[np.ndarray, train.History]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--every", type=int, default=100, help="print every N epochs (0: never)")
    args = parser.parse_args(argv)
    if args.epochs <= 0:
        parser.error(f"--epochs must be positive, got {args.epochs}")
    w, history = run(args.epochs, args.lr)
    if args.every:
        for epoch, loss in zip(history.epochs["epoch"], history.epochs["loss"], strict=True):
            if epoch % args.every == 0 or epoch == args.epochs - 1:
                print(f"epoch {epoch:5d}  mean loss {loss:.6f}")
        data = datasets.load("article_six_samples")
        exact = np.linalg.lstsq(data.X_train, data.y_train, rcond=None)[0].ravel()
        print(f"w = {np.round(w, 4)} (least squares: {np.round(exact, 4)})")
    return w, history


if __name__ == "__main__":
    main()
