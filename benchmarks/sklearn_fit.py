"""``gdlab.sklearn.MLPClassifier.fit`` vs scikit-learn's ``MLPClassifier.fit``, same settings.

Digits (1,797 × 64, standardised, float64 as scikit-learn trains on it), one hidden layer of
128 ReLU units, batch 64, ``random_state=0``, a fixed number of epochs for both (``tol=0`` and
``n_iter_no_change`` out of reach, so neither stops early and both do the same work; they
start from the same weights and shuffle alike). Solvers: Adam (issue 20's setting) and SGD
with Nesterov momentum. Whole ``fit`` calls, timed interleaved, medians.

Run alone: ``python -m benchmarks.sklearn_fit [--smoke] [--threads N]``.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from benchmarks.harness import compare, row, thread_limit

HIDDEN = 128
BATCH = 64
EPOCHS = 20
SOLVERS = {"adam": {"learning_rate_init": 1e-3}, "sgd": {"learning_rate_init": 0.01}}


def load() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    x, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(x), y


def _fit(cls: type, x: np.ndarray, y: np.ndarray, solver: str, epochs: int) -> None:
    clf = cls(
        hidden_layer_sizes=(HIDDEN,),
        solver=solver,
        batch_size=BATCH,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=10**9,
        random_state=0,
        **SOLVERS[solver],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter is the point here
        clf.fit(x, y)


def run(threads: int = 1, smoke: bool = False) -> list[dict]:
    """One row per solver: gdlab's estimator vs scikit-learn's (target 0.8, issue 20)."""
    from sklearn.neural_network import MLPClassifier as SklearnMLP

    from gdlab.sklearn import MLPClassifier

    x, y = load()
    epochs = 1 if smoke else EPOCHS
    rows = []
    for solver in SOLVERS:
        stats = compare(
            {
                "gdlab": lambda s=solver: _fit(MLPClassifier, x, y, s, epochs),
                "sklearn": lambda s=solver: _fit(SklearnMLP, x, y, s, epochs),
            },
            repeats=2 if smoke else 9,
            min_time=0.0,
            warmup=1,
        )
        label = f"MLPClassifier.fit digits 64-{HIDDEN}-10 ({solver}, batch {BATCH}, {epochs} ep)"
        notes = "whole fit calls, same init and shuffles, float64 (scikit-learn's dtype)"
        rows.append(row(label, stats["gdlab"], "sklearn", stats["sklearn"], notes, target=0.8))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    with thread_limit(args.threads):
        for r in run(args.threads, args.smoke):
            print(r)


if __name__ == "__main__":
    main()
