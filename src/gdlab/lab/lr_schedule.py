"""A learning-rate schedule as settings: ``--schedule NAME --schedule-param KEY=VALUE``.

``gdlab compare`` and ``gdlab surface`` spell a schedule the way ``gdlab schedule`` does (a
function of ``gdlab.optim.schedules`` by name, its arguments as ``key=value`` TOML literals)
and hand it to the runs as ``LRSchedule``: the schedule starts from each run's own (tuned) lr,
and ``t_max``/``total_steps`` default to the run's length (epochs in compare, steps in surface),
so a tuning trial and a final run each decay over their whole length.

Example:
    >>> s = LRSchedule.from_options("cosine", ["eta_min=0.001"])
    >>> f = s.at(0.1, 10)
    >>> f(0), round(f(10), 6)
    (0.1, 0.001)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gdlab.lab.config import ConfigError, option, parse_override
from gdlab.lab.schedule_plot import call_schedule, schedule_names

__all__ = ["LRSchedule", "ScheduleOptions", "schedule_option", "schedule_params_option"]


def schedule_option() -> Any:
    """``--schedule NAME`` (default ``constant``: no schedule)."""
    return option("constant", "--schedule", choices=schedule_names, metavar="NAME",
                  help="learning-rate schedule from each run's lr, per epoch (compare) or step "
                  "(surface) (one of: {choices}); see gdlab schedule")  # fmt: skip


def schedule_params_option() -> Any:
    """``--schedule-param KEY=VALUE`` (repeatable), as ``gdlab schedule --param``."""
    return option([], "--schedule-param", factory=True, action="append", metavar="KEY=VALUE",
                  help="an argument of the schedule, e.g. --schedule-param gamma=0.5 (t_max and "
                  "total_steps default to the run's length; repeatable)")  # fmt: skip


@dataclass(frozen=True)
class LRSchedule:
    """A schedule by name with its arguments; ``constant`` is no schedule."""

    name: str = "constant"
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_options(cls, name: str, items: Sequence[str]) -> LRSchedule:
        """From ``--schedule`` and the ``--schedule-param`` items (``ConfigError`` naming a
        malformed item); checked by building it once."""
        params = {}
        for item in items:
            path, value = parse_override(item)
            params[".".join(path)] = value
        if name == "constant" and params:
            raise ConfigError(
                f"--schedule-param {items[0]}: no --schedule given (the lr is constant)"
            )
        schedule = cls(name, params)
        schedule.at(0.1, 10)  # a missing or unknown argument fails now, not in a run
        return schedule

    @property
    def active(self) -> bool:
        return self.name != "constant"

    def at(self, lr: float, length: int) -> Callable[[int], float] | None:
        """step (or epoch) -> lr for a run at ``lr`` of ``length`` steps; None when constant."""
        if not self.active:
            return None
        return call_schedule(self.name, lr, self.params, length, flag="--schedule-param")

    def describe(self) -> str:
        """``cosine (t_max = run length)`` / ``step (step_size=10, gamma=0.5)`` for reports."""
        given = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name} ({given})" if given else self.name


class ScheduleOptions:
    """For a command's config with the fields ``schedule = schedule_option()`` and
    ``schedule_params = schedule_params_option()``: the schedule they spell, and the usage error
    when it is malformed."""

    schedule: str
    schedule_params: list[str]

    def lr_schedule(self) -> LRSchedule:
        """The schedule every run follows from its lr (``constant``: none)."""
        return LRSchedule.from_options(self.schedule, self.schedule_params)

    def schedule_problem(self, command: str) -> str | None:
        """A malformed schedule as ``command``'s usage error, or None."""
        try:
            self.lr_schedule()
        except ConfigError as exc:
            return f"{command}: {exc}"
        return None
