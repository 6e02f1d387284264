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

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gdlab.lab.config import ConfigError, apply_overrides, dumps_toml, load_toml, merge_config
from gdlab.lab.models import MODEL_KINDS
from gdlab.lab.tasks import ACTIVATIONS

__all__ = [
    "DataSettings",
    "LoopSettings",
    "ModelSettings",
    "OptimizerSettings",
    "ScheduleSettings",
    "TRAIN_DEFAULTS",
    "RESUMABLE",
    "TrainConfig",
    "check_resume",
    "commented_defaults",
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
    """``[model]``: the network (``kind``: mlp, cnn, gru, lstm; ``gdlab.lab.models``), the
    MLP's hidden widths (the first: the others' channels or state size) and activation."""

    kind: str = "mlp"
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
    """``[train]``: epochs, gradient clipping (0 = none) and checkpoint frequency (every
    ``checkpoint_every`` epochs, and every ``checkpoint_every_steps`` steps; 0 = never), so a
    run killed before its first epoch ends can still be resumed."""

    epochs: int = 10
    grad_clip_norm: float = 0.0
    checkpoint_every: int = 1
    checkpoint_every_steps: int = 0


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
            "model": {"kind": m.kind, "hidden": m.hidden, "activation": m.activation},
            "optimizer": {"name": o.name, "lr": o.lr, **o.options},
            "schedule": {"name": s.name, **s.options},
            "train": {"epochs": t.epochs, "grad_clip_norm": t.grad_clip_norm,
                      "checkpoint_every": t.checkpoint_every,
                      "checkpoint_every_steps": t.checkpoint_every_steps},
        }  # fmt: skip

    def validate(self) -> TrainConfig:
        """Check every setting once, here: a ``ConfigError`` names the key, the value and
        what is allowed (no silent coercion: ``seed=1.5``, ``epochs=2.7`` and
        ``standardize="false"`` are errors). Returns ``self``."""
        flat = _flatten(self.to_dict())
        for key, (check, allowed) in _RULES.items():
            if key in flat and not check(flat[key]):
                raise ConfigError(f"invalid setting {key} = {flat[key]!r}: expected {allowed}")
        return self

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


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in tree.items():
        if isinstance(v, Mapping):
            out |= _flatten(v, f"{prefix}{k}.")
        else:
            out[f"{prefix}{k}"] = v
    return out


def _int(minimum: int) -> Any:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= minimum


def _number(minimum: float, below: float = math.inf) -> Any:
    def check(v: Any) -> bool:
        ok = isinstance(v, int | float) and not isinstance(v, bool)
        return ok and math.isfinite(v) and minimum <= v < below

    return check


def _text(v: Any) -> bool:
    return isinstance(v, str) and bool(v)


#: ``section.key`` -> (check, what is allowed): every fixed setting of ``TrainConfig``.
_RULES: dict[str, tuple[Any, str]] = {
    "seed": (_int(0), "a non-negative integer"),
    "data.name": (_text, "a data set name (string)"),
    "data.batch_size": (_int(0), "a non-negative integer (0 = the full batch)"),
    "data.val_fraction": (_number(0.0, 1.0), "a number in [0, 1)"),
    "data.standardize": (lambda v: isinstance(v, bool), "true or false (not a string)"),
    "model.hidden": (
        lambda v: isinstance(v, list) and all(_int(1)(w) for w in v),
        "a list of positive integers, e.g. [64, 32]",
    ),
    "model.kind": (lambda v: v in MODEL_KINDS, f"one of {list(MODEL_KINDS)}"),
    "model.activation": (lambda v: v in ACTIVATIONS, f"one of {sorted(ACTIVATIONS)}"),
    "optimizer.name": (_text, "an optimizer name (string)"),
    "optimizer.lr": (_number(0.0), "a finite number >= 0"),
    "schedule.name": (_text, "a schedule name (string)"),
    "train.epochs": (_int(1), "a positive integer"),
    "train.grad_clip_norm": (_number(0.0), "a finite number >= 0 (0 = no clipping)"),
    "train.checkpoint_every": (_int(1), "a positive integer (epochs)"),
    "train.checkpoint_every_steps": (_int(0), "a non-negative integer (0 = never)"),
}

#: Settings a resumed run may change: the others must equal the checkpoint's.
RESUMABLE = ("train.epochs", "train.checkpoint_every", "train.checkpoint_every_steps")


