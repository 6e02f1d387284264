"""``Tensor.to`` and its relatives with torch's signatures: dtype casts and CPU devices.

``x.to(dtype)``, ``x.to(device)``, ``x.to(device, dtype)``, ``x.to(other)`` and the keyword
forms parse here once; casts go through the ``cast`` row of the op table (a gradient flows
between floating dtypes). Devices: gdlab is CPU-only, so ``"cpu"`` changes nothing and a GPU
device is a clear error (``gdlab.devices.as_device``).
"""

from __future__ import annotations

from typing import Any

from gdlab.devices import as_device, is_device
from gdlab.dtypes import resolve_dtype
from gdlab.ops.elementwise import to_dtype
from gdlab.ops.shape import clone
from gdlab.tensor import Tensor

__all__ = ["cpu", "cuda", "pin_memory", "to", "type_"]


def to(
    x: Tensor,
    *args: Any,
    dtype: Any = None,
    device: Any = None,
    non_blocking: bool = False,
    copy: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """``x`` with another dtype (torch's ``Tensor.to``): ``to(dtype)``, ``to(device)``,
    ``to(device, dtype)``, ``to(other)`` (other's dtype) or keywords. Returns ``x`` itself
    when nothing changes, unless ``copy``. ``non_blocking`` and ``memory_format`` are
    accepted and change nothing (one device, one memory layout).

    Example:
        >>> x.to("cpu") is x, x.to(gdlab.double).dtype
        (True, dtype('float64'))
    """
    if len(args) > 2:
        raise TypeError(f"Tensor.to: expected at most 2 positional arguments, got {len(args)}")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.data.dtype if dtype is None else dtype
        elif is_device(arg):
            device = arg
        elif dtype is None:
            dtype = arg
        else:
            raise TypeError(f"Tensor.to: dtype given twice ({dtype!r} and {arg!r})")
    as_device(device, "Tensor.to: device")
    out = x if dtype is None else to_dtype(x, resolve_dtype(dtype, "Tensor.to: dtype"))
    return clone(out) if copy and out is x else out


def cpu(x: Tensor, memory_format: Any = None) -> Tensor:
    """The tensor itself: it is on the CPU already (torch's ``Tensor.cpu``)."""
    return x


def pin_memory(x: Tensor, device: Any = None) -> Tensor:
    """The tensor itself: there is no GPU to copy to, so no page-locked memory is needed."""
    return x


def cuda(x: Tensor, device: Any = None, non_blocking: bool = False) -> Tensor:
    """Always an error: gdlab computes on the CPU only (it names the call and the device)."""
    as_device("cuda" if device is None else device, "Tensor.cuda: device")
    return x  # as_device raises for every CUDA device


def type_(x: Tensor, dtype: Any = None, non_blocking: bool = False) -> Any:
    """The dtype's name without ``dtype`` (torch gives ``'torch.FloatTensor'``; gdlab the NumPy
    name, ``'float32'``), else ``to(dtype)``."""
    if dtype is None:
        return str(x.data.dtype)
    return to_dtype(x, resolve_dtype(dtype, "Tensor.type: dtype"))
