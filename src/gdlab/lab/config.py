"""Run configurations: typed settings per command, TOML in, ``--set key=value`` overrides, TOML out.

Every command's settings are one dataclass (``CompareConfig``, ``SurfaceConfig``,
``TrainConfig``...) whose fields carry their command-line spelling (``option``): the parser is
built from the fields, the function takes the dataclass, and the run directory's
``config.toml`` is written from it, so an option is spelled once.

``gdlab train`` resolves its nested configuration in three layers, later wins: the defaults
(``TrainConfig()``), the user's TOML file, then ``--set section.key=value`` overrides; the
resolved config is written to the run directory as ``config.toml`` so the run can be repeated
with ``gdlab train run-dir/config.toml``.

Override values are parsed as TOML literals, so types come out right without a schema:
``optimizer.lr=1e-3`` is a float, ``train.epochs=5`` an int, ``data.shuffle=false`` a bool,
``model.hidden=[64, 32]`` a list; anything that is not a TOML literal is a string
(``optimizer.name=adam``). A key must already exist in the defaults (so a typo is an error
that lists the valid keys), except under ``[optimizer]``, whose extra keys are passed to the
optimizer's constructor (``optimizer.momentum=0.9``).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import difflib
import inspect
import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple


def _tomllib() -> Any:
    """tomllib (Python >= 3.11) or its backport tomli (installed with ``gdlab[lab]``)."""
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    try:  # pragma: no cover - Python 3.10
        import tomli
    except ImportError:  # pragma: no cover
        raise ImportError(
            "reading TOML on Python 3.10 requires tomli: pip install 'gdlab[lab]' (or tomli)"
        ) from None
    return tomli  # pragma: no cover


__all__ = [
    "ConfigError",
    "Option",
    "apply_overrides",
    "check_arguments",
    "check_type",
    "did_you_mean",
    "dumps_toml",
    "fields_from_toml",
    "fraction",
    "load_toml",
    "loads_toml",
    "merge_config",
    "nonneg_int",
    "option",
    "parse_override",
    "positive_float",
    "positive_int",
    "seed_option",
    "Threads",
]

_OPEN_SECTIONS = ("optimizer", "schedule")  # free-form keys passed on as keyword arguments


class ConfigError(ValueError):
    """A configuration file or override is malformed; the message names the file or key."""


# --------------------------------------------------------------------------- typed settings
class Option(NamedTuple):
    """How a config field is spelled on the command line (``argparse.add_argument``'s
    arguments); ``choices`` may be a function, called when the parser is built."""

    flags: tuple[str, ...]
    help: str | None = None
    type: Callable[[str], Any] | None = None
    nargs: str | None = None
    choices: Sequence[str] | Callable[[], Sequence[str]] | None = None
    metavar: str | None = None
    action: str | None = None
    parser_default: Any = dataclasses.MISSING  # when the parser's default is not the field's


def option(default: Any, *flags: str, factory: bool = False, **spec: Any) -> Any:
    """A dataclass field with its command-line spelling (``Option``); with ``factory`` the
    default is copied for every instance (lists).

    Example:
        >>> epochs: int = option(15, "--epochs", type=positive_int, help="epochs per run")
    """
    cli = {"cli": Option(flags, **spec)}
    if factory:
        return dataclasses.field(default_factory=lambda: copy.deepcopy(default), metadata=cli)
    return dataclasses.field(default=default, metadata=cli)


def _number(kind: type, text: str) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {kind.__name__}, got {text!r}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A float > 0 (learning rates, targets)."""
    value = _number(float, text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def fraction(text: str) -> float:
    """A float in (0, 1)."""
    value = _number(float, text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An int >= 1 (epochs, steps, trials, seeds)."""
    value = _number(int, text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def nonneg_int(text: str) -> int:
    """An int >= 0 (seeds, a tuning budget of 0 = no tuning)."""
    value = _number(int, text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}")
    return value


def seed_option(default: int | None = 0, help: str = "random seed (default: 0)") -> Any:
    """``--seed N``: every command's seed, spelled once."""
    return option(default, "--seed", type=nonneg_int, help=help)


@dataclasses.dataclass
class Threads:
    """``--threads N``: the threads a command that trains computes with, spelled once (the
    configs of those commands inherit it; the CLI calls ``gdlab.set_num_threads``).

    The default is 1. The lab's models are small, and NumPy's OpenBLAS threads spin-wait at
    every product: on this 2-core machine under load (load average 9-11), 2 threads made a
    64-128-10 MLP step 24x slower than 1 (1.7 vs 41 ms), 784-256-256-10 at batch 128 16x and
    at batch 1024 6x (docs/benchmarks.md, "Threads"). On an idle machine 2 threads speed up
    large batches (batch 1024: up to 1.7x); pass ``--threads 2`` there.
    """

    threads: int = option(
        1, "--threads", type=positive_int, metavar="N",
        help="threads for NumPy's BLAS and the optimizer (gdlab.set_num_threads); the lab's "
        "small models run fastest on 1, more helps only large batches on idle cores",
    )  # fmt: skip


# --------------------------------------------------------------------------- TOML


def loads_toml(text: str, source: str = "<string>") -> dict[str, Any]:
    """Parse TOML text; errors carry the source name and tomllib's line and column."""
    toml = _tomllib()
    try:
        return toml.loads(text)
    except toml.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from None


def load_toml(path: str | os.PathLike) -> dict[str, Any]:
    """Read a TOML file (``FileNotFoundError``/``ConfigError`` name the path)."""
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text: {exc}") from None
    return loads_toml(text, source=str(path))


def parse_override(item: str) -> tuple[list[str], Any]:
    """``"a.b=1e-3"`` -> ``(["a", "b"], 0.001)``; the value is a TOML literal or a string.

    Example:
        >>> parse_override("optimizer.betas=[0.9, 0.99]")
        (['optimizer', 'betas'], [0.9, 0.99])
    """
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key or not re.fullmatch(r"[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*", key):
        raise ConfigError(f"--set: expected key=value with a dotted key, got {item!r}")
    raw = raw.strip()
    toml = _tomllib()
    try:
        value = toml.loads(f"v = {raw}")["v"]
    except toml.TOMLDecodeError:
        value = raw
    return key.split("."), value


def _valid_keys(tree: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for k, v in tree.items():
        if isinstance(v, Mapping):
            keys.extend(_valid_keys(v, f"{prefix}{k}."))
        else:
            keys.append(prefix + k)
    return keys


def _set(config: dict[str, Any], path: list[str], value: Any, defaults: Mapping[str, Any]) -> None:
    node: dict[str, Any] = config
    ref: Any = defaults
    for i, part in enumerate(path):
        last = i == len(path) - 1
        open_section = i == 1 and path[0] in _OPEN_SECTIONS
        if not isinstance(ref, Mapping) or (part not in ref and not open_section):
            key, valid = ".".join(path), _valid_keys(defaults)
            raise ConfigError(f"unknown setting {key!r}{did_you_mean(key, valid)} (valid: "
                              f"{', '.join(valid)})")  # fmt: skip
        if last:
            node[part] = value
        else:
            node = node.setdefault(part, {})
            ref = ref.get(part)


def did_you_mean(name: str, valid: Iterable[str]) -> str:
    """``"; did you mean 'momentum'?"`` for the nearest valid name, or ``""``."""
    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_type(key: str, value: Any, like: Any) -> None:
    """``ConfigError`` naming ``key`` unless ``value`` has the type of the default ``like``
    (an int is a valid float; a list's items are checked against the default's first)."""
    if like is None or value is None:
        return
    if isinstance(like, bool) or isinstance(value, bool):
        ok = isinstance(value, bool) and isinstance(like, bool)
    elif isinstance(like, int | float):
        ok = isinstance(value, int | float) and (isinstance(like, float) or isinstance(value, int))
    elif isinstance(like, list):
        ok = isinstance(value, list)
        if ok and like and value:
            for i, item in enumerate(value):
                check_type(f"{key}[{i}]", item, like[0])
    else:
        ok = isinstance(value, type(like))
    if not ok:
        kind = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
                list: "a list"}.get(type(like), type(like).__name__)  # fmt: skip
        raise ConfigError(f"{key} must be {kind}, got {value!r}")


_NUMBER_ANNOTATIONS = {"int", "float", "int | None", "float | None", "int | float"}


def fields_from_toml(
    cls: type, data: Mapping[str, Any], source: str, derived: Iterable[str] = ()
) -> dict[str, Any]:
    """The fields of config class ``cls`` a TOML table sets, checked as the command line checks
    them (the option's type and choices), so ``--config run.toml`` and the flags are one
    config. ``derived`` keys (what the run's ``config.toml`` adds, e.g. compare's
    ``lr_ranges``) are skipped; any other unknown key is a ``ConfigError`` naming ``source``,
    the key and the nearest valid one.

    Example:
        >>> fields_from_toml(CompareConfig, {"epochs": 5}, "run.toml")
        {'epochs': 5}
    """
    specs = {f.name: f for f in dataclasses.fields(cls) if "cli" in f.metadata}
    skip = set(derived)
    out = {}
    for key, value in data.items():
        if key in skip:
            continue
        if key not in specs:
            raise ConfigError(
                f"{source}: unknown setting {key!r}{did_you_mean(key, specs)} (valid: "
                f"{', '.join(specs)})"
            )
        out[key] = _option_value(f"{source}: {key}", value, specs[key])
    return out


def _option_value(where: str, value: Any, f: dataclasses.Field) -> Any:
    """``value`` checked (and converted) by the field's option as if it were typed on the
    command line: each item of a list, the type function, the choices."""
    opt: Option = f.metadata["cli"]
    many = opt.nargs in ("*", "+") or opt.action == "append"
    if many != isinstance(value, list):
        raise ConfigError(f"{where} must be {'a list' if many else 'a single value'}, "
                          f"got {value!r}")  # fmt: skip
    items = value if many else [value]
    choices = opt.choices() if callable(opt.choices) else opt.choices
    checked = []
    for item in items:
        if isinstance(item, dict | list) or (opt.action == "store_true") != isinstance(item, bool):
            raise ConfigError(f"{where}: invalid value {item!r}")
        if opt.type is not None:
            try:
                item = opt.type(str(item))
            except (argparse.ArgumentTypeError, ValueError) as exc:
                raise ConfigError(f"{where}: {exc}") from None
        if choices is not None and item not in choices:
            raise ConfigError(f"{where}: invalid choice {item!r}{did_you_mean(str(item), choices)}"
                              f" (choose from {', '.join(map(str, choices))})")  # fmt: skip
        checked.append(item)
    return checked if many else checked[0]


def check_arguments(
    fn: Callable[..., Any],
    kwargs: Mapping[str, Any],
    where: str,
    args: Sequence[Any] = (),
    given: Mapping[str, Any] | None = None,
    sep: str = ".",
) -> None:
    """``ConfigError`` naming ``<where><sep><key>`` when ``fn(*args, **given, **kwargs)`` (the
    config's ``kwargs``, the caller's ``args`` and ``given``) cannot be called:
    a key ``fn`` does not take (with the nearest valid one), a missing argument, or text where
    ``fn`` takes a number (``t_max=abc``)."""
    sig = inspect.signature(fn)
    params = sig.parameters
    name = getattr(fn, "__name__", type(fn).__name__)
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        valid = [k for k in params if k not in ("self", "params")]
        for key in kwargs:
            if key not in params:
                raise ConfigError(
                    f"{where}{sep}{key}: {name} takes no argument {key!r}"
                    f"{did_you_mean(key, valid)} (valid: {', '.join(valid)})"
                )
    for key, value in kwargs.items():
        p = params.get(key)
        numeric = p is not None and (
            str(p.annotation) in _NUMBER_ANNOTATIONS
            or (isinstance(p.default, int | float) and not isinstance(p.default, bool))
        )
        if numeric and isinstance(value, str):
            raise ConfigError(f"{where}{sep}{key} must be a number, got {value!r}")
    try:
        sig.bind(*args, **(given or {}), **kwargs)
    except TypeError as exc:
        raise ConfigError(f"{where.rstrip(':')}: {name}{sig}: {exc}") from None


def merge_config(defaults: Mapping[str, Any], user: Mapping[str, Any]) -> dict[str, Any]:
    """``defaults`` updated by ``user`` recursively; unknown keys raise ``ConfigError``."""
    out = copy.deepcopy(dict(defaults))

    def walk(tree: Mapping[str, Any], prefix: list[str]) -> None:
        for k, v in tree.items():
            if isinstance(v, Mapping) and not (prefix and prefix[0] in _OPEN_SECTIONS):
                walk(v, [*prefix, k])
            else:
                _set(out, [*prefix, k], copy.deepcopy(v), defaults)

    walk(user, [])
    return out


def apply_overrides(config: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """A copy of ``config`` with each ``key=value`` override applied (see module docstring)."""
    out = copy.deepcopy(dict(config))
    for item in overrides:
        path, value = parse_override(item)
        _set(out, path, value, config)
    return out


# ---------------------------------------------------------------------------------------------
# TOML writer: the subset a run configuration needs (tables, scalars, arrays of scalars).

_BARE_KEY = re.compile(r"[A-Za-z0-9_\-]+")


def _key(k: str) -> str:
    return k if _BARE_KEY.fullmatch(k) else _string(k)


def _string(s: str) -> str:
    esc = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{esc}"'


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    if hasattr(v, "item"):  # numpy scalar
        return _scalar(v.item())
    raise TypeError(f"dumps_toml: cannot write a value of type {type(v).__name__}: {v!r}")


def dumps_toml(config: Mapping[str, Any]) -> str:
    """Write a nested dict as TOML; ``None`` values are written as comments (TOML has no null).

    ``loads_toml(dumps_toml(c)) == c`` for dicts of strings, numbers, booleans, lists and
    nested dicts without None.
    """
    lines: list[str] = []

    def table(tree: Mapping[str, Any], prefix: list[str]) -> None:
        scalars = [(k, v) for k, v in tree.items() if not isinstance(v, Mapping)]
        tables = [(k, v) for k, v in tree.items() if isinstance(v, Mapping)]
        if prefix and (scalars or not tables):
            lines.append("")
            lines.append("[" + ".".join(_key(p) for p in prefix) + "]")
        for k, v in scalars:
            lines.append(f"# {_key(k)} = (none)" if v is None else f"{_key(k)} = {_scalar(v)}")
        for k, v in tables:
            table(v, [*prefix, k])

    table(config, [])
    return "\n".join(lines).lstrip("\n") + "\n"
