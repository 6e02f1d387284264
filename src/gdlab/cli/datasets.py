"""``gdlab datasets``: list the data sets gdlab can load."""

from __future__ import annotations

from typing import Any

from gdlab import datasets
from gdlab.cli.command import Command
from gdlab.cli.session import Session

__all__ = ["COMMAND"]


def run(config: None, session: Session) -> dict[str, Any]:
    avail = datasets.available()
    width = max(map(len, avail), default=0)
    text = "\n".join(f"{name.ljust(width)}  {desc}" for name, desc in avail.items())
    return session.result(text, datasets=[{"name": n, "description": d} for n, d in avail.items()])


COMMAND = Command(
    "datasets",
    help="list the data sets",
    description="List the data sets gdlab can load.",
    config=None,
    run=run,
    writes=False,
)
