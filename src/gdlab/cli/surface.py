"""``gdlab surface``: optimizer paths on a 2-D test function."""

from __future__ import annotations

from typing import Any

from gdlab.cli.command import Command
from gdlab.cli.session import Session
from gdlab.lab.output.tables import format_table
from gdlab.lab.surface.config import SurfaceConfig
from gdlab.lab.surface.run import run_surface
from gdlab.lab.sweeps import Trials

__all__ = ["COMMAND"]


def run(config: SurfaceConfig, session: Session) -> dict[str, Any]:
    run_dir = session.open_run_dir()
    with config.make_executor() as executor:
        out = run_surface(config, run_dir, Trials(run_dir.path, executor))
    return session.reported(format_table(out["table"]), report=out["report"], results=out["table"])


COMMAND = Command(
    "surface",
    help="optimizer paths on a 2-D test function",
    description="Run optimizers on a 2-D function from the same start, each "
    "at its best lr from the same tuning budget; draw the paths on one "
    "contour plot, animate them, save them as CSV.",
    config=SurfaceConfig,
    run=run,
)
