"""The ``gdlab`` command: one module per subcommand, each with a typed config.

Subcommands: ``compare``, ``surface``, ``train``, ``lr-find``, ``schedule``, ``reproduce``,
``suite`` (the optimizer benchmark suite), ``datasets``, ``gradcheck``, ``bench`` (the benchmark
suite of gdlab's speed, from a source checkout), ``playground`` (a local web app,
``gdlab.playground``). Every
command that computes something writes a run directory (``--out``, default
``./gdlab-runs/<command>-<timestamp>``) with the resolved config, metrics CSV/JSON-lines, a
summary JSON, figures and ``report.html``.

How a command line runs: ``parse`` builds the command's typed config from the parsed
arguments (``Command.configure``; the argparse namespace goes no further), ``main`` makes a
``Session`` (output options, run directory) and ``session.execute`` runs the command, prints
its result and returns the exit code.

Exit codes: 0 success, 1 failure (the message names the cause, e.g. an unwritable path),
2 usage error (argparse: unknown option, invalid choice, bad value), 130 interrupted (Ctrl-C;
the results finished so far are written, no file is left half-written).

Commands that train (``compare``, ``surface``, ``train``, ``lr-find``, ``reproduce``,
``suite``) take ``--threads N`` (default 1: ``gdlab.lab.config.Threads`` says why).

``--format json`` prints exactly one JSON document on stdout and nothing else; progress bars
go to stderr, and only when stderr is a terminal; ``train``'s line per epoch goes to stderr
unless ``--quiet`` or ``--format json``. Terminal tables fit in 100 columns.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

import gdlab
from gdlab.cli import (
    bench,
    check_optimizer,
    compare,
    datasets,
    gradcheck,
    lr_find,
    playground,
    reproduce,
    schedule,
    suite,
    surface,
)
from gdlab.cli import train as train_command
from gdlab.cli.command import Command
from gdlab.cli.options import OutputOptions, from_namespace
from gdlab.cli.session import Session, execute
from gdlab.lab.config import ConfigError, Threads

__all__ = ["COMMANDS", "Invocation", "Parser", "build_parser", "main", "parse"]

#: The subcommands, in ``--help`` order.
COMMANDS: dict[str, Command] = {
    c.name: c
    for c in (
        compare.COMMAND, surface.COMMAND, train_command.COMMAND, lr_find.COMMAND,
        schedule.COMMAND, reproduce.COMMAND, suite.COMMAND, datasets.COMMAND, gradcheck.COMMAND,
        check_optimizer.COMMAND, bench.COMMAND, playground.COMMAND,
    )
}  # fmt: skip


class Invocation(NamedTuple):
    """A parsed command line: the command, its typed config and the output options."""

    command: Command
    config: Any
    output: OutputOptions
    argv: list[str]


class Parser(argparse.ArgumentParser):
    """The ``gdlab`` parser; ``subcommands`` holds each subcommand's own parser, so that a usage
    error in ``gdlab train ...`` shows train's usage, not the top-level one."""

    subcommands: dict[str, argparse.ArgumentParser]


def build_parser() -> Parser:
    """The ``gdlab`` argument parser with every subcommand."""
    parser = Parser(
        prog="gdlab",
        description="A gradient-descent laboratory: compare optimizers fairly, see them move, "
        "reproduce the articles.",
    )
    parser.add_argument("--version", action="version", version=f"gdlab {gdlab.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parser.subcommands = {name: c.add_parser(sub) for name, c in COMMANDS.items()}
    return parser


def parse(parser: Parser, argv: list[str]) -> Invocation:
    """Parse ``argv`` into the command's typed config; ``bench`` keeps every argument after it,
    in order, for the suite. Usage errors exit (``SystemExit``, code 2) as argparse does."""
    ns, extra = parser.parse_known_args(argv)
    if ns.command == "bench":
        rest = argv[argv.index("bench") + 1 :]
        ns.bench_args = rest[1:] if rest[:1] == ["--"] else rest
    own = parser.subcommands[ns.command]
    if extra and ns.command != "bench":
        own.error(f"unrecognized arguments: {' '.join(extra)}")
    command = COMMANDS[ns.command]
    if command.config_file:
        ns = _with_file_settings(command, own, parser, argv, ns)
    config = command.configure(ns)
    if isinstance(config, str):  # a constraint between arguments is violated
        own.error(config)
    output = from_namespace(OutputOptions, ns)
    return Invocation(command, config, output, argv)


def _with_file_settings(
    command: Command,
    own: argparse.ArgumentParser,
    parser: Parser,
    argv: list[str],
    ns: argparse.Namespace,
) -> argparse.Namespace:
    """Parse again with ``--config``/``--resume``'s settings as the defaults (flags win);
    ``--resume DIR`` also writes to DIR unless ``--out`` says otherwise."""
    try:
        settings = command.file_settings(ns)
    except ConfigError as exc:
        own.error(str(exc))
    if settings:
        own.set_defaults(**settings)
        ns, _ = parser.parse_known_args(argv)
    if getattr(ns, "resume_dir", None) and not getattr(ns, "out", None):
        ns.out = ns.resume_dir
    return ns


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``gdlab`` with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        inv = parse(parser, argv)
    except SystemExit as exc:  # --help / --version (0) or a usage error (2)
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    if isinstance(inv.config, Threads):  # --threads, on every command that trains
        gdlab.set_num_threads(inv.config.threads)
    session = Session(inv.command.name, inv.argv, inv.output)
    return execute(inv.command.run, inv.config, session)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
