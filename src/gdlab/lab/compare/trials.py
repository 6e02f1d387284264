"""``compare``'s unit of work: train one variant at one learning rate from one seed.

A trial is a :class:`~gdlab.lab.sweeps.TrialSpec` naming :func:`train_trial` with the
comparison's settings, so any executor (serial, processes, Dask, Ray) can run it and its
result, a :class:`~gdlab.lab.compare.protocol.Run` as JSON, is the same wherever it ran.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
from pathlib import Path
from typing import Any

from gdlab.lab.compare.config import CompareConfig
from gdlab.lab.compare.run import Variant, make_variants, train_run
from gdlab.lab.optimizers import get_optimizer_spec, tunes_lr
from gdlab.lab.sweeps import TrialSpec
from gdlab.lab.tasks import Task, batch_size_for, load_task

__all__ = [
    "evaluations_per_step",
    "expected_cost",
    "spec_cost",
    "task_of",
    "trial_cost",
    "trial_spec",
    "train_trial",
]


@functools.lru_cache(maxsize=8)
def _task(
    name: str, seed: int, val_fraction: float, target_column: str | None, csv_header: str
) -> Task:
    return load_task(
        name, seed=seed, val_fraction=val_fraction, standardize_target=True,
        target_column=target_column, csv_header=csv_header,
    )  # fmt: skip


def task_of(config: CompareConfig, dataset: str) -> Task:
    """The data set ``dataset`` as the comparison's trials see it (loaded once per process)."""
    c = config
    return _task(dataset, c.seed, c.val_fraction, c.target_column, c.csv_header)


def trial_spec(
    config: CompareConfig, dataset: str, variant: Variant, lr: float, epochs: int, seed: int
) -> TrialSpec:
    """The trial that trains ``variant`` on ``dataset`` at ``lr`` for ``epochs`` from ``seed``."""
    params = {
        "config": config.experiment(),
        "dataset": dataset,
        "variant": dataclasses.asdict(variant),
        "lr": float(lr),
        "epochs": int(epochs),
    }
    label = f"{dataset}-{variant.optimizer}-{variant.batch_mode}-lr{lr:.3g}-e{epochs}-s{seed}"
    if config.tensorboard:  # one TensorBoard run per trial, side by side in one directory
        params["tensorboard"] = str(Path(config.tensorboard).resolve() / label)
    return TrialSpec("gdlab.lab.compare.trials:train_trial", params, seed=seed, label=label)


def train_trial(
    config: dict[str, Any],
    dataset: str,
    variant: dict[str, str],
    lr: float,
    epochs: int,
    seed: int,
    tensorboard: str | None = None,
) -> dict[str, Any]:
    """Run one trial in this process; the result is the run as JSON-ready data. With
    ``tensorboard`` (a directory) its scalars are logged there too."""
    cfg = CompareConfig(**config)
    task = task_of(cfg, dataset)
    run = train_run(task, Variant(**variant), lr, seed, epochs, cfg, tensorboard=tensorboard)
    return run.to_json()


#: A step's fixed cost (the graph, the optimizer's loop) in units of one sample's forward and
#: backward pass through compare's default MLP: measured on digits, a batch-1 step costs
#: ~1.5 ms and a full-batch step ~0.15 ms per sample. Only ratios matter (the bar's ETA).
STEP_COST_IN_SAMPLES = 8.0


def evaluations_per_step(optimizer: str) -> int:
    """The forward-backward passes one step of ``optimizer`` may take: 1, or for an optimizer
    that calls its closure repeatedly (``requires_closure``: L-BFGS) its evaluation budget
    ``max_eval`` (torch's default: max_iter · 5/4 = 25), so that it weighs what it costs."""
    spec = get_optimizer_spec(optimizer)
    if not getattr(spec.cls, "requires_closure", False):
        return 1
    params = inspect.signature(spec.cls).parameters
    settings = {k: p.default for k, p in params.items() if p.default is not p.empty}
    settings |= spec.defaults
    max_eval = settings.get("max_eval")
    if max_eval is None and "max_iter" in settings:
        max_eval = settings["max_iter"] * 5 // 4
    return int(max_eval or 1)


def trial_cost(
    config: CompareConfig, dataset: str, optimizer: str, batch_mode: str, epochs: int
) -> float:
    """The expected cost of one trial, in samples: epochs × evaluations per step × (steps per
    epoch × the step's fixed cost + the training samples). Batch 1 (sgd) weighs ~9x the full
    batch on digits, as measured; a longer final run weighs more than a tuning trial, and
    L-BFGS ~25x a first-order optimizer."""
    n = len(task_of(config, dataset).x_train)
    batch = batch_size_for(batch_mode, config.batch_size) or n
    per_epoch = math.ceil(n / batch) * STEP_COST_IN_SAMPLES + n
    return float(epochs) * evaluations_per_step(optimizer) * per_epoch


def spec_cost(spec: TrialSpec) -> float:
    """:func:`trial_cost` of a spec made by :func:`trial_spec`."""
    p = spec.params
    config, variant = CompareConfig(**p["config"]), p["variant"]
    return trial_cost(config, p["dataset"], variant["optimizer"], variant["batch_mode"],
                      p["epochs"])  # fmt: skip


def expected_cost(config: CompareConfig) -> float:
    """The sum of :func:`trial_cost` over every trial of a comparison: the tuning trials
    (unless ``config.lr`` is fixed, or the optimizer has no lr to tune: L-BFGS) and the final
    runs, each (optimizer, batch mode) once."""
    variants = make_variants(
        config.optimizers, config.batch_modes, config.batch_optimizer, config.batch_size
    )
    pairs = {(v.optimizer, v.batch_mode) for v in variants}
    total = 0.0
    for dataset in config.datasets:
        for optimizer, mode in pairs:
            tuning = 0 if config.lr or not tunes_lr(optimizer) else config.trials
            tune = trial_cost(config, dataset, optimizer, mode, config.tune_epochs)
            final = trial_cost(config, dataset, optimizer, mode, config.epochs)
            total += tuning * tune + config.seeds * final
    return total
