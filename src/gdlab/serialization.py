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
import math
import os
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from gdlab._atomic import atomic_open, atomic_write_bytes
from gdlab._checksum import arrays_sha256
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


def _tag(value: Any) -> dict[str, Any]:
    """What a saved array was, so that ``load`` gives back the same kind: a Tensor (with its
    ``requires_grad``), a Parameter, or a plain array."""
    from gdlab.nn.parameter import Parameter

    if isinstance(value, Parameter):
        return {"tensor": "parameter", "requires_grad": value.requires_grad}
    if isinstance(value, Tensor):
        return {"tensor": "tensor", "requires_grad": value.requires_grad}
    return {}


def _untag(arr: np.ndarray, tree: Mapping[str, Any]) -> Any:
    kind = tree.get("tensor")
    if kind is None:
        return arr
    if kind == "parameter":
        from gdlab.nn.parameter import Parameter

        return Parameter(arr, requires_grad=bool(tree.get("requires_grad", True)))
    t = Tensor._wrap(arr)
    return t.requires_grad_(True) if tree.get("requires_grad") and arr.dtype.kind == "f" else t


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
        return {"__array__": name, "scalar": isinstance(obj, np.generic), **_tag(obj)}
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
            return arr[()] if tree.get("scalar") else _untag(arr, tree)
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


