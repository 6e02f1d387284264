"""``compare``'s unit of work: train one variant at one learning rate from one seed.

A trial is a :class:`~gdlab.lab.sweeps.TrialSpec` naming :func:`train_trial` with the
comparison's settings, so any executor (serial, processes, Dask, Ray) can run it and its
result, a :class:`~gdlab.lab.compare.protocol.Run` as JSON, is the same wherever it ran.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from gdlab.lab.compare.config import CompareConfig
from gdlab.lab.compare.run import Variant, train_run
from gdlab.lab.sweeps import TrialSpec
from gdlab.lab.tasks import Task, load_task

__all__ = ["task_of", "trial_spec", "train_trial"]


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
    return TrialSpec("gdlab.lab.compare.trials:train_trial", params, seed=seed, label=label)


def train_trial(
    config: dict[str, Any],
    dataset: str,
    variant: dict[str, str],
    lr: float,
    epochs: int,
    seed: int,
) -> dict[str, Any]:
    """Run one trial in this process; the result is the run as JSON-ready data."""
    cfg = CompareConfig(**config)
    task = task_of(cfg, dataset)
    run = train_run(task, Variant(**variant), lr, seed, epochs, cfg)
    return run.to_json()
