"""The settings of ``gdlab compare``: one dataclass for the parser, ``compare`` and config.toml.

Example:
    >>> cfg = CompareConfig(datasets=["iris"], optimizers=["sgd", "adam"], batch_modes=[])
    >>> cfg.settings()["lr_ranges"]
    {'sgd': [0.01, 10.0], 'adam': [0.0001, 0.1]}
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from gdlab.lab.config import (
    fraction,
    option,
    positive_float,
    positive_int,
    seed_option,
)
from gdlab.lab.lr_schedule import ScheduleOptions, schedule_option, schedule_params_option
from gdlab.lab.optimizers import (
    DEFAULT_OPTIMIZERS,
    command_optimizer_names,
    optimizer_argument,
    optimizers_help,
    tunes_lr,
)
from gdlab.lab.search import BATCH_ONE_SCALE, lr_range_for
from gdlab.lab.sweeps.placement import PLACEMENT_FIELDS, Placement
from gdlab.lab.tasks import (
    BATCH_MODES,
    activation_option,
    batch_size_option,
    csv_options,
    dataset_option,
    hidden_option,
    model_option,
)

__all__ = ["CompareConfig", "DEFAULT_TARGETS"]

#: The validation metric's default target per kind of task. An MLP on digits passes 0.95
#: accuracy in a few epochs. On diabetes the least-squares linear model's validation R² is
#: 0.45-0.52 (seeds 0-3) and the default MLP's after 15 epochs 0.24-0.38 (SGD at batch 1 to
#: mini-batch Adam): 0.3 separates the variants instead of being reached by none.
DEFAULT_TARGETS = {"accuracy": 0.95, "r2": 0.3}


@dataclass
class CompareConfig(Placement, ScheduleOptions):
    """What to compare and with which budget (see ``gdlab.lab.compare`` for the protocol).

    Args:
        datasets: one or several data set names (several give performance profiles) or CSV
            files, read with ``target_column`` and ``csv_header``.
        optimizers: optimizer names, run at mini-batch size ``batch_size``.
        batch_modes: ``bgd``/``sgd``/``mbgd``, each run with ``batch_optimizer``.
        model: ``mlp``, ``cnn``, ``gru`` or ``lstm`` (``gdlab.lab.models``).
        hidden, activation, batch_size: the MLP's widths (the first: the other models'
            channels or state size), its activation, and the mini-batch size.
        epochs, seeds: length and number of the final runs.
        trials, tune_epochs: the tuning budget (lrs per variant, epochs per trial).
        schedule, schedule_params: a learning-rate schedule per epoch from each run's lr
            (``gdlab.lab.lr_schedule``; t_max/total_steps default to the run's epochs).
        lr: a fixed lr for every variant instead of tuning.
        target: the validation accuracy (classification, default 0.95) or R² (regression,
            default 0.3) that "steps/samples/time to target" measure to.
        val_fraction: the validation split.
        seed: data split, tuning and first final-run seed (runs use seed, seed+1, ...).
    """

    datasets: list[str] = dataset_option(many=True)
    target_column: str | None = csv_options()[0]
    csv_header: str = csv_options()[1]
    optimizers: list[str] = option(
        DEFAULT_OPTIMIZERS, "--optimizers", factory=True, type=optimizer_argument,
        nargs="*", metavar="NAME",
        help=optimizers_help("optimizers at mini-batch size, L-BFGS on the full batch; no "
                             "value: none"),
    )  # fmt: skip
    batch_modes: list[str] = option(
        list(BATCH_MODES), "--batch-modes", factory=True, choices=tuple(BATCH_MODES), nargs="*",
        metavar="MODE", help="batch modes run with --batch-optimizer (bgd, sgd, mbgd; no value: "
        "none)",
    )  # fmt: skip
    batch_optimizer: str = option(
        "sgd", "--batch-optimizer", choices=command_optimizer_names, metavar="NAME"
    )
    model: str = model_option()
    hidden: list[int] = hidden_option()
    activation: str = activation_option()
    batch_size: int = batch_size_option()
    epochs: int = option(15, "--epochs", type=positive_int, help="epochs per final run")
    trials: int = option(
        5, "--trials", type=positive_int,
        help="learning rates tried per optimizer (the same budget for all)",
    )  # fmt: skip
    tune_epochs: int = option(3, "--tune-epochs", type=positive_int, help="epochs per trial")
    seeds: int = option(3, "--seeds", type=positive_int, help="final runs per optimizer")
    schedule: str = schedule_option()
    schedule_params: list[str] = schedule_params_option()
    lr: float | None = option(None, "--lr", type=positive_float,
                              help="use this lr for all (no tuning; L-BFGS keeps its "
                              "own)")  # fmt: skip
    target: float | None = option(
        None, "--target", type=fraction,
        help="validation accuracy (classification, default 0.95) or R² (regression, default "
        "0.3) for steps/time to target",
    )  # fmt: skip
    val_fraction: float = option(0.2, "--val-fraction", type=fraction)
    seed: int = seed_option()
    tensorboard: str | None = option(
        None, "--tensorboard", metavar="DIR",
        help="also log every trial to TensorBoard, one run per trial in DIR (needs "
        "gdlab[tensorboard])",
    )  # fmt: skip

    #: What ``settings()`` adds to config.toml beyond the fields (``--config`` skips them).
    derived_settings: ClassVar[tuple[str, ...]] = ("lr_ranges", "batch_one_lr_scale")

    def target_for(self, metric: str) -> float:
        """The target of ``metric`` ("accuracy" or "r2"): ``target`` or the metric's default."""
        if self.target is not None:
            return self.target
        return DEFAULT_TARGETS[metric]

    def experiment(self) -> dict[str, Any]:
        """The fields that decide the results (all but where the trials run and log)."""
        skip = PLACEMENT_FIELDS | {"tensorboard"}
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in skip}

    def __post_init__(self) -> None:
        # A name given twice is one variant: two rows of the same runs would double-count
        # them (issue 12: `--optimizers sgd sgd`).
        self.datasets = list(dict.fromkeys(self.datasets))
        self.optimizers = list(dict.fromkeys(self.optimizers))
        self.batch_modes = list(dict.fromkeys(self.batch_modes))

    def problem(self) -> str | None:
        """What is wrong between the arguments (a usage error), or None."""
        if not self.optimizers and not self.batch_modes:
            return "compare: nothing to compare: give --optimizers and/or --batch-modes"
        return self.schedule_problem("compare")

    def settings(self) -> dict[str, Any]:
        """What ``config.toml`` and the report show: the fields, then each optimizer's lr range
        (ordered: the same settings give the same bytes)."""
        used = dict.fromkeys([*self.optimizers, self.batch_optimizer])
        return self.experiment() | {
            "lr_ranges": {o: list(lr_range_for(o)) for o in used if tunes_lr(o)},
            "batch_one_lr_scale": BATCH_ONE_SCALE,
        }