def check_resume(saved: Mapping[str, Any], config: TrainConfig) -> None:
    """``ConfigError`` unless ``config`` continues the run whose settings were ``saved``: only
    :data:`RESUMABLE` keys may differ, and ``train.epochs`` only upwards."""
    old, new = _flatten(saved), _flatten(config.to_dict())
    for key in sorted(old.keys() | new.keys()):
        was, now = old.get(key), new.get(key)
        if was == now:
            continue
        if key == "train.epochs" and isinstance(was, int) and isinstance(now, int):
            if now < was:
                raise ConfigError(
                    f"--resume: train.epochs = {now} is fewer than the run's {was}; a resumed "
                    "run can only be given more epochs"
                )
            continue
        if key not in RESUMABLE:
            raise ConfigError(
                f"--resume: {key} = {now!r} differs from the run's {was!r}; a resumed run may "
                f"change only {', '.join(RESUMABLE)} (train.epochs upwards). Start a new run "
                "(another --out) to change it"
            )


#: The defaults as the nested dict that TOML files and overrides are checked against.
TRAIN_DEFAULTS: dict[str, Any] = TrainConfig().to_dict()


def resolve_train_config(
    path: str | os.PathLike | None = None, overrides: Iterable[str] = ()
) -> TrainConfig:
    """Defaults, then the TOML file at ``path`` (if any), then the overrides."""
    config = apply_overrides(merge_config(TRAIN_DEFAULTS, load_toml(path) if path else {}),
                             overrides)  # fmt: skip
    return TrainConfig.from_dict(config).validate()


#: One comment per key of ``TRAIN_DEFAULTS``: what ``gdlab train --print-config`` writes above
#: it (a test checks that every key has one).
COMMENTS: dict[str, str] = {
    "seed": "random seed: data split, initial weights and batch order",
    "data": "the data set and its batches",
    "data.name": "a data set of `gdlab datasets` (digits, iris, moons, mnist, ...)",
    "data.batch_size": "0 = the full batch (batch GD), 1 = stochastic, b = mini-batches of b",
    "data.val_fraction": "share of the training data held out for validation, in [0, 1)",
    "data.standardize": "scale every input feature to mean 0, variance 1 (training statistics)",
    "model": "the network: an MLP, or a CNN / GRU / LSTM classifier",
    "model.kind": f"one of {', '.join(MODEL_KINDS)} (hidden[0] is a CNN's channels, an RNN's "
    "state size)",
    "model.hidden": "hidden layer widths, input side first, e.g. [64, 32]",
    "model.activation": f"one of {', '.join(sorted(ACTIVATIONS))}",
    "optimizer": "further keys are passed to the optimizer, e.g. momentum = 0.9, "
    "betas = [0.9, 0.999]",
    "optimizer.name": "an optimizer of `gdlab compare --help` (sgd, momentum, adam, ...)",
    "optimizer.lr": "learning rate (the initial one when a schedule is set)",
    "schedule": "further keys are passed to the schedule, e.g. gamma = 0.5 (`gdlab schedule`)",
    "schedule.name": "constant, or one of gdlab.optim.schedules (cosine, step, ...); its "
    "t_max defaults to the epochs",
    "train": "the loop",
    "train.epochs": "passes over the training data",
    "train.grad_clip_norm": "clip the total gradient norm to this (0 = no clipping)",
    "train.checkpoint_every": "save a checkpoint every n epochs (--resume continues from it)",
    "train.checkpoint_every_steps": "also every n optimizer steps (0 = never)",
}


def commented_defaults() -> str:
    """The default config as TOML with a comment above every key: ``gdlab train
    --print-config``. It loads back to ``TrainConfig()``."""
    lines = ["# gdlab train: the default config. Edit, then: gdlab train this.toml", ""]
    for key, value in TRAIN_DEFAULTS.items():
        if isinstance(value, Mapping):
            lines += ["", f"# {COMMENTS[key]}"]
            section = dumps_toml({key: value}).splitlines()
            lines.append(section[0])
            for sub, line in zip(value, section[1:], strict=True):
                lines += [f"# {COMMENTS[f'{key}.{sub}']}", line]
        else:
            lines += [f"# {COMMENTS[key]}", dumps_toml({key: value}).strip()]
    return "\n".join(lines) + "\n"
