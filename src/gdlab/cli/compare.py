"""``gdlab compare``: optimizers and batch modes, each tuned with the same budget."""

from __future__ import annotations

from typing import Any

from gdlab.cli.command import Command
from gdlab.cli.session import Session
from gdlab.lab.compare.config import CompareConfig
from gdlab.lab.compare.protocol import run_compare
from gdlab.lab.compare.report import write_compare
from gdlab.lab.compare.trials import expected_cost
from gdlab.lab.output.tables import format_table, short_table

__all__ = ["COMMAND"]


def run(config: CompareConfig, session: Session) -> dict[str, Any]:
    run_dir = session.open_run_dir()
    # the bar advances by each trial's expected cost: batch-1 and long runs weigh more
    progress = session.progress(expected_cost(config), weighted=True)
    with config.make_executor() as executor:
        result = run_compare(config, progress, run_dir=run_dir.path, executor=executor)
    out = write_compare(result, run_dir, command=session.command_line)
    if result.interrupted:
        raise KeyboardInterrupt
    several = len(config.datasets) > 1
    text = format_table(short_table(out["table"], several, drop=("optimizer", "batch")))
    if out["lr_at_edge"]:
        text += f"\n\nbest lr at the edge of the range tried: {', '.join(out['lr_at_edge'])}"
    return session.reported(
        text, report=out["report"], results=out["table"], lr_at_edge=out["lr_at_edge"]
    )


COMMAND = Command(
    "compare",
    help="compare optimizers and batch modes, each tuned with the same budget",
    description="Train one model on one or more data sets with several optimizers and/or "
    "batch modes (bgd = full batch, sgd = one sample, mbgd = mini-batch), each tuned with "
    "the same budget of learning-rate trials on a validation split, then repeated over "
    "seeds. With no arguments: digits, an MLP 64-32-10, sgd/momentum/nesterov/adagrad/"
    "rmsprop/adam, and bgd vs sgd vs mbgd.",
    config=CompareConfig,
    run=run,
    config_file=True,
)
