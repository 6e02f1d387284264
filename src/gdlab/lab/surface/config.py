"""The settings of ``gdlab surface``: one dataclass for the parser, ``run_surface`` and
config.toml."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gdlab.lab.config import (
    nonneg_int,
    option,
    positive_float,
    positive_int,
    seed_option,
)
from gdlab.lab.lr_schedule import ScheduleOptions, schedule_option, schedule_params_option
from gdlab.lab.optimizers import (
    DEFAULT_OPTIMIZERS,
    optimizers_help,
    surface_optimizer_argument,
    surface_optimizer_names,
)
from gdlab.lab.search import LR_RANGE
from gdlab.lab.surface.functions import FUNCTIONS
from gdlab.lab.sweeps.placement import Placement

__all__ = ["SurfaceConfig"]


def _function_names() -> list[str]:
    return list(FUNCTIONS)


@dataclass
class SurfaceConfig(Placement, ScheduleOptions):
    """Which optimizers on which 2-D function, and how their learning rates are chosen.

    Args:
        function: a name from ``FUNCTIONS``.
        optimizers: optimizer names.
        steps: steps per run.
        tune: learning rates tried per optimizer over ``LR_RANGE`` (0: each one's default lr).
        starts: starting points (the function's start plus jittered ones).
        schedule, schedule_params: a learning-rate schedule per step from each run's lr
            (``gdlab.lab.lr_schedule``; t_max/total_steps default to ``steps``).
        lr: one lr for all (no tuning).
        seed: the jittered starts and the gradient noise.
        gif: animate the paths.
    """

    function: str = option("rosenbrock", "--function", choices=_function_names,
                           metavar="NAME", help="one of: {choices}")  # fmt: skip
    optimizers: list[str] = option(DEFAULT_OPTIMIZERS, "--optimizers", factory=True, nargs="+",
                                   type=surface_optimizer_argument, metavar="NAME",
                                   help=optimizers_help("optimizers",
                                                        surface_optimizer_names()))  # fmt: skip
    steps: int = option(200, "--steps", type=positive_int)
    tune: int = option(8, "--tune", type=nonneg_int, metavar="BUDGET",
                       help="learning rates tried per optimizer (0: each optimizer's default "
                       "lr)")  # fmt: skip
    starts: int = option(
        1, "--starts", type=positive_int,
        help="starting points (the function's start plus jittered ones)",
    )  # fmt: skip
    schedule: str = schedule_option()
    schedule_params: list[str] = schedule_params_option()
    lr: float | None = option(None, "--lr", type=positive_float,
                              help="use this lr for all (no tuning)")  # fmt: skip
    gif: bool = option(True, "--no-gif", action="store_false", help="skip the animation")
    seed: int = seed_option()

    def settings(self) -> dict[str, Any]:
        """What ``config.toml`` and the report show (the tuning budget actually used and the
        range it searched)."""
        return {
            "function": self.function,
            "optimizers": list(self.optimizers),
            "steps": self.steps,
            "tune_budget": 0 if self.lr else self.tune,
            "lr_range": list(LR_RANGE),
            "starts": self.starts,
            "lr": self.lr,
            "schedule": self.schedule,
            "schedule_params": list(self.schedule_params),
            "seed": self.seed,
        }

    def problem(self) -> str | None:
        """What is wrong between the arguments (a usage error), or None."""
        return self.schedule_problem("surface")
