"""``gdlab gradcheck``: a model's backprop against finite differences."""

from __future__ import annotations

from typing import Any

from gdlab.cli.command import Command
from gdlab.cli.session import Session
from gdlab.lab.gradcheck import GradcheckConfig, run_gradcheck

__all__ = ["COMMAND"]


def run(config: GradcheckConfig, session: Session) -> dict[str, Any]:
    return session.lab_result(run_gradcheck(config))


COMMAND = Command(
    "gradcheck",
    help="check a model's backprop against finite differences",
    description="Build an MLP (from --model or a config) in float64 and "
    "compare every parameter's gradient with central differences on a "
    "tiny random batch.",
    config=GradcheckConfig,
    run=run,
    writes=False,
)
