"""Time to 97% test accuracy on digits: gdlab vs PyTorch vs scikit-learn's MLPClassifier.

The same problem for all: scikit-learn's 8x8 digits scaled to [0, 1], float32, a fixed
stratified 75/25 split; MLP 64-100-10 with ReLU (MLPClassifier's default architecture),
softmax cross-entropy, mini-batches of 32 reshuffled every epoch, no weight decay
(``alpha=0``); Adam(lr=1e-3) or SGD(lr=0.01, momentum=0.9, nesterov=True), which is
scikit-learn's SGD formulation. Only training epochs are timed; test accuracy is checked
after each epoch outside the clock. gdlab and torch start from the same weights
(torch's default init); scikit-learn uses its own (Glorot) init. Median over seeds.

Run alone: ``python -m benchmarks.digits_time_to_accuracy [--smoke]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from benchmarks import models
from benchmarks.harness import row, thread_limit

HIDDEN = 100
BATCH = 32
GOAL = 0.97
MAX_EPOCHS = 100
SETTINGS = {
    "adam": {"lr": 1e-3},
    "sgd": {"lr": 0.01, "momentum": 0.9, "nesterov": True},
}


def load(seed: int = 0) -> tuple[np.ndarray, ...]:
    """Digits in [0, 1] as float32, split 75/25 stratified."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    return tuple(train_test_split(x, y, test_size=0.25, stratify=y, random_state=seed))


# A trainer: (data, solver, seed) -> (epoch function, accuracy function).
Trainer = Callable[[tuple, str, int], tuple[Callable[[], None], Callable[[], float]]]


def _framework_trainer(name: str) -> Trainer:
    def make(data: tuple, solver: str, seed: int) -> tuple:
        fw = models.framework(name)
        xtr, xte, ytr, yte = data
        sizes = (xtr.shape[1], HIDDEN, 10)
        model = models.build_mlp(fw, sizes, models.init_params(sizes, seed))
        opt_class = fw.optim.Adam if solver == "adam" else fw.optim.SGD
        opt = opt_class(model.parameters(), **SETTINGS[solver])
        rng = np.random.default_rng(seed)
        xte_t = fw.from_numpy(xte)

        def epoch() -> None:
            perm = rng.permutation(len(xtr))
            for i in range(0, len(perm), BATCH):
                idx = perm[i : i + BATCH]
                models.train_step(fw, model, opt, fw.from_numpy(xtr[idx]), fw.from_numpy(ytr[idx]))

        def accuracy() -> float:
            with fw.no_grad():
                pred = np.asarray(model(xte_t).argmax(1))
            return float(np.mean(pred == yte))

        return epoch, accuracy

    return make


def _sklearn_trainer(data: tuple, solver: str, seed: int) -> tuple:
    from sklearn.neural_network import MLPClassifier

    xtr, xte, ytr, yte = data
    s = SETTINGS[solver]
    extra = (
        {"momentum": s["momentum"], "nesterovs_momentum": s["nesterov"]} if solver == "sgd" else {}
    )
    clf = MLPClassifier(
        hidden_layer_sizes=(HIDDEN,),
        solver=solver,
        alpha=0.0,
        batch_size=BATCH,
        learning_rate_init=s["lr"],
        shuffle=True,
        random_state=seed,
        **extra,
    )
    classes = np.unique(ytr)

    def epoch() -> None:
        clf.partial_fit(xtr, ytr, classes=classes)

    return epoch, lambda: float(clf.score(xte, yte))


def time_to_accuracy(make: Trainer, data: tuple, solver: str, seed: int, max_epochs: int) -> dict:
    """Seconds of training until test accuracy >= GOAL (None if never), epochs, final accuracy."""
    epoch, accuracy = make(data, solver, seed)
    spent, acc = 0.0, 0.0
    for n in range(1, max_epochs + 1):
        t0 = time.perf_counter()
        epoch()
        spent += time.perf_counter() - t0
        acc = accuracy()
        if acc >= GOAL:
            return {"seconds": spent, "epochs": n, "accuracy": acc}
    return {"seconds": None, "epochs": max_epochs, "accuracy": acc, "spent": spent}


def _median(results: list[dict]) -> float | None:
    times = [r["seconds"] for r in results]
    return None if not times or None in times else float(np.median(times))


def _describe(name: str, results: list[dict]) -> str:
    if not results:
        return ""
    epochs = int(np.median([r["epochs"] for r in results]))
    reached = sum(r["seconds"] is not None for r in results)
    return f"{name}: {epochs} epochs, {reached}/{len(results)} seeds reached {GOAL:.0%}"


def run(threads: int = 1, smoke: bool = False) -> list[dict]:
    """Rows per solver: gdlab vs torch (target 0.5), gdlab vs sklearn (target 1.0)."""
    data = load()
    seeds = (0,) if smoke else (0, 1, 2)
    max_epochs = 1 if smoke else MAX_EPOCHS
    trainers: dict[str, Trainer] = {
        "torch": _framework_trainer("torch"),
        "sklearn": _sklearn_trainer,
    }
    missing = models.gdlab_nn_missing()
    if missing is None:
        trainers["gdlab"] = _framework_trainer("gdlab")
    rows = []
    for solver in SETTINGS:
        results: dict[str, list[dict]] = {name: [] for name in trainers}
        for k, seed in enumerate(seeds):
            names = list(trainers)
            for name in names[k % len(names) :] + names[: k % len(names)]:  # interleave
                results[name].append(
                    time_to_accuracy(trainers[name], data, solver, seed, max_epochs)
                )
        notes = "; ".join(_describe(name, rs) for name, rs in results.items())
        if smoke:  # one epoch: time it instead of the (unreached) goal
            for rs in results.values():
                for r in rs:
                    r["seconds"] = r["seconds"] or r["spent"]
        med = {name: _median(rs) for name, rs in results.items()}
        notes = notes if missing is None else f"{missing}; {notes}"
        label = f"digits to {GOAL:.0%} ({solver})"
        rows.append(row(label, med.get("gdlab"), "torch", med["torch"], notes, target=0.5))
        rows.append(row(label, med.get("gdlab"), "sklearn", med["sklearn"], notes, target=1.0))
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
