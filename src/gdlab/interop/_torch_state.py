"""State dicts between gdlab and PyTorch modules (same keys, same dtypes, same shapes)."""

from __future__ import annotations

import numbers
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from gdlab.interop._torch_import import torch
from gdlab.nn.module import IncompatibleKeys, Module
from gdlab.tensor import Tensor

__all__ = ["load_from_torch", "load_into_torch", "state_dict_from_torch", "state_dict_to_torch"]


def array_to_tensor(arr: np.ndarray, where: str) -> torch.Tensor:
    """``torch.from_numpy`` (shared memory) when torch can view the array, else a copy.

    torch cannot view negative strides, non-native byte order or read-only memory; those
    arrays are copied first. ``where`` names the value in the error for an unsupported dtype.
    """
    if not arr.flags.writeable or not arr.dtype.isnative or any(s < 0 for s in arr.strides):
        arr = np.array(arr, dtype=arr.dtype.newbyteorder("="), order="C", copy=True)
    try:
        return torch.from_numpy(arr)
    except TypeError as exc:
        raise TypeError(f"{where} has dtype {arr.dtype}, which torch does not support") from exc


def tensor_to_array(t: torch.Tensor, where: str, copy: bool) -> np.ndarray:
    """A CPU tensor's memory as an ndarray (a view unless ``copy``); other devices are copied."""
    t = t.detach()
    if t.device.type != "cpu":
        t, copy = t.cpu(), False  # .cpu() already made a fresh copy
    t = t.resolve_conj().resolve_neg()
    try:
        arr = t.numpy()
    except TypeError as exc:
        raise TypeError(
            f"{where} has dtype {t.dtype}, which NumPy has no dtype for; convert it first "
            "(e.g. {k: v.float() for k, v in state_dict.items()})"
        ) from exc
    return arr.copy() if copy else arr


def _gdlab_value_to_array(value: Any, key: str) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, np.ndarray | np.generic | numbers.Number):
        return np.asarray(value)
    raise TypeError(
        f"state_dict_to_torch: value of {key!r} must be a NumPy array or a gdlab Tensor, "
        f"got {type(value).__name__}"
    )


def state_dict_to_torch(module_or_state_dict: Module | Mapping[str, Any]) -> dict[str, Any]:
    """A gdlab module's (or state dict's) parameters and buffers as torch tensors.

    Keys are unchanged (gdlab's layers use torch's parameter names: ``0.weight``,
    ``weight_ih_l0``, ``running_mean``...) and so are dtypes and shapes. A module's state
    dict is a snapshot (copies); the arrays of a given dict are shared with the returned
    tensors (``torch.from_numpy``), as torch's own ``state_dict()`` shares with the model.

    Args:
        module_or_state_dict: a :class:`gdlab.nn.Module`, or a mapping from names to NumPy
            arrays or gdlab Tensors.

    Returns:
        An ``OrderedDict[str, torch.Tensor]`` for ``torch_module.load_state_dict``.

    Example:
        >>> import torch
        >>> from gdlab import nn
        >>> sd = state_dict_to_torch(nn.Linear(3, 2))
        >>> torch.nn.Linear(3, 2).load_state_dict(sd)
        <All keys matched successfully>
    """
    if isinstance(module_or_state_dict, Module):
        state = module_or_state_dict.state_dict()
    elif isinstance(module_or_state_dict, Mapping):
        state = module_or_state_dict
    else:
        raise TypeError(
            "state_dict_to_torch: expected a gdlab nn.Module or a state dict (a mapping), "
            f"got {type(module_or_state_dict).__name__}"
        )
    out: OrderedDict[str, Any] = OrderedDict()
    for key, value in state.items():
        if isinstance(value, torch.Tensor):
            out[key] = value.detach()
        else:
            out[key] = array_to_tensor(
                _gdlab_value_to_array(value, key), f"state dict entry {key!r}"
            )
    return out


