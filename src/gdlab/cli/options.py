"""Command-line options from typed configs: each dataclass field with an ``option`` spelling
becomes one argument, and the parsed values become the dataclass again.

The namespace argparse returns never leaves ``gdlab.cli.parse``: every command receives its
typed config (and the ``OutputOptions``), not the namespace.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

from gdlab.lab.config import Option, option
from gdlab.lab.sweeps.placement import PLACEMENT_FIELDS, Placement

__all__ = ["OutputOptions", "add_command_options", "add_options", "from_namespace"]

T = TypeVar("T")


@dataclass
class OutputOptions:
    """Where and how a command reports: the run directory and the terminal output."""

    out: str | None = option(
        None, "--out", metavar="DIR",
        help="run directory (default: ./gdlab-runs/<command>-<timestamp>)",
    )  # fmt: skip
    quiet: bool = option(False, "--quiet", "-q", action="store_true",
                         help="no progress bars or tables")  # fmt: skip
    format: str = option("text", "--format", choices=("text", "json"),
                         help="text (default) or one JSON document on stdout")  # fmt: skip
    traceback: bool = option(False, "--traceback", action="store_true",
                             help="show the traceback on failure")  # fmt: skip


def _shown_default(default: Any) -> str | None:
    """The default as ``--help`` shows it, or None when there is none to show (None, an
    off flag, an empty list)."""
    if default is None or default is False or default == []:
        return None
    if isinstance(default, list | tuple):
        text = " ".join(str(v) for v in default)
    else:
        text = str(default)
    return text.replace("%", "%%")  # argparse %-formats help strings


def _argument(name: str, default: Any, opt: Option) -> tuple[tuple[str, ...], dict[str, Any]]:
    """``add_argument``'s positional and keyword arguments for one field."""
    choices = opt.choices() if callable(opt.choices) else opt.choices
    kwargs: dict[str, Any] = {"default": default}
    if opt.parser_default is not dataclasses.MISSING:
        kwargs["default"] = opt.parser_default
    if opt.help is not None:
        kwargs["help"] = opt.help.format(choices=", ".join(choices or ()))
    shown = _shown_default(kwargs["default"])
    if shown is not None and "default" not in kwargs.get("help", ""):
        kwargs["help"] = f"{kwargs.get('help', '')} (default: {shown})".lstrip()
    if opt.action is not None:
        kwargs["action"] = opt.action
    for key in ("type", "nargs", "metavar"):
        if getattr(opt, key) is not None:
            kwargs[key] = getattr(opt, key)
    if choices is not None:
        kwargs["choices"] = list(choices)
    if opt.flags[0].startswith("-"):
        return opt.flags, kwargs | {"dest": name}
    return (name,), kwargs


def add_options(
    parser: argparse.ArgumentParser | Any,
    cls: type,
    skip: tuple[str, ...] = (),
    only: tuple[str, ...] | None = None,
) -> None:
    """One argument per field of ``cls`` that has an ``option`` spelling (not in ``skip``;
    with ``only``, just those)."""
    for f in dataclasses.fields(cls):
        opt = f.metadata.get("cli")
        if opt is None or f.name in skip or (only is not None and f.name not in only):
            continue
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        args, kwargs = _argument(f.name, default, opt)
        parser.add_argument(*args, **kwargs)


def add_command_options(
    parser: argparse.ArgumentParser, cls: type | None, writes: bool = True
) -> None:
    """The options of config ``cls``, the group "where the trials run" (a ``Placement``
    config's executor), then the group "common options": ``--out`` (when the
    command ``writes`` a run directory), the config's ``--seed``, ``--quiet``, ``--format``,
    ``--traceback``."""
    if cls is not None:
        placed = issubclass(cls, Placement)  # its fields (--threads too) get their own group
        add_options(parser, cls, skip=("seed", *(PLACEMENT_FIELDS if placed else ())))
        if placed:
            add_options(parser.add_argument_group("where the trials run"), Placement)
    common = parser.add_argument_group("common options")
    add_options(common, OutputOptions, only=("out",) if writes else ())
    if cls is not None:
        add_options(common, cls, only=("seed",))
    add_options(common, OutputOptions, skip=("out",))


def from_namespace(cls: type[T], ns: argparse.Namespace, **fixed: Any) -> T:
    """``cls`` built from the parsed values of its fields (``fixed`` ones given here)."""
    values = {f.name: getattr(ns, f.name) for f in dataclasses.fields(cls) if hasattr(ns, f.name)}
    return cls(**(values | fixed))
