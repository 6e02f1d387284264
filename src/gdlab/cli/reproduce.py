"""``gdlab reproduce``: re-run an article's or textbook's experiment by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gdlab.cli.command import Command
from gdlab.cli.session import Session
from gdlab.lab.articles import EXPERIMENTS, write_experiment
from gdlab.lab.config import option, seed_option
from gdlab.lab.sweeps import Trials
from gdlab.lab.sweeps.placement import Placement

__all__ = ["COMMAND", "ReproduceConfig"]


def _names() -> list[str]:
    return list(EXPERIMENTS)


@dataclass
class ReproduceConfig(Placement):
    """Which experiment (a name of the one registry ``lab.articles.EXPERIMENTS``), and where
    the runs of one with independent trials (seeds, variants) run."""

    name: str = option(
        "d2l_gd_2d", "name", nargs="?", choices=_names, metavar="NAME", help="one of: {choices}"
    )
    seed: int = seed_option()
    full: bool = option(
        False, "--full", action="store_true", help="the longer version (more seeds, steps)"
    )
    list: bool = option(False, "--list", action="store_true", help="list the experiments and exit")


def _listing() -> str:
    width = max(map(len, EXPERIMENTS))
    return "\n".join(f"{n:<{width}}  {e.description}" for n, e in EXPERIMENTS.items())


def run(config: ReproduceConfig, session: Session) -> dict[str, Any]:
    if config.list:
        names = {n: e.description for n, e in EXPERIMENTS.items()}
        return session.result(_listing(), experiments=names)
    run_dir = session.open_run_dir(f"reproduce-{config.name.replace('_', '-')}")
    with config.make_executor() as executor:
        trials = Trials(run_dir.path, executor)
        out = write_experiment(config.name, run_dir, config.seed, config.full, trials)
    return session.lab_result(out)


COMMAND = Command(
    "reproduce",
    help="re-run an article's or textbook's experiment",
    description="Re-run an experiment by name: the textbooks' are compared with their "
    "published numbers, the articles' claims are checked; exit code 1 when a check fails. "
    "--list names them all.",
    config=ReproduceConfig,
    run=run,
)
