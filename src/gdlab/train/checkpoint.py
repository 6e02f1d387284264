"""Checkpoints: one directory per checkpoint, NumPy ``.npz`` + JSON, no pickle, written atomically.

Layout of ``<run_dir>/checkpoints/step-000000123/``::

    state.json     the nested state (model, optimizer, scheduler, loader, RNG states, history,
                   counters) with every array replaced by a reference into state.npz
    state.npz      the arrays (np.load(allow_pickle=False) reads them back, dtype exact)
    config.json    the run's configuration (``config=``), if given: a resume can check it
    manifest.json  written last: size and SHA-256 of the files above

The directory is assembled under a temporary name (``.tmp-<pid>-...``) and renamed with
``os.replace``, so a process killed at any instant leaves either the previous checkpoint or
the new one, never a half-written one under a checkpoint name. The writer's process id in the
temporary names lets :func:`clean_stale` remove only the leftovers of processes that are gone.
Symbolic links named like checkpoints are neither loaded nor pruned. Loading verifies the
manifest first; a truncated or corrupt checkpoint raises :class:`CheckpointError` naming the
file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from gdlab._atomic import fsync_dir, naming, pid_alive, synced_open
from gdlab._checksum import file_sha256 as _sha256
from gdlab.tensor import Tensor
from gdlab.train._checks import check_count

__all__ = [
    "CheckpointError",
    "clean_stale",
    "decode_state",
    "encode_state",
    "find_checkpoints",
    "latest_checkpoint",
    "load_checkpoint",
    "load_checkpoint_config",
    "save_checkpoint",
]

FORMAT = "gdlab-checkpoint-1"
_NAME = re.compile(r"^step-(\d+)$")
_TMP_PREFIX = ".tmp-"
_REQUIRED = {"state.json", "state.npz"}
_TMP_PID = re.compile(r"^\.tmp-(\d+)-")  # .tmp-<pid>-<kind>-<name>-<random>
_LEGACY_TMP_PID = re.compile(r"^\.tmp-step-\d+-(\d+)-[0-9a-f]+$")  # before the pid came first


class CheckpointError(ValueError):
    """A checkpoint that cannot be read: missing, truncated, corrupt or of another format."""


# ------------------------------------------------------------------------- encoding
def encode_state(obj: Any, arrays: dict[str, np.ndarray], path: str = "") -> Any:
    """Replace arrays/tensors/tuples/non-str-keyed dicts in ``obj`` by JSON-able markers.

    Arrays go into ``arrays`` under their path (``"optimizer/state/0/exp_avg"``); numbers,
    strings, lists and str-keyed dicts stay as they are. Python floats survive JSON exactly.
    """
    if obj is None or (
        isinstance(obj, bool | int | float | str) and not isinstance(obj, np.generic)
    ):
        return obj
    if isinstance(obj, Tensor | np.ndarray | np.generic):
        arr = np.asarray(obj.data if isinstance(obj, Tensor) else obj)
        if arr.dtype.hasobject:
            raise TypeError(f"save_checkpoint: object array at {path!r} cannot be saved")
        key = path or "value"
        while key in arrays:
            key += "_"
        arrays[key] = np.array(arr, copy=True)
        kind = "tensor" if isinstance(obj, Tensor) else "ndarray"
        kind = "scalar" if isinstance(obj, np.generic) else kind
        return {"__array__": key, "kind": kind}
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: encode_state(v, arrays, f"{path}/{k}") for k, v in obj.items()}
        return {
            "__items__": [
                [encode_state(k, arrays, path), encode_state(v, arrays, f"{path}/{k}")]
                for k, v in obj.items()
            ]
        }
    if isinstance(obj, tuple):
        return {"__tuple__": [encode_state(v, arrays, f"{path}/{i}") for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [encode_state(v, arrays, f"{path}/{i}") for i, v in enumerate(obj)]
    raise TypeError(
        f"save_checkpoint: cannot save a {type(obj).__name__} at {path!r}; state must be "
        "numbers, strings, arrays, lists, tuples and dicts"
    )


def decode_state(obj: Any, arrays: Any) -> Any:
    """Inverse of :func:`encode_state`."""
    if isinstance(obj, list):
        return [decode_state(v, arrays) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__array__" in obj:
        arr = arrays[obj["__array__"]]
        if obj.get("kind") == "scalar":
            return arr[()]
        return Tensor(arr) if obj.get("kind") == "tensor" else arr
    if "__tuple__" in obj:
        return tuple(decode_state(v, arrays) for v in obj["__tuple__"])
    if "__items__" in obj:
        return {decode_state(k, arrays): decode_state(v, arrays) for k, v in obj["__items__"]}
    return {k: decode_state(v, arrays) for k, v in obj.items()}


# ------------------------------------------------------------------------- files
def checkpoint_name(step: int) -> str:
    """``step-<step, 9 digits>``: names sort in step order."""
    check_count("save_checkpoint", "step", step, positive=False)
    return f"step-{step:09d}"


def _temp_name(kind: str, name: str) -> str:
    return f"{_TMP_PREFIX}{os.getpid()}-{kind}-{name}-{uuid.uuid4().hex[:8]}"


def save_checkpoint(
    directory: str | os.PathLike,
    state: dict[str, Any],
    step: int,
    keep_last: int | None = None,
    config: dict[str, Any] | None = None,
) -> Path:
    """Write ``state`` as ``directory/step-<step>/`` atomically and return that path.

    Args:
        directory: the checkpoints directory (created if needed).
        state: nested dicts/lists of numbers, strings and arrays (e.g. ``Trainer.state_dict()``).
        step: the step counter, used for the name and for ordering.
        keep_last: keep only this many newest checkpoints (a positive int; None keeps all).
        config: the run's configuration (JSON-able), stored as ``config.json`` so that a
            resume can be checked against it (:func:`load_checkpoint_config`).
    """
    check_count("save_checkpoint", "keep_last", keep_last, allow_none=True)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / checkpoint_name(step)
    tmp = directory / _temp_name("new", final.name)
    tmp.mkdir()
    try:
        with naming(final):  # a full disk is reported with the checkpoint's path
            _write_files(tmp, state, step, config)
        _replace_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(directory)
    if keep_last is not None:
        for old in find_checkpoints(directory)[:-keep_last]:
            _remove_dir(old)
    return final


def _write_files(tmp: Path, state: dict[str, Any], step: int, config: Any) -> None:
    """The checkpoint's files inside the temporary directory, the manifest last."""
    arrays: dict[str, np.ndarray] = {}
    doc = {"format": FORMAT, "step": step, "state": encode_state(state, arrays)}
    with synced_open(tmp / "state.npz", "wb") as f:
        np.savez(f, **arrays)
    with synced_open(tmp / "state.json", "w") as f:
        json.dump(doc, f, sort_keys=True, allow_nan=True)
    names = ["state.json", "state.npz"]
    if config is not None:
        with synced_open(tmp / "config.json", "w") as f:
            json.dump(config, f, sort_keys=True, allow_nan=False, indent=1)
        names.append("config.json")
    files = {n: {"size": (tmp / n).stat().st_size, "sha256": _sha256(tmp / n)} for n in names}
    with synced_open(tmp / "manifest.json", "w") as f:
        json.dump({"format": FORMAT, "step": step, "files": files}, f, sort_keys=True)


