"""``gdlab reproduce``: re-run an article's or textbook's experiment by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gdlab.cli.command import Command
from gdlab.cli.session import Session
from gdlab.lab.articles import EXPERIMENTS, write_experiment
from gdlab.lab.config import option, seed_option

__all__ = ["COMMAND", "ReproduceConfig"]


def _names() -> list[str]:
    return list(EXPERIMENTS)


@dataclass
class ReproduceConfig:
    """Which experiment (a name of the one registry ``lab.articles.EXPERIMENTS``)."""

    name: str = option(
        "d2l_gd_2d", "name", choices=_names, metavar="NAME", help="one of: {choices}"
    )
    seed: int = seed_option()


def run(config: ReproduceConfig, session: Session) -> dict[str, Any]:
    run_dir = session.open_run_dir(f"reproduce-{config.name.replace('_', '-')}")
    out = write_experiment(config.name, run_dir, seed=config.seed)
    return session.result(out.pop("text"), **out)


COMMAND = Command(
    "reproduce",
    help="re-run an article's or textbook's experiment",
    description="Re-run a published experiment by name and compare with "
    "the published numbers where they are exact.",
    config=ReproduceConfig,
    run=run,
)
