"""``gdlab suite``: the optimizer benchmark suite (AlgoPerf's protocol on a laptop)."""

from __future__ import annotations

from typing import Any

from gdlab.cli.command import Command
from gdlab.cli.session import Session
from gdlab.lab.output.tables import format_table
from gdlab.lab.suite.config import SuiteConfig
from gdlab.lab.suite.protocol import calibrate, run_suite, suite_specs
from gdlab.lab.suite.report import write_suite
from gdlab.lab.sweeps import SweepProgress

__all__ = ["COMMAND"]


def _ticker(session: Session, total: int) -> Any:
    bar = session.progress(total)
    if bar is None:
        return None
    ticked = 0

    def tick(p: SweepProgress) -> None:
        nonlocal ticked
        for _ in range(p.done + p.failed - ticked):
            bar(f"{p.done}/{p.total} trials, {p.running} running, {p.failed} failed")
        ticked = p.done + p.failed

    return tick


def run(config: SuiteConfig, session: Session) -> dict[str, Any]:
    run_dir = session.open_run_dir()
    with config.make_executor() as executor:
        if config.calibrate:
            rows = calibrate(
                config, run_dir.path, executor, _ticker(session, len(config.workloads))
            )
            run_dir.write_json("calibration.json", rows)
            text = format_table(rows, ["workload", "budget", "best_metric", "stored_target",
                                       "steps_to_stored_target"])  # fmt: skip
            return session.result(text, calibration=rows)
        total = len(suite_specs(config))
        result = run_suite(config, run_dir.path, executor, _ticker(session, total))
    out = write_suite(result, run_dir, command=session.command_line)
    return session.reported(
        format_table(out["table"]), report=out["report"], leaderboard=out["table"]
    )


COMMAND = Command(
    "suite",
    help="benchmark optimizers on seven small workloads, AlgoPerf-style",
    description="Run every optimizer on every workload (logistic regression, MLP, CNN and GRU "
    "on MNIST-1D, an autoencoder on digits, DeepOBS's noisy quadratic, a transformer on "
    "modular addition) until a validation target or a step budget; tune by the ruleset "
    "(external: quasi-random trials from each optimizer's search space; self: defaults) and "
    "score by AlgoPerf's performance profile "
    "of steps to target. Resumable: rerun with the same --out to continue.",
    config=SuiteConfig,
    run=run,
)