def _not_pickle(path: str | os.PathLike, refusal: str) -> Path:
    """``path`` as a Path; a pickle-based suffix raises ``ValueError(refusal)``, formatted with
    the path and its suffix (gdlab neither writes nor reads those formats)."""
    path = Path(path)
    if path.suffix in _REFUSED:
        raise ValueError(refusal.format(path=path, suffix=path.suffix))
    return path


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
    path = _not_pickle(
        path, "gdlab.save: {path} has a pickle-based suffix {suffix!r}; use .npz or .safetensors"
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
        tree = {
            "__dict__": [[k, {"__array__": k, "scalar": False, **_tag(v)}] for k, v in obj.items()]
        }
    else:
        arrays = {}
        tree = _encode(obj, arrays)
    manifest = np.frombuffer(json.dumps(tree, sort_keys=False).encode(), dtype=np.uint8)
    return {**arrays, _MANIFEST: manifest}


def load(
    path: str | os.PathLike | Any,
    map_location: Any = None,
    pickle_module: Any = None,
    *,
    weights_only: bool | None = None,
    mmap: bool | None = None,
) -> Any:
    """Load what ``save`` wrote (or any .npz of plain arrays, a .npy array, a .safetensors file);
    ``path`` may also be a binary file object open for reading (as torch.load takes). Saved
    Tensors and Parameters come back as Tensors and Parameters, arrays as arrays.

    Never unpickles: files with object arrays or pickle-based formats are refused with a
    ``ValueError``; a truncated, corrupt or hostile file (sizes it does not hold, a manifest
    nested too deeply) raises ``ValueError`` naming it, before anything large is allocated.

    torch.load's arguments, for ported code: ``map_location`` (``"cpu"``, a CPU device, a
    dict or a function: everything loads on the CPU; a GPU device raises), ``weights_only``
    (True or False: gdlab files hold data only, so both load the same) and ``mmap`` (accepted;
    the arrays are read into memory). ``pickle_module`` is refused: gdlab never unpickles.
    """
    _check_torch_load_arguments(map_location, pickle_module, weights_only, mmap)
    if _is_file(path):  # spooled to a file: the checks below read sizes from the file system
        with tempfile.TemporaryDirectory(prefix="gdlab-load-") as tmp:
            spooled = Path(tmp) / "stream.npz"
            with open(spooled, "wb") as f:
                shutil.copyfileobj(path, f)
            try:
                return load(spooled)
            except ValueError as e:  # name the caller's object, not the spool file
                name = str(getattr(path, "name", "the file object"))
                raise ValueError(str(e).replace(str(spooled), name)) from None
    path = _not_pickle(
        path,
        "gdlab.load: refusing {path}: pickle-based files ({suffix}) can run "
        "arbitrary code when loaded; convert the weights to .npz or .safetensors",
    )
    if path.suffix == ".safetensors":
        return _load_safetensors(path)
    with open(path, "rb") as f:  # FileNotFoundError as is
        head = f.read(8)
    if head.startswith(_NPY_MAGIC):
        return _load_npy(path)
    if not head.startswith(_ZIP_MAGIC):
        what = "a pickle, which gdlab never loads" if head[:1] == b"\x80" else "of unknown format"
        raise ValueError(
            f"gdlab.load: {path} is not a .npz weight file (it is {what}; first bytes {head!r})"
        )
    arrays = _read_npz(path)
    manifest = arrays.pop(_MANIFEST, None)
    if manifest is None:
        return arrays
    try:
        return _decode(json.loads(manifest.tobytes().decode()), arrays)
    except (ValueError, KeyError, TypeError, IndexError, RecursionError) as e:
        raise ValueError(  # JSONDecodeError is a ValueError; RecursionError: hostile nesting
            f"gdlab.load: {path} has a corrupt {_MANIFEST} manifest ({type(e).__name__}: {e}); "
            "use an earlier copy of the file"
        ) from None


def _check_torch_load_arguments(
    map_location: Any, pickle_module: Any, weights_only: Any, mmap: Any
) -> None:
    if pickle_module is not None:
        raise ValueError(
            "gdlab.load: pickle_module is not supported: gdlab files are never unpickled"
        )
    for name, value in (("weights_only", weights_only), ("mmap", mmap)):
        if value is not None and not isinstance(value, bool):
            raise TypeError(f"gdlab.load: {name} must be a bool or None, got {value!r}")
    if isinstance(map_location, str) or hasattr(map_location, "index"):  # a device
        from gdlab.devices import as_device

        as_device(map_location, "gdlab.load: map_location")
    elif map_location is not None and not (
        callable(map_location) or isinstance(map_location, dict)
    ):
        raise TypeError(
            "gdlab.load: map_location must be a device, a str, a dict or a function, got "
            f"{type(map_location).__name__}"
        )


_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a member first, or an empty archive
_MAX_DEFLATE_RATIO = 1032  # deflate cannot compress by more than this


def _corrupt(path: Path, e: BaseException) -> ValueError:
    return ValueError(
        f"gdlab.load: {path} is truncated or corrupt ({type(e).__name__}: {e}); use an "
        "earlier copy of the file"
    )


def _npy_header(f: IO[bytes], path: Path, where: str) -> tuple[np.dtype, int]:
    """Read a .npy header; return (dtype, data bytes the header declares)."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
    else:
        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    if dtype.hasobject:
        raise ValueError(
            f"gdlab.load: {path} contains object arrays (pickled data) in {where}; gdlab never "
            "loads pickles"
        )
    return dtype, math.prod(shape) * dtype.itemsize


def _load_npy(path: Path) -> np.ndarray:
    try:
        with open(path, "rb") as f:
            _, nbytes = _npy_header(f, path, path.name)
            declared = f.tell() + nbytes
    except ValueError as e:
        if "gdlab.load" in str(e):
            raise
        raise _corrupt(path, e) from None
    size = path.stat().st_size
    if declared != size:
        raise ValueError(
            f"gdlab.load: {path} declares {declared} bytes but holds {size}: truncated or corrupt"
        )
    return np.load(path, allow_pickle=False)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an .npz, each member's declared size checked against the file first."""
    size = path.stat().st_size
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if sum(i.compress_size for i in infos) > size:
                raise ValueError(f"its members claim more bytes than the file's {size}")
            for info in infos:
                _check_member(zf, info, path)
            return {
                i.filename.removesuffix(".npy"): np.lib.format.read_array(
                    zf.open(i), allow_pickle=False
                )
                for i in infos
            }
    except ValueError as e:
        if "gdlab.load" in str(e):
            raise
        raise _corrupt(path, e) from None
    except (OSError, zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as e:
        raise _corrupt(path, e) from None


def _check_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> None:
    if not info.filename.endswith(".npy"):
        raise ValueError(f"member {info.filename!r} is not a .npy array")
    limit = info.compress_size
    if info.compress_type != zipfile.ZIP_STORED:
        limit = info.compress_size * _MAX_DEFLATE_RATIO + 1024
    if info.file_size > limit:
        raise ValueError(f"member {info.filename!r} claims {info.file_size} bytes")
    with zf.open(info) as f:
        _, nbytes = _npy_header(f, path, info.filename)
        declared = f.tell() + nbytes
    if declared != info.file_size:
        raise ValueError(
            f"member {info.filename!r} declares {declared} bytes of array data and header but "
            f"holds {info.file_size}"
        )


def _safetensors() -> Any:
    try:
        from safetensors import numpy as st
    except ImportError:
        raise ImportError(
            ".safetensors files require the safetensors package: pip install 'gdlab[safetensors]'"
        ) from None
    return st


_CHECKSUM_KEY = "gdlab.sha256"


def _save_safetensors(obj: Any, path: Path) -> None:
    st = _safetensors()
    if not _is_flat(obj):
        raise TypeError("gdlab.save: .safetensors holds a flat {name: array} dict only")
    arrays = {k: _contiguous(_array(v)) for k, v in obj.items()}
    # safetensors has no checksum of its own: one in the metadata lets load detect bit rot
    atomic_write_bytes(path, st.save(arrays, metadata={_CHECKSUM_KEY: arrays_sha256(arrays)}))


def _load_safetensors(path: Path) -> dict[str, np.ndarray]:
    _safetensors()
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            metadata = f.metadata() or {}
            arrays = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - not a dict
    except FileNotFoundError:
        raise
    except Exception as e:  # safetensors raises its own error types for corrupt headers
        raise ValueError(f"gdlab.load: {path} is not a valid .safetensors file: {e}") from None
    want = metadata.get(_CHECKSUM_KEY)
    got = arrays_sha256(arrays)
    if want is not None and got != want:
        raise ValueError(
            f"gdlab.load: {path} is corrupt: its SHA-256 ({got}) differs from the one stored "
            f"when it was saved ({want}); use an earlier copy of the file"
        )
    return arrays
