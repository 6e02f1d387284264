"""The settings of ``gdlab train``: one typed, nested config, read from TOML and ``--set``.

``TrainConfig()`` holds the defaults; ``resolve_train_config(path, overrides)`` layers the
user's TOML file and the ``--set section.key=value`` overrides on top (later wins, unknown keys
are a ``ConfigError`` listing the valid ones) and returns a ``TrainConfig``; ``to_dict()`` is
what ``config.toml`` holds, so ``gdlab train run/config.toml`` repeats a run.

The ``[optimizer]`` and ``[schedule]`` sections are open: keys besides ``name`` (and the
optimizer's ``lr``) are passed to the optimizer's constructor or the schedule function
(``optimizer.momentum = 0.9``, ``schedule.gamma = 0.5``).

Example:
    >>> cfg = resolve_train_config(overrides=["optimizer.name=adam", "train.epochs=3"])
    >>> cfg.optimizer.name, cfg.train.epochs, cfg.data.batch_size
    ('adam', 3, 32)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gdlab.lab.config import apply_overrides, load_toml, merge_config

__all__ = [
    "DataSettings",
    "LoopSettings",
    "ModelSettings",
    "OptimizerSettings",
    "ScheduleSettings",
    "TRAIN_DEFAULTS",
    "TrainConfig",
    "resolve_train_config",
]


@dataclass
class DataSettings:
    """``[data]``: the data set and its batches. ``batch_size`` 0 is the full batch (batch
    gradient descent), 1 stochastic, b mini-batch (TOML has no null)."""

    name: str = "digits"
    batch_size: int = 32
    val_fraction: float = 0.2
    standardize: bool = True


@dataclass
class ModelSettings:
    """``[model]``: the MLP's hidden widths and activation."""

    hidden: list[int] = field(default_factory=lambda: [32])
    activation: str = "relu"


@dataclass
class OptimizerSettings:
    """``[optimizer]``: a name from the lab's registry, its lr, and further constructor
    arguments (``options``, written beside ``name`` and ``lr`` in the TOML)."""

    name: str = "sgd"
    lr: float = 0.1
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScheduleSettings:
    """``[schedule]``: a step -> lr function of ``optim.schedules`` by name, and its arguments."""

    name: str = "constant"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class LoopSettings:
    """``[train]``: epochs, gradient clipping (0 = none) and checkpoint frequency."""

    epochs: int = 10
    grad_clip_norm: float = 0.0
    checkpoint_every: int = 1


@dataclass
class TrainConfig:
    """Everything ``gdlab train`` needs; ``to_dict()`` is its ``config.toml``."""

    seed: int = 0
    data: DataSettings = field(default_factory=DataSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    optimizer: OptimizerSettings = field(default_factory=OptimizerSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    train: LoopSettings = field(default_factory=LoopSettings)

    def to_dict(self) -> dict[str, Any]:
        """The nested dict written as ``config.toml`` (open sections' options flattened)."""
        d, m, o, s, t = self.data, self.model, self.optimizer, self.schedule, self.train
        return {
            "seed": self.seed,
            "data": {"name": d.name, "batch_size": d.batch_size, "val_fraction": d.val_fraction,
                     "standardize": d.standardize},
            "model": {"hidden": m.hidden, "activation": m.activation},
            "optimizer": {"name": o.name, "lr": o.lr, **o.options},
            "schedule": {"name": s.name, **s.options},
            "train": {"epochs": t.epochs, "grad_clip_norm": t.grad_clip_norm,
                      "checkpoint_every": t.checkpoint_every},
        }  # fmt: skip

    @classmethod
    def from_dict(cls, tree: Mapping[str, Any]) -> TrainConfig:
        """The config of a complete nested dict (``merge_config`` of the defaults)."""
        opt, sched = dict(tree["optimizer"]), dict(tree["schedule"])
        return cls(
            seed=tree["seed"],
            data=DataSettings(**tree["data"]),
            model=ModelSettings(**tree["model"]),
            optimizer=OptimizerSettings(opt.pop("name"), opt.pop("lr"), opt),
            schedule=ScheduleSettings(sched.pop("name"), sched),
            train=LoopSettings(**tree["train"]),
        )


#: The defaults as the nested dict that TOML files and overrides are checked against.
TRAIN_DEFAULTS: dict[str, Any] = TrainConfig().to_dict()


def resolve_train_config(
    path: str | os.PathLike | None = None, overrides: Iterable[str] = ()
) -> TrainConfig:
    """Defaults, then the TOML file at ``path`` (if any), then the overrides."""
    config = merge_config(TRAIN_DEFAULTS, load_toml(path) if path else {})
    return TrainConfig.from_dict(apply_overrides(config, overrides))
