"""What a subcommand is: its name and help, its typed config, and how to run it."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from gdlab.cli.options import add_command_options, from_namespace
from gdlab.cli.session import Session
from gdlab.lab.config import ConfigError, fields_from_toml, load_toml

__all__ = ["Command", "lab_run"]


class Command(NamedTuple):
    """A ``gdlab`` subcommand.

    The parser is built from ``config`` (a dataclass whose fields carry their ``option``
    spelling) and the common options (``--out`` only when the command ``writes`` a run
    directory); ``configure`` turns the parsed namespace into that config, the only place that
    reads the namespace. A config with a ``problem()`` method reports constraints between
    arguments through it (a message: a usage error, exit code 2). ``run(config, session)`` does
    the work and returns ``session.result(...)``. ``custom_parser`` / ``custom_configure``
    replace the generic ones (``bench`` passes its arguments on untouched). With
    ``config_file`` the command also takes ``--config FILE`` (its settings from TOML, the flags
    given on the command line winning) and ``--resume DIR`` (DIR's ``config.toml``, results
    written to DIR: the finished trials there are reused).
    """

    name: str
    help: str
    description: str
    config: type | None
    run: Callable[[Any, Session], dict[str, Any]]
    writes: bool = True
    custom_parser: Callable[[Any, Command], argparse.ArgumentParser] | None = None
    custom_configure: Callable[[argparse.Namespace], Any] | None = None
    config_file: bool = False

    def add_parser(self, sub: Any) -> argparse.ArgumentParser:
        """Add this command's parser to ``sub`` (``add_subparsers()``'s result)."""
        if self.custom_parser is not None:
            return self.custom_parser(sub, self)
        p = sub.add_parser(self.name, help=self.help, description=self.description)
        add_command_options(p, self.config, writes=self.writes)
        if self.config_file:
            files = p.add_argument_group("settings from a file")
            files.add_argument("--config", dest="config_file", metavar="FILE",
                               help="TOML file of these settings (e.g. a run's config.toml); "
                               "options given on the command line override it")  # fmt: skip
            files.add_argument("--resume", dest="resume_dir", metavar="DIR",
                               help="continue an interrupted run in DIR with its config.toml: "
                               "finished trials are not rerun")  # fmt: skip
        return p

    def file_settings(self, ns: argparse.Namespace) -> dict[str, Any]:
        """The config fields ``--config FILE`` (else ``--resume DIR``'s config.toml) sets,
        checked as the flags are; ``{}`` without either. Raises ``ConfigError``."""
        resume = getattr(ns, "resume_dir", None)
        path = getattr(ns, "config_file", None) or (resume and Path(resume) / "config.toml")
        if not path:
            return {}
        if resume and not Path(resume).is_dir():
            raise ConfigError(f"--resume: {resume} is not a run directory")
        try:
            data = load_toml(path)
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such file") from None
        derived = getattr(self.config, "derived_settings", ())
        return fields_from_toml(self.config, data, str(path), derived)

    def configure(self, ns: argparse.Namespace) -> Any:
        """The typed config of the parsed values, or a usage-error message (str)."""
        if self.custom_configure is not None:
            return self.custom_configure(ns)
        if self.config is None:
            return None
        config = from_namespace(self.config, ns)
        problem = getattr(config, "problem", None)
        return (problem() if problem else None) or config


def lab_run(function: Callable[[Any], dict[str, Any]]) -> Callable[[Any, Session], dict[str, Any]]:
    """The ``run`` of a command that is one lab function of its config (returning its
    ``"text"`` and data): the text shown, the rest the command's data."""

    def run(config: Any, session: Session) -> dict[str, Any]:
        return session.lab_result(function(config))

    return run
