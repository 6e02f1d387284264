"""Run configurations: TOML in, ``--set key=value`` overrides, TOML out.

A configuration is a nested dict. ``gdlab train`` resolves it in three layers, later wins:
the defaults below, the user's TOML file, then ``--set section.key=value`` overrides; the
resolved dict is written to the run directory as ``config.toml`` so the run can be repeated
with ``gdlab train run-dir/config.toml``.

Override values are parsed as TOML literals, so types come out right without a schema:
``optimizer.lr=1e-3`` is a float, ``train.epochs=5`` an int, ``data.shuffle=false`` a bool,
``model.hidden=[64, 32]`` a list; anything that is not a TOML literal is a string
(``optimizer.name=adam``). A key must already exist in the defaults (so a typo is an error
that lists the valid keys), except under ``[optimizer]``, whose extra keys are passed to the
optimizer's constructor (``optimizer.momentum=0.9``).
"""

from __future__ import annotations

import copy
import math
import os
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any


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
    "TRAIN_DEFAULTS",
    "apply_overrides",
    "dumps_toml",
    "load_toml",
    "loads_toml",
    "merge_config",
    "parse_override",
    "resolve_train_config",
]

# The settings of `gdlab train`. batch_size: 0 means the full batch (batch gradient descent),
# 1 stochastic, b mini-batch (TOML has no null).
TRAIN_DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "data": {"name": "digits", "batch_size": 32, "val_fraction": 0.2, "standardize": True},
    "model": {"hidden": [32], "activation": "relu"},
    "optimizer": {"name": "sgd", "lr": 0.1},
    "schedule": {"name": "constant"},
    "train": {"epochs": 10, "grad_clip_norm": 0.0, "checkpoint_every": 1},
}

_OPEN_SECTIONS = ("optimizer", "schedule")  # free-form keys passed on as keyword arguments


class ConfigError(ValueError):
    """A configuration file or override is malformed; the message names the file or key."""


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
            valid = ", ".join(_valid_keys(defaults))
            raise ConfigError(f"unknown setting {'.'.join(path)!r} (valid: {valid})")
        if last:
            node[part] = value
        else:
            node = node.setdefault(part, {})
            ref = ref.get(part)


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


def resolve_train_config(
    path: str | os.PathLike | None = None, overrides: Iterable[str] = ()
) -> dict[str, Any]:
    """Defaults, then the TOML file at ``path`` (if any), then the overrides."""
    config = merge_config(TRAIN_DEFAULTS, load_toml(path) if path else {})
    return apply_overrides(config, overrides)


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
