"""``gdlab schedule``: plot learning-rate schedules."""

from __future__ import annotations

from typing import Any

from gdlab.cli.command import Command
from gdlab.cli.session import Session
from gdlab.lab.schedule_plot import ScheduleConfig, run_schedule

__all__ = ["COMMAND"]


def run(config: ScheduleConfig, session: Session) -> dict[str, Any]:
    out = run_schedule(config, session.open_run_dir)
    lines = [
        f"{n}: lr(0) = {out['first_lr'][n]:.4g}, lr({config.steps}) = {last:.4g}"
        for n, last in out["final_lr"].items()
    ]
    return session.reported("\n".join(lines), report=out["report"], final_lr=out["final_lr"])


COMMAND = Command(
    "schedule",
    help="plot a learning-rate schedule",
    description="Plot optim.schedules' step -> lr functions by name; "
    "--param key=value sets the schedule's arguments (t_max and total_steps default "
    "to --steps).",
    config=ScheduleConfig,
    run=run,
)
