"""``gdlab gradcheck``: a model's backprop against finite differences."""

from __future__ import annotations

from gdlab.cli.command import Command, lab_run
from gdlab.lab.gradcheck import GradcheckConfig, run_gradcheck

__all__ = ["COMMAND"]


COMMAND = Command(
    "gradcheck",
    help="check a model's backprop against finite differences",
    description="Build an MLP (from --model or a config) in float64 and "
    "compare every parameter's gradient with central differences on a "
    "tiny random batch.",
    config=GradcheckConfig,
    run=lab_run(run_gradcheck),
    writes=False,
)
