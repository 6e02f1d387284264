"""``gdlab bench``: run the benchmark suite (``python -m benchmarks``) of a source checkout.

The suite lives in ``benchmarks/`` at the top of the repository and is not installed with the
package, so the command looks for a checkout: from the current directory upwards, then from the
installed package upwards (an editable install, ``pip install -e``, points into one).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gdlab
from gdlab.cli.command import Command
from gdlab.cli.session import Session

__all__ = ["COMMAND", "NO_CHECKOUT", "find_checkout", "run_bench"]

NO_CHECKOUT = (
    "gdlab bench runs the benchmark suite from a source checkout "
    "(benchmarks/ is not installed with the package)"
)


def find_checkout(start: str | os.PathLike | None = None) -> Path | None:
    """The folder holding ``benchmarks/__main__.py``, searched from ``start`` (default: the
    current directory) upwards, then from the installed ``gdlab`` package upwards; or None.

    Example:
        >>> find_checkout("/work/main/src")  # doctest: +SKIP
        PosixPath('/work/main')
    """
    starts = [Path(start or Path.cwd()).resolve(), Path(gdlab.__file__).resolve().parent]
    for here in starts:
        for folder in (here, *here.parents):
            if (folder / "benchmarks" / "__main__.py").is_file():
                return folder
    return None


def run_bench(argv: Sequence[str], start: str | os.PathLike | None = None) -> int:
    """Run ``python -m benchmarks *argv`` in the checkout and return its exit code.

    Its output goes straight to this process's stdout/stderr. Outside a checkout the reason is
    printed to stderr and the exit code is 2 (a usage error: nothing to run).
    """
    root = find_checkout(start)
    if root is None:
        print(NO_CHECKOUT, file=sys.stderr)
        return 2
    return subprocess.call([sys.executable, "-m", "benchmarks", *argv], cwd=root)


def add_parser(sub: Any, command: Command) -> argparse.ArgumentParser:
    """No options of its own: every argument after ``bench`` goes to the suite."""
    p = sub.add_parser(
        command.name,
        help=command.help,
        description=command.description,
        usage="gdlab bench [-h] [ARG ...]",
    )
    p.set_defaults(quiet=True)  # the suite prints its own output
    return p


def configure(ns: argparse.Namespace) -> list[str]:
    """The suite's arguments (``gdlab.cli.parse`` keeps everything after ``bench``)."""
    return list(ns.bench_args)


def run(bench_args: list[str], session: Session) -> dict[str, Any]:
    return {"command": "bench", "exit_code": run_bench(bench_args)}


COMMAND = Command(
    "bench",
    help="run the benchmark suite (source checkout only)",
    description="Run `python -m benchmarks` in the source checkout (found from the current "
    "directory upwards, or beside an editable install); every argument after `bench` is "
    "passed on, e.g. `gdlab bench --smoke --only digits`. `gdlab bench -- --help` shows "
    "the suite's own options.",
    config=None,
    run=run,
    writes=False,
    custom_parser=add_parser,
    custom_configure=configure,
)
