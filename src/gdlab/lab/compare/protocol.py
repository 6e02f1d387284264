"""Compare optimizers and batch modes fairly: same model, same data, same tuning budget.

The protocol (``compare``):

1. Every *variant* (an optimizer at a batch mode: ``adam`` at mini-batch, plain SGD at the full
   batch, ...) gets the same budget of ``trials`` learning rates by the lab's one search
   protocol (``gdlab.lab.search``): a log-spaced grid over its family's documented range
   ``LR_RANGES`` (adaptive methods are searched lower than SGD, whose useful lrs are ~100x
   larger). Each trial trains ``tune_epochs`` epochs from the first seed and is scored by its
   final **validation** loss; a diverged trial scores +inf; ties go to the smaller lr.
2. At its best lr each variant is trained ``epochs`` epochs from ``seeds`` seeds (the seed
   fixes the initial weights and the shuffling; the data split is fixed by ``seed``).
3. Results: training and validation loss and accuracy at epoch 0 (the untrained model, step 0,
   0 samples, 0 s: the same point for every optimizer of a seed) and after every epoch, against
   epochs, samples seen and wall time (median over seeds with the 25-75% band); a table of
   final numbers, steps / samples / seconds to reach a validation-accuracy ``target`` (0 if
   the untrained model already reaches it), and divergences. A diverged run is kept and
   marked, never a crash.
4. With several data sets (tasks), Dolan-Moré performance profiles of samples-to-target.

Example:
    >>> res = compare("digits", optimizers=["sgd", "adam"], batch_modes=[], epochs=5)
    >>> [(v.label, v.lr) for v in res.variants]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gdlab import train
from gdlab.lab.compare.config import CompareConfig
from gdlab.lab.optimizers import DEFAULT_OPTIMIZERS, make_optimizer
from gdlab.lab.search import best_lr, lr_grid, trial_score
from gdlab.lab.tasks import (
    BATCH_MODES,
    Task,
    batch_size_for,
    build_mlp,
    evaluate,
    load_task,
    make_loader,
)

__all__ = ["CompareResult", "Run", "Variant", "compare", "make_variants", "run_compare"]

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Variant:
    """An optimizer at a batch mode; ``label`` names it in tables and legends."""

    label: str
    optimizer: str
    batch_mode: str  # "bgd" | "sgd" | "mbgd"
    group: str  # "optimizers" or "batch modes": which figure it belongs to


def make_variants(
    optimizers: Sequence[str], batch_modes: Sequence[str], batch_optimizer: str, batch_size: int
) -> list[Variant]:
    """The optimizers at mini-batch size, then ``batch_optimizer`` at each batch mode."""
    out = [Variant(o, o, "mbgd", "optimizers") for o in optimizers]
    names = {
        "bgd": "BGD (full batch)",
        "sgd": "SGD (batch 1)",
        "mbgd": f"MBGD (batch {batch_size})",
    }
    out += [Variant(names[m], batch_optimizer, m, "batch modes") for m in batch_modes]
    return out


@dataclass
class Run:
    """One training run: per-epoch records, per-step losses, and how it ended."""

    variant: Variant
    dataset: str
    lr: float
    seed: int
    # epoch (0 = before training), step, samples_seen, train/val loss and metric
    epochs: dict[str, list[Any]]
    wall_time: list[float]  # seconds at the end of each epoch (0.0 at epoch 0)
    step_loss: list[float] = field(default_factory=list)
    step_samples: list[int] = field(default_factory=list)
    test_metric: float = float("nan")
    diverged: bool = False
    diverged_at: int | None = None  # optimizer step at which it diverged

    def final(self, key: str) -> float:
        col = self.epochs.get(key) or [float("nan")]
        v = col[-1]
        return float("nan") if v is None else float(v)

    def to_target(self, metric: str, target: float) -> tuple[float, float, float]:
        """(steps, samples, seconds) at the first epoch whose validation metric >= target."""
        for i, v in enumerate(self.epochs.get(f"val_{metric}", [])):
            if v is not None and v >= target:
                e = self.epochs
                return float(e["step"][i]), float(e["samples_seen"][i]), self.wall_time[i]
        return float("inf"), float("inf"), float("inf")


@dataclass
class CompareResult:
    """Everything ``compare`` measured; ``runs`` holds every final run of every variant."""

    datasets: list[str]
    variants: list[Variant]
    config: CompareConfig
    tuning: list[dict[str, Any]] = field(default_factory=list)
    best_lr: dict[tuple[str, str], float] = field(default_factory=dict)  # (dataset, label)
    runs: list[Run] = field(default_factory=list)
    interrupted: bool = False

    @property
    def settings(self) -> dict[str, Any]:
        """The settings as ``config.toml`` and the report show them."""
        return self.config.settings()

    def runs_of(self, dataset: str, label: str) -> list[Run]:
        return [r for r in self.runs if r.dataset == dataset and r.variant.label == label]


def _train(task: Task, v: Variant, lr: float, seed: int, epochs: int, config: CompareConfig) -> Run:
    """Train one variant at one lr from one seed; divergence ends the run, marked."""
    model = build_mlp(
        task.n_features, config.hidden, task.n_outputs, activation=config.activation, seed=seed
    )
    optimizer, _, _ = make_optimizer(v.optimizer, list(model.parameters()), lr=lr)
    bs = batch_size_for(v.batch_mode, config.batch_size)
    loader = make_loader(task.x_train, task.y_train, bs, seed=seed)
    val_loader = make_loader(task.x_val, task.y_val, None, shuffle=False)
    loss_fn = task.loss()
    trainer = train.Trainer(
        model, loss_fn, optimizer, loader, val_loader=val_loader, metrics=[task.metric]
    )
    # Epoch 0: the untrained model on the whole training set and on the validation set.
    train_eval = make_loader(task.x_train, task.y_train, None, shuffle=False)
    initial = {
        "train": trainer.evaluate(train_eval, [task.metric]),
        "val": trainer.evaluate(val_loader, [task.metric]),
    }
    diverged_at = None
    try:
        trainer.fit(epochs)
    except train.DivergenceError as exc:  # a result, not a crash: keep the epochs before it
        diverged_at = int(exc.step)
    history = trainer.history
    run = _run_from_history(task, v, lr, seed, history, diverged_at, model, loss_fn)
    return _with_epoch_zero(run, initial, task.metric)


def _with_epoch_zero(run: Run, initial: dict[str, dict[str, float]], m: str) -> Run:
    """Prepend epoch 0 (step 0, 0 samples, 0 s): the untrained model's evaluation. Its
    training loss is over the whole training set; later epochs' is the mean of their steps'."""
    zero = {
        "epoch": 0,
        "step": 0,
        "samples_seen": 0,
        "train_loss": initial["train"]["loss"],
        f"train_{m}": initial["train"][m],
        "val_loss": initial["val"]["loss"],
        f"val_{m}": initial["val"][m],
    }
    run.epochs = {k: [zero[k], *col] for k, col in run.epochs.items()}
    run.wall_time = [0.0, *run.wall_time]
    return run


def _run_from_history(
    task: Task,
    v: Variant,
    lr: float,
    seed: int,
    history: Any,
    diverged_at: int | None,
    model: Any,
    loss_fn: Any,
) -> Run:
    m = task.metric
    ep = history.epochs if history is not None else {}
    st = history.steps if history is not None else {}
    n = len(ep.get("epoch", []))
    # The last step of each epoch gives its step count, samples seen and wall time.
    step_epoch = np.array([-1 if e is None else e for e in st.get("epoch", [])], dtype=float)
    last = [int(np.searchsorted(step_epoch, e, side="right")) - 1 for e in ep.get("epoch", [])]
    steps_at_epoch = [st["step"][i] if i >= 0 else 0 for i in last]
    samples_at_epoch = [st["samples_seen"][i] if i >= 0 else 0 for i in last]
    time_at_epoch = [st["wall_time"][i] if i >= 0 else 0.0 for i in last]
    epochs = {
        "epoch": [int(e) + 1 for e in ep.get("epoch", [])],  # epochs completed
        "step": steps_at_epoch,
        "samples_seen": samples_at_epoch,
        "train_loss": list(ep.get("loss", [None] * n)),
        f"train_{m}": list(ep.get(m, [None] * n)),
        "val_loss": list(ep.get("val_loss", [None] * n)),
        f"val_{m}": list(ep.get(f"val_{m}", [None] * n)),
    }
    run = Run(
        v,
        task.name,
        float(lr),
        seed,
        epochs,
        [float(t) for t in time_at_epoch],
        [float(x) for x in st.get("loss", [])],
        [int(x) for x in st.get("samples_seen", [])],
    )
    if diverged_at is not None:
        run.diverged, run.diverged_at = True, diverged_at
    elif task.x_test is not None:
        run.test_metric = evaluate(model, loss_fn, task.x_test, task.y_test, task)[1]
    return run


def _tune(
    task: Task, v: Variant, config: CompareConfig, result: CompareResult, progress: Progress | None
) -> float:
    """The variant's best lr of ``config.trials`` by final validation loss (``lab.search``)."""
    scores = {}
    for lr in lr_grid(v.optimizer, config.trials, v.batch_mode):
        if progress:
            progress(f"tune {task.name} {v.label} lr={lr:.3g}")
        run = _train(task, v, float(lr), config.seed, config.tune_epochs, config)
        score = trial_score(run.final("val_loss"), run.diverged)
        result.tuning.append(
            {
                "dataset": task.name,
                "variant": v.label,
                "lr": float(lr),
                "val_loss": score,
                "diverged": run.diverged,
            }
        )
        scores[float(lr)] = (score,)
    return best_lr(scores)