def state_dict_from_torch(module_or_state_dict: Any) -> dict[str, np.ndarray]:
    """A torch module's (or state dict's) parameters and buffers as NumPy arrays.

    Keys, dtypes and shapes are kept (float32 stays float32; ``num_batches_tracked`` stays
    int64). A module's state dict is copied (a snapshot, as gdlab's ``state_dict()``); the
    tensors of a given dict are viewed without a copy when they live on the CPU.
    ``bfloat16`` has no NumPy dtype: convert such tensors (``.float()``) first.

    Args:
        module_or_state_dict: a ``torch.nn.Module`` or a mapping from names to tensors.

    Returns:
        An ``OrderedDict[str, np.ndarray]`` for ``gdlab_module.load_state_dict``.

    Example:
        >>> import torch
        >>> from gdlab import nn
        >>> sd = state_dict_from_torch(torch.nn.Linear(3, 2))
        >>> sorted(sd), sd["weight"].dtype
        (['bias', 'weight'], dtype('float32'))
        >>> nn.Linear(3, 2).load_state_dict(sd)
        IncompatibleKeys(missing_keys=[], unexpected_keys=[])
    """
    if isinstance(module_or_state_dict, torch.nn.Module):
        state, copy = module_or_state_dict.state_dict(), True
    elif isinstance(module_or_state_dict, Mapping):
        state, copy = module_or_state_dict, False
    else:
        raise TypeError(
            "state_dict_from_torch: expected a torch.nn.Module or a state dict (a mapping), "
            f"got {type(module_or_state_dict).__name__}"
        )
    out: OrderedDict[str, np.ndarray] = OrderedDict()
    for key, value in state.items():
        where = f"state dict entry {key!r}"
        if isinstance(value, torch.Tensor):
            out[key] = tensor_to_array(value, where, copy)
        elif isinstance(value, np.ndarray | np.generic | numbers.Number):
            out[key] = np.array(value, copy=copy)
        else:
            raise TypeError(
                f"state_dict_from_torch: {where} is a {type(value).__name__}, not a tensor "
                "(extra state cannot be converted)"
            )
    return out


def load_from_torch(
    gdlab_module: Module, torch_module: Any, strict: bool = True
) -> IncompatibleKeys:
    """Copy a torch module's weights into a gdlab module with the same layer names.

    Values are copied into the gdlab parameters in place (cast to their dtype, as torch's
    ``load_state_dict``). A shape mismatch raises naming the key and both shapes; with
    ``strict`` (default) so do missing and unexpected keys.

    Args:
        gdlab_module: the destination :class:`gdlab.nn.Module`.
        torch_module: a ``torch.nn.Module`` or a torch state dict.
        strict: require the same set of keys on both sides (default True).

    Returns:
        ``IncompatibleKeys(missing_keys, unexpected_keys)``.

    Example:
        >>> import torch
        >>> from gdlab import nn
        >>> t, g = torch.nn.Linear(3, 2), nn.Linear(3, 2)
        >>> _ = load_from_torch(g, t)
        >>> bool((g.weight.data == t.weight.detach().numpy()).all())
        True
    """
    if not isinstance(gdlab_module, Module):
        raise TypeError(
            "load_from_torch: gdlab_module must be a gdlab nn.Module, got "
            f"{type(gdlab_module).__name__}"
        )
    if isinstance(torch_module, torch.nn.Module):
        torch_module = torch_module.state_dict()
    # views are enough: gdlab's load_state_dict copies into its own arrays
    return gdlab_module.load_state_dict(state_dict_from_torch(torch_module), strict=strict)


def load_into_torch(
    torch_module: Any, gdlab_module: Module | Mapping[str, Any], strict: bool = True
):
    """Copy a gdlab module's weights into a torch module with the same layer names.

    torch's ``load_state_dict`` does the copy (cast to the torch parameters' dtype) and the
    checks: a size mismatch names the key and both shapes; with ``strict`` missing and
    unexpected keys raise too.

    Args:
        torch_module: the destination ``torch.nn.Module``.
        gdlab_module: a :class:`gdlab.nn.Module` or a gdlab state dict.
        strict: require the same set of keys on both sides (default True).

    Returns:
        torch's ``_IncompatibleKeys(missing_keys, unexpected_keys)``.

    Example:
        >>> import torch
        >>> from gdlab import nn
        >>> t, g = torch.nn.Linear(3, 2), nn.Linear(3, 2)
        >>> load_into_torch(t, g)
        <All keys matched successfully>
    """
    if not isinstance(torch_module, torch.nn.Module):
        raise TypeError(
            "load_into_torch: torch_module must be a torch.nn.Module, got "
            f"{type(torch_module).__name__}"
        )
    if isinstance(gdlab_module, Module):
        # the live arrays, viewed: torch's load_state_dict copies them
        gdlab_module = {k: t.data for k, t in gdlab_module.state_dict(keep_vars=True).items()}
    return torch_module.load_state_dict(state_dict_to_torch(gdlab_module), strict=strict)
