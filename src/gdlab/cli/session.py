"""One command being run: its run directory, progress bar, result, printing and exit code.

A ``Session`` is made by ``gdlab.cli.main`` after parsing; the command's ``run(config,
session)`` opens its run directory through it and returns ``session.result(...)``.
``execute`` prints the result (text, or one JSON document with ``--format json``) and turns
failures into exit codes: 1 failure, 2 configuration error, 130 interrupted (Ctrl-C; a run
directory this command made and left without results is removed), 143 terminated (SIGTERM,
after writing what was finished). The run directory is locked while the command runs.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gdlab._runlock import RunLock
from gdlab.cli.options import OutputOptions
from gdlab.lab.config import ConfigError
from gdlab.lab.output.rundir import (
    OWNER_FILE,
    RunDir,
    check_owner,
    claim,
    default_out_dir,
    to_jsonable,
)

__all__ = ["Session", "execute"]

#: A missing optional module -> the gdlab extra that installs it.
EXTRAS = {"matplotlib": "plot", "sklearn": "data", "tqdm": "progress", "tomli": "lab"}


@dataclass
class Session:
    """The command's name, its command line and output options, and the run directory it
    opened (``setup`` names files written before any result, e.g. train's ``config.toml``)."""

    command: str
    argv: list[str] = field(default_factory=list)
    output: OutputOptions = field(default_factory=OutputOptions)
    run_dir: RunDir | None = None
    run_dir_is_new: bool = False
    setup: tuple[str, ...] = ()
    bar: Any = None  # the progress bar drawn on stderr, closed before anything is printed
    lock: RunLock | None = None

    @property
    def command_line(self) -> str:
        """``gdlab <argv>``, shown in reports."""
        return " ".join(["gdlab", *self.argv])

    def open_run_dir(
        self, name: str | None = None, default: Any = None, setup: tuple[str, ...] = ()
    ) -> RunDir:
        """The run directory (``--out``, else ``default``, else a new timestamped one named
        after ``name`` or the command), locked for this process until the command ends: a
        second command writing there fails (``RunDirLocked``) instead of mixing files, and a
        directory holding another command's run (``.gdlab-run``) is refused (``ConfigError``)."""
        path = Path(self.output.out or default or default_out_dir(name or self.command))
        owner = name or self.command
        check_owner(path, owner)  # before anything is written: another command's run stays
        self.run_dir_is_new = not path.exists()  # only a directory made here is removed
        self.setup = (*setup, OWNER_FILE)
        self.run_dir = RunDir(path)
        self.lock = RunLock(path).acquire()
        claim(path, owner)
        return self.run_dir

    def release(self) -> None:
        """Release the run directory's lock (at the end of the command)."""
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def progress(
        self, total: float | None = None, weighted: bool = False
    ) -> Callable[..., None] | None:
        """A progress callback ``update(msg, amount=1)`` drawing on stderr (tqdm when
        installed), or None when quiet, printing JSON or not on a terminal. A ``weighted``
        bar counts work (``amount`` per call, ``total`` in all) and shows a percentage and
        the time left, not a count of runs."""
        if not self.wants_bar():
            return None
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - tqdm is an optional extra
            return lambda msg, amount=1: print(msg, file=sys.stderr)
        fmt = "{desc}{percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]" if weighted else None
        bar = self.bar = tqdm(total=total, file=sys.stderr, unit="run", leave=False, bar_format=fmt)

        def update(msg: str, amount: float = 1) -> None:
            bar.set_description(msg[:60], refresh=False)
            bar.update(amount)

        return update

    def close_progress(self) -> None:
        """Close the progress bar (if any), so the next line starts on a line of its own."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def wants_bar(self) -> bool:
        """A progress bar may be drawn (text output on a terminal, not quiet)."""
        return not self.output.quiet and self.output.format == "text" and self.on_terminal()

    def wants_lines(self) -> bool:
        """Progress lines (one per epoch) may be written on stderr: text output, not quiet."""
        return not self.output.quiet and self.output.format == "text"

    def on_terminal(self) -> bool:
        """stderr, where bars are drawn, is a terminal (not a pipe, a file or CI's log)."""
        return sys.stderr.isatty()

    def reported(self, text: str, **data: Any) -> dict[str, Any]:
        """``result`` of a command that wrote a report: ``text``, then the report's path
        (``data["report"]``) after a blank line."""
        return self.result(f"{text}\n\nreport: {data['report']}", **data)

    def lab_result(self, out: dict[str, Any]) -> dict[str, Any]:
        """``result`` of a lab function's output: its ``"text"`` shown, the rest as data."""
        return self.result(out["text"], **{k: v for k, v in out.items() if k != "text"})

    def result(self, text: str, **data: Any) -> dict[str, Any]:
        """The command's result: its name, run directory and files, ``data``, and ``text``
        (what the terminal shows). ``-q`` prints only ``data["report"]`` (a path), or all of
        ``text`` for a command whose text is its product (``data["product"]`` true)."""
        out: dict[str, Any] = {"command": self.command}
        if self.run_dir is not None:
            out["run_dir"] = str(self.run_dir.path)
            out["files"] = sorted(p.name for p in self.run_dir.files())
        return out | data | {"text": text}

    def leftover_run_dir(self) -> Path | None:
        """The run directory if the failed command left results in it. One this command made
        that holds no result (empty, or only its ``setup`` files) is removed."""
        self.release()
        if self.run_dir is None or not self.run_dir_is_new:
            return None  # a user's own directory is never removed
        where = self.run_dir.path
        try:
            entries = list(where.iterdir())
            if entries and all(p.name in self.setup and p.is_file() for p in entries):
                for p in entries:
                    p.unlink()
            where.rmdir()  # only succeeds when empty
        except OSError:
            return where
        return None


def _emit(result: dict[str, Any], output: OutputOptions) -> None:
    if output.format == "json":
        data = {k: v for k, v in result.items() if k not in ("text", "exit_code", "product")}
        sys.stdout.write(json.dumps(to_jsonable(data), indent=2, sort_keys=True) + "\n")
    elif output.quiet:
        if result.get("product"):
            print(result["text"])
        elif result.get("report"):
            print(result["report"])
    else:
        print(result.get("text", ""))


def _fail(session: Session, exc: BaseException, code: int) -> int:
    if session.output.traceback:
        traceback.print_exception(exc)
    name = getattr(exc, "name", None)
    if isinstance(exc, ModuleNotFoundError) and name in EXTRAS:
        exc = ModuleNotFoundError(f"{exc}; install it with: pip install gdlab[{EXTRAS[name]}]")
    print(f"gdlab {session.command}: error: {exc}", file=sys.stderr)
    return code


def execute(run: Callable[[Any, Session], dict[str, Any]], config: Any, session: Session) -> int:
    """Run ``run(config, session)``, print its result; return the exit code (1 failure,
    2 configuration error, 130 interrupted)."""
    try:
        try:
            result = run(config, session)
        finally:
            session.close_progress()
    except KeyboardInterrupt as exc:  # Ctrl-C: 130; SIGTERM (lab.training.Terminated): 143
        where = session.leftover_run_dir()
        tail = f"; partial results in {where}" if where else ""
        what = str(exc) or "interrupted"
        print(f"gdlab {session.command}: {what}{tail}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 130))
    except ConfigError as exc:
        session.leftover_run_dir()
        return _fail(session, exc, 2)
    except Exception as exc:  # noqa: BLE001 - the CLI turns every failure into exit code 1
        session.leftover_run_dir()
        return _fail(session, exc, 1)
    session.release()
    _emit(result, session.output)
    return int(result.get("exit_code", 0))