def compare(
    datasets: str | Sequence[str] = "digits",
    *,
    optimizers: Sequence[str] = tuple(DEFAULT_OPTIMIZERS),
    batch_modes: Sequence[str] = tuple(BATCH_MODES),
    batch_optimizer: str = "sgd",
    hidden: Sequence[int] = (32,),
    activation: str = "relu",
    batch_size: int = 32,
    epochs: int = 15,
    trials: int = 5,
    tune_epochs: int = 3,
    seeds: int = 3,
    lr: float | None = None,
    target: float = 0.95,
    val_fraction: float = 0.2,
    seed: int = 0,
    progress: Progress | None = None,
) -> CompareResult:
    """Tune every variant with the same budget, then train it from ``seeds`` seeds.

    The arguments are ``CompareConfig``'s fields (``datasets`` may be one name);
    ``run_compare(config)`` is the same with the config built.

    On Ctrl-C the runs finished so far are returned with ``interrupted=True`` instead of
    raising; ``gdlab compare`` writes them and then exits with code 130.

    Example:
        >>> res = compare("iris", optimizers=["sgd", "adam"], batch_modes=[], epochs=5, seeds=2)
        >>> {v.label: res.best_lr[("iris", v.label)] for v in res.variants}
    """
    config = CompareConfig(
        datasets=[datasets] if isinstance(datasets, str) else list(datasets),
        optimizers=list(optimizers),
        batch_modes=list(batch_modes),
        batch_optimizer=batch_optimizer,
        hidden=list(hidden),
        activation=activation,
        batch_size=batch_size,
        epochs=epochs,
        trials=trials,
        tune_epochs=tune_epochs,
        seeds=seeds,
        lr=lr,
        target=target,
        val_fraction=val_fraction,
        seed=seed,
    )
    return run_compare(config, progress)


