"""``gdlab check-optimizer``: the battery every built-in optimizer passes, on any optimizer."""

from __future__ import annotations

from gdlab.cli.command import Command, lab_run
from gdlab.lab.optimizer_check import CheckOptimizerConfig, run_check_optimizer

__all__ = ["COMMAND"]


COMMAND = Command(
    "check-optimizer",
    help="run the built-in optimizers' battery of checks on an optimizer",
    description="Check an optimizer (a built-in name or pkg.module:Name, e.g. a from_rule "
    "class) as every built-in is checked: convergence on a quadratic, Rosenbrock and Beale "
    "over an lr grid, lr=0 leaves the parameters, maximize equals minimising -f, a reloaded "
    "state_dict resumes exactly, float32/float64 preserved, finite on zero gradients. Exit "
    "code 1 when a check fails.",
    config=CheckOptimizerConfig,
    run=lab_run(run_check_optimizer),
    writes=False,
)
