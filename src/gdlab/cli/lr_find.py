"""``gdlab lr-find``: the learning-rate range test (Smith / fastai)."""

from __future__ import annotations

from typing import Any

from gdlab.cli.command import Command
from gdlab.cli.session import Session
from gdlab.lab.lr_finder import LrFindConfig, run_lr_find

__all__ = ["COMMAND"]


def run(config: LrFindConfig, session: Session) -> dict[str, Any]:
    out = run_lr_find(config, session.open_run_dir())
    text = (
        f"suggested lr: {out['lr_valley']:.3g} (valley), {out['lr_steepest']:.3g} (steepest "
        f"descent), {out['lr_min_div10']:.3g} (min / 10)\n{out['iterations']} iterations, "
        f"{out['stop_reason']}"
        if out["lr_steepest"] is not None
        else f"no suggestion ({out['stop_reason']})"
    )
    return session.reported(text, **out)


COMMAND = Command(
    "lr-find",
    help="learning-rate range test (Smith / fastai)",
    description="Sweep the learning rate exponentially, plot the smoothed "
    "loss and suggest an lr (fastai's valley, steepest descent and min/10).",
    config=LrFindConfig,
    run=run,
)
