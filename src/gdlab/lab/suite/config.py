"""The settings of ``gdlab suite``: one dataclass for the parser, the protocol and config.toml."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from gdlab.lab.config import option, positive_int, seed_option
from gdlab.lab.suite.optimizers import NADAMW, check_optimizer, search_space
from gdlab.lab.suite.workloads import WORKLOADS
from gdlab.lab.sweeps.placement import PLACEMENT_FIELDS, Placement

__all__ = ["DEFAULT_SUITE_OPTIMIZERS", "SuiteConfig"]

#: The quick suite's five optimizers: the baseline and four torch.optim classics.
DEFAULT_SUITE_OPTIMIZERS = [NADAMW, "adam", "adamw", "momentum", "rmsprop"]


@dataclass
class SuiteConfig(Placement):
    """What the suite runs (see ``gdlab.lab.suite`` for the protocol).

    Args:
        optimizers: registry names, ``nadamw`` (the baseline) or ``module:Class``.
        workloads: workload names.
        ruleset: ``external`` (``trials`` quasi-random settings each) or ``self`` (defaults).
        trials: settings per optimizer and workload under external tuning.
        studies: independent repetitions (seeds) of the whole suite, for the score's spread.
        full: the full budgets (``FULL_SCALE`` times the quick ones).
        calibrate: run the NAdamW baseline at its stored settings for the whole budget and
            report the targets it supports instead of scoring.
        seed: the first study's seed (study k uses seed + k).
    """

    optimizers: list[str] = option(
        DEFAULT_SUITE_OPTIMIZERS, "--optimizers", factory=True, nargs="+", metavar="NAME",
        help="registry names, nadamw (the baseline) or a class as module:Class",
    )  # fmt: skip
    workloads: list[str] = option(
        list(WORKLOADS), "--workloads", factory=True, nargs="+", choices=tuple(WORKLOADS),
        metavar="NAME", help="workloads (one of: {choices})",
    )  # fmt: skip
    ruleset: str = option("external", "--ruleset", choices=("external", "self"),
                          help="external tuning (trials from a search space) or self-tuning "
                          "(defaults, one trial)")  # fmt: skip
    trials: int = option(5, "--trials", type=positive_int,
                         help="quasi-random trials per optimizer and workload")  # fmt: skip
    studies: int = option(1, "--studies", type=positive_int,
                          help="repetitions with other seeds (the score's spread)")  # fmt: skip
    full: bool = option(False, "--full", action="store_true",
                        help="the full budgets (default: --quick)")  # fmt: skip
    quick: bool = option(True, "--quick", action="store_true",
                         help="the quick budgets (the default)")  # fmt: skip
    budget_scale: float = option(1.0, "--budget-scale", type=float, metavar="X",
                                 help="multiply every budget (a smoke test: 0.1)")  # fmt: skip
    calibrate: bool = option(False, "--calibrate", action="store_true",
                             help="measure the targets the NAdamW baseline supports")  # fmt: skip
    seed: int = seed_option()

    def problem(self) -> str | None:
        """A usage error, or None."""
        if not self.budget_scale > 0:
            return f"argument --budget-scale: must be positive, got {self.budget_scale}"
        for name in self.optimizers:
            try:
                check_optimizer(name)
            except ValueError as e:
                return f"argument --optimizers: {e}"
        return None

    def experiment(self) -> dict[str, Any]:
        """The fields that decide the results (all but where the trials run)."""
        skip = PLACEMENT_FIELDS | {"quick"}
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in skip}

    def settings(self) -> dict[str, Any]:
        """What ``config.toml`` and the report show: the fields and each search space."""
        spaces = {o: {k: list(v) for k, v in search_space(o)._asdict().items() if v}
                  for o in self.optimizers}  # fmt: skip
        return self.experiment() | {"search_spaces": spaces}