def _replace_dir(src: Path, dst: Path) -> None:
    if not dst.exists():
        os.replace(src, dst)
        return
    # os.replace cannot overwrite a non-empty directory: move the old one aside first
    trash = dst.parent / _temp_name("old", dst.name)
    os.replace(dst, trash)  # a kill between these two leaves the previous checkpoints intact
    os.replace(src, dst)
    shutil.rmtree(trash, ignore_errors=True)


def _remove_dir(path: Path) -> None:
    """Rename out of the checkpoint namespace first, so a kill mid-delete leaves only a temp."""
    trash = path.parent / _temp_name("del", path.name)
    try:
        os.replace(path, trash)
    except OSError:
        return
    shutil.rmtree(trash, ignore_errors=True)


def find_checkpoints(directory: str | os.PathLike) -> list[Path]:
    """Checkpoint directories in ``directory``, oldest first (temp directories and symbolic
    links excluded: a link may point outside the run, and pruning must never follow it)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [
        (int(m.group(1)), p)
        for p in directory.iterdir()
        if (m := _NAME.match(p.name)) and not p.is_symlink() and p.is_dir()
    ]
    return [p for _, p in sorted(found)]


def _writer_pid(name: str) -> int | None:
    m = _TMP_PID.match(name) or _LEGACY_TMP_PID.match(name)
    return int(m.group(1)) if m else None


def clean_stale(directory: str | os.PathLike) -> list[Path]:
    """Remove temp directories left by processes killed while writing; return them.

    A temporary whose writer is still alive (another process writing a checkpoint right now)
    is left alone; one without a process id in its name is a leftover of an older gdlab.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    stale = []
    for p in sorted(directory.iterdir()):
        if not p.name.startswith(_TMP_PREFIX):
            continue
        pid = _writer_pid(p.name)
        if pid is not None and pid_alive(pid):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        stale.append(p)
    return stale


