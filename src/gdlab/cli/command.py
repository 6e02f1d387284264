"""What a subcommand is: its name and help, its typed config, and how to run it."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, NamedTuple

from gdlab.cli.options import add_command_options, from_namespace
from gdlab.cli.session import Session

__all__ = ["Command"]


class Command(NamedTuple):
    """A ``gdlab`` subcommand.

    The parser is built from ``config`` (a dataclass whose fields carry their ``option``
    spelling) and the common options (``--out`` only when the command ``writes`` a run
    directory); ``configure`` turns the parsed namespace into that config, the only place that
    reads the namespace. A config with a ``problem()`` method reports constraints between
    arguments through it (a message: a usage error, exit code 2). ``run(config, session)`` does
    the work and returns ``session.result(...)``. ``custom_parser`` / ``custom_configure``
    replace the generic ones (``bench`` passes its arguments on untouched).
    """

    name: str
    help: str
    description: str
    config: type | None
    run: Callable[[Any, Session], dict[str, Any]]
    writes: bool = True
    custom_parser: Callable[[Any, Command], argparse.ArgumentParser] | None = None
    custom_configure: Callable[[argparse.Namespace], Any] | None = None

    def add_parser(self, sub: Any) -> argparse.ArgumentParser:
        """Add this command's parser to ``sub`` (``add_subparsers()``'s result)."""
        if self.custom_parser is not None:
            return self.custom_parser(sub, self)
        p = sub.add_parser(self.name, help=self.help, description=self.description)
        add_command_options(p, self.config, writes=self.writes)
        return p

    def configure(self, ns: argparse.Namespace) -> Any:
        """The typed config of the parsed values, or a usage-error message (str)."""
        if self.custom_configure is not None:
            return self.custom_configure(ns)
        if self.config is None:
            return None
        config = from_namespace(self.config, ns)
        problem = getattr(config, "problem", None)
        return (problem() if problem else None) or config