def run_compare(config: CompareConfig, progress: Progress | None = None) -> CompareResult:
    """``compare`` with its settings as a ``CompareConfig`` (what ``gdlab compare`` calls)."""
    variants = make_variants(
        config.optimizers, config.batch_modes, config.batch_optimizer, config.batch_size
    )
    result = CompareResult(list(config.datasets), variants, config)
    try:
        _compare_all(result, config, progress)
    except KeyboardInterrupt:
        result.interrupted = True
    return result


def _compare_all(result: CompareResult, config: CompareConfig, progress: Progress | None) -> None:
    for name in config.datasets:
        task = load_task(name, seed=config.seed, val_fraction=config.val_fraction)
        cache: dict[tuple[str, str], tuple[float, list[Run]]] = {}
        for v in result.variants:
            key = (v.optimizer, v.batch_mode)
            if key not in cache:
                best = config.lr or _tune(task, v, config, result, progress)
                runs = []
                for k in range(config.seeds):
                    if progress:
                        progress(f"train {name} {v.label} seed {config.seed + k}")
                    runs.append(_train(task, v, best, config.seed + k, config.epochs, config))
                cache[key] = (best, runs)
            best, runs = cache[key]
            result.best_lr[(name, v.label)] = best
            result.runs.extend(_relabel(r, v) for r in runs)


def _relabel(run: Run, v: Variant) -> Run:
    """The same run under another variant's label (``sgd`` at mini-batch is also "MBGD")."""
    return run if run.variant == v else dataclasses.replace(run, variant=v)
