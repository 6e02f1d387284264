"""Weight files: ``gdlab.save(obj, path)`` and ``gdlab.load(path)``, without pickle.

Format: a NumPy ``.npz`` (a zip of ``.npy`` arrays) readable with
``np.load(path, allow_pickle=False)``. A flat ``{name: array}`` dict (a ``state_dict``) is
stored under its own names; nested dicts, lists and plain numbers (an optimizer's
``state_dict``) are kept through a small JSON manifest member ``__gdlab__.npy``. Files are
written to a temporary file in the same directory and renamed over the target (atomic:
a crash leaves the old file or the new one, never half of one), and with fixed zip
timestamps, so saving the same object twice gives byte-identical files.

Paths ending in ``.safetensors`` use the safetensors format (flat dicts of arrays only) when
the ``safetensors`` package is installed.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from gdlab._atomic import atomic_open, atomic_write_bytes
from gdlab.tensor import Tensor

__all__ = ["load", "save"]

_MANIFEST = "__gdlab__"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so equal content gives equal bytes
_REFUSED = (".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".bin")


def _array(value: Any) -> np.ndarray | None:
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, np.ndarray | np.generic):
        arr = np.asarray(value)
        if arr.dtype.hasobject:
            raise TypeError("gdlab.save: object arrays cannot be saved (they would need pickle)")
        return arr
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        return value.detach().cpu().numpy()
    return None


def _is_flat(obj: Any) -> bool:
    return (
        isinstance(obj, Mapping)
        and all(isinstance(k, str) and k != _MANIFEST and "/" not in k for k in obj)
        and all(_array(v) is not None for v in obj.values())
    )


def _encode(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    """A JSON tree of ``obj`` with arrays replaced by references into ``arrays``."""
    arr = _array(obj)
    if arr is not None:
        name = f"arr_{len(arrays)}"
        arrays[name] = arr
        return {"__array__": name, "scalar": isinstance(obj, np.generic)}
    if isinstance(obj, Mapping):
        for k in obj:
            if not isinstance(k, str | int) or isinstance(k, bool):
                raise TypeError(f"gdlab.save: dict keys must be str or int, got {k!r}")
        return {"__dict__": [[k, _encode(v, arrays)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, arrays) for v in obj]
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    raise TypeError(
        f"gdlab.save: cannot save an object of type {type(obj).__name__} without pickle; "
        "use arrays, tensors, numbers, strings, lists, tuples and dicts"
    )


def _decode(tree: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    if isinstance(tree, list):
        return [_decode(v, arrays) for v in tree]
    if isinstance(tree, dict):
        if "__array__" in tree:
            arr = arrays[tree["__array__"]]
            return arr[()] if tree.get("scalar") else arr
        if "__tuple__" in tree:
            return tuple(_decode(v, arrays) for v in tree["__tuple__"])
        return {k: _decode(v, arrays) for k, v in tree["__dict__"]}
    return tree


def _contiguous(arr: np.ndarray) -> np.ndarray:
    # not np.ascontiguousarray: it turns 0-d arrays (num_batches_tracked) into 1-d ones
    return arr if arr.flags.c_contiguous else arr.copy(order="C")


def _write_npz(arrays: Mapping[str, np.ndarray], fileobj: Any) -> None:
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, _contiguous(arr), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())


def _is_file(f: Any) -> bool:
    """A binary file object (torch.save/load accept them too), rather than a path."""
    return hasattr(f, "write") or hasattr(f, "read")


def save(obj: Any, path: str | os.PathLike | Any) -> None:
    """Save a state_dict (or any nest of dicts, lists, numbers and arrays) without pickle.

    Args:
        obj: e.g. ``model.state_dict()``, ``{"model": ..., "optimizer": opt.state_dict()}``.
        path: ``.npz`` (default format) or ``.safetensors`` (flat dicts of arrays), or a
            binary file object open for writing (the .npz format; written as it comes, the
            caller owns the file, so not atomically).

    Example:
        >>> gdlab.save(model.state_dict(), "weights.npz")
        >>> model.load_state_dict(gdlab.load("weights.npz"))
    """
    if _is_file(path):
        _write_npz(_members(obj), path)
        return
    path = Path(path)
    if path.suffix in _REFUSED:
        raise ValueError(
            f"gdlab.save: {path} has a pickle-based suffix {path.suffix!r}; use .npz or "
            ".safetensors"
        )
    if path.suffix == ".safetensors":
        _save_safetensors(obj, path)
        return
    with atomic_open(path) as f:
        _write_npz(_members(obj), f)


def _members(obj: Any) -> dict[str, np.ndarray]:
    """The .npz members of ``obj``: its arrays and the JSON manifest of its structure."""
    if _is_flat(obj):
        arrays = {k: _array(v) for k, v in obj.items()}
        tree = {"__dict__": [[k, {"__array__": k, "scalar": False}] for k in obj]}
    else:
        arrays = {}
        tree = _encode(obj, arrays)
    manifest = np.frombuffer(json.dumps(tree, sort_keys=False).encode(), dtype=np.uint8)
    return {**arrays, _MANIFEST: manifest}


def load(path: str | os.PathLike | Any) -> Any:
    """Load what ``save`` wrote (or any .npz of plain arrays, or a .safetensors file).

    ``path`` may also be a binary file object open for reading (an .npz). Never unpickles:
    files with object arrays or pickle-based formats are refused with a ``ValueError``; a
    truncated or corrupt file raises ``ValueError`` naming it.
    """
    if _is_file(path):
        return _load_npz(path, getattr(path, "name", "the file object"))
    path = Path(path)
    if path.suffix in _REFUSED:
        raise ValueError(
            f"gdlab.load: refusing {path}: pickle-based files ({path.suffix}) can run arbitrary "
            "code when loaded; convert the weights to .npz or .safetensors"
        )
    if path.suffix == ".safetensors":
        return _load_safetensors(path)
    return _load_npz(path, path)


def _load_npz(path: Any, name: Any) -> Any:
    """Arrays and manifest of an .npz at ``path`` (a path or a file object called ``name``)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise
    except ValueError as e:
        if "pickle" in str(e):
            raise ValueError(
                f"gdlab.load: {name} contains object arrays (pickled data); gdlab never loads "
                "pickles"
            ) from None
        raise ValueError(f"gdlab.load: {name} is not a valid .npz weight file: {e}") from None
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise ValueError(
            f"gdlab.load: {name} is truncated or corrupt ({type(e).__name__}: {e}); use an "
            "earlier copy of the file"
        ) from None
    manifest = arrays.pop(_MANIFEST, None)
    if manifest is None:
        return arrays
    try:
        return _decode(json.loads(manifest.tobytes().decode()), arrays)
    except (ValueError, KeyError, TypeError, IndexError) as e:  # JSONDecodeError is a ValueError
        raise ValueError(
            f"gdlab.load: {name} has a corrupt {_MANIFEST} manifest ({type(e).__name__}: {e}); "
            "use an earlier copy of the file"
        ) from None


def _safetensors() -> Any:
    try:
        from safetensors import numpy as st
    except ImportError:
        raise ImportError(
            ".safetensors files require the safetensors package: pip install 'gdlab[safetensors]'"
        ) from None
    return st


def _save_safetensors(obj: Any, path: Path) -> None:
    st = _safetensors()
    if not _is_flat(obj):
        raise TypeError("gdlab.save: .safetensors holds a flat {name: array} dict only")
    arrays = {k: _contiguous(_array(v)) for k, v in obj.items()}
    atomic_write_bytes(path, st.save(arrays))


def _load_safetensors(path: Path) -> dict[str, np.ndarray]:
    st = _safetensors()
    try:
        return dict(st.load_file(str(path)))
    except FileNotFoundError:
        raise
    except Exception as e:  # safetensors raises its own error types for corrupt headers
        raise ValueError(f"gdlab.load: {path} is not a valid .safetensors file: {e}") from None