def _previous_hint(path: Path) -> str:
    older = [p for p in find_checkpoints(path.parent) if p.name < path.name]
    if older:
        return f"; try the previous checkpoint {older[-1]}"
    return "; no earlier checkpoint exists in that directory"


def _verify(path: Path) -> dict[str, Any]:
    manifest_path = path / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = manifest["files"]
        if not isinstance(files, dict) or not all(isinstance(i, dict) for i in files.values()):
            raise TypeError("'files' is not a table of {name: {size, sha256}}")
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as e:
        raise CheckpointError(
            f"load_checkpoint: {manifest_path} is missing or corrupt ({e}){_previous_hint(path)}"
        ) from None
    if manifest.get("format") != FORMAT:
        raise CheckpointError(
            f"load_checkpoint: {path} has unknown format {manifest.get('format')!r}"
        )
    names = set(files)
    if not _REQUIRED <= names <= _REQUIRED | {"config.json"}:
        raise CheckpointError(
            f"load_checkpoint: {manifest_path} lists the files {sorted(names)}, not "
            f"{sorted(_REQUIRED)} (and optionally config.json){_previous_hint(path)}"
        )
    for name, info in files.items():
        file = path / name
        if (
            not file.is_file()
            or file.stat().st_size != info.get("size")
            or _sha256(file) != info.get("sha256")
        ):
            raise CheckpointError(
                f"load_checkpoint: {file} is truncated or corrupt (size or SHA-256 differs from "
                f"the manifest){_previous_hint(path)}"
            )
    return manifest


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint directory back into the nested state it was saved from.

    Raises:
        CheckpointError: the directory or a file in it is missing, truncated or corrupt; the
            message names the file and the previous checkpoint to try.
    """
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"load_checkpoint: {path} is not a checkpoint directory")
    _verify(path)
    try:
        doc = json.loads((path / "state.json").read_text(encoding="utf-8"))
        with np.load(path / "state.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        return decode_state(doc["state"], arrays)
    except (OSError, ValueError, KeyError, EOFError) as e:
        raise CheckpointError(
            f"load_checkpoint: cannot read {path} ({type(e).__name__}: {e}){_previous_hint(path)}"
        ) from None


def load_checkpoint_config(path: str | os.PathLike) -> dict[str, Any] | None:
    """The configuration stored with a checkpoint (``save_checkpoint(config=...)``), verified
    against its manifest; None for a checkpoint saved without one."""
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"load_checkpoint_config: {path} is not a checkpoint directory")
    if "config.json" not in _verify(path)["files"]:
        return None
    try:
        return json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CheckpointError(
            f"load_checkpoint_config: cannot read {path / 'config.json'} ({e})"
        ) from None


def latest_checkpoint(directory: str | os.PathLike) -> Path | None:
    """The newest checkpoint in ``directory`` (or ``directory/checkpoints``) that verifies.

    Corrupt ones are skipped with a warning; temp directories are never considered.
    """
    directory = Path(directory)
    if (directory / "checkpoints").is_dir():
        directory = directory / "checkpoints"
    for path in reversed(find_checkpoints(directory)):
        try:
            _verify(path)
            return path
        except CheckpointError as e:
            warnings.warn(f"skipping a corrupt checkpoint: {e}", RuntimeWarning, stacklevel=2)
    return None
