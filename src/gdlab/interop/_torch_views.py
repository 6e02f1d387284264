"""NumPy views of torch tensors for TorchOptimizer: parameters, gradients and optimizer state.

A gdlab rule updates NumPy arrays in place; these helpers hand it arrays that *are* the torch
tensors' memory (``tensor.detach().numpy()``), and put whatever the rule creates (a new state
array, a float ``step``) back into the torch state in torch.optim's layout.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.interop._torch_import import torch
from gdlab.interop._torch_state import array_to_tensor

__all__ = ["ParamViews", "check_param", "cpu_view", "to_numpy_tree", "to_torch_tree"]

_FLOAT_DTYPES = (torch.float32, torch.float64)
_MISSING = object()


def cpu_view(t: torch.Tensor, what: str) -> np.ndarray:
    """The NumPy view of a CPU dense tensor's memory (writes go straight into the tensor)."""
    if t.device.type != "cpu":
        raise ValueError(
            f"TorchOptimizer: {what} is on device {t.device}; gdlab updates tensors through "
            "NumPy, so only CPU tensors are supported (use torch.optim on accelerators)"
        )
    if t.layout != torch.strided:
        raise ValueError(f"TorchOptimizer: {what} has layout {t.layout}; only dense tensors work")
    return t.detach().numpy()


def check_param(p: torch.Tensor) -> None:
    """A TypeError/ValueError unless ``p`` is a float32/float64 dense CPU tensor."""
    if p.dtype not in _FLOAT_DTYPES:
        raise TypeError(
            f"TorchOptimizer: parameters must be float32 or float64 tensors, got {p.dtype}"
        )
    cpu_view(p, "a parameter")


def scalar_tensor(key: str, value: float) -> torch.Tensor:
    """A 0-d tensor for a scalar state entry: ``step`` in torch.optim's dtype (float32 unless
    the default dtype is float64); others (NAdam's mu_product, ASGD's eta) in float64, so the
    round trip through the tensor loses nothing of gdlab's Python float."""
    if key == "step":
        dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    else:
        dtype = torch.float64
    return torch.tensor(float(value), dtype=dtype)


def to_numpy_tree(value: Any) -> Any:
    """torch tensors in a state (nested lists/dicts) as NumPy views; the rest unchanged."""
    if isinstance(value, torch.Tensor):
        return cpu_view(value, "an optimizer state tensor")
    if isinstance(value, list | tuple):
        return type(value)(to_numpy_tree(v) for v in value)
    if isinstance(value, dict):
        return {k: to_numpy_tree(v) for k, v in value.items()}
    return value


def to_torch_tree(value: Any, copy: bool = False) -> Any:
    """Arrays in a state as torch tensors (shared memory unless ``copy``); the rest unchanged."""
    if isinstance(value, np.ndarray):
        return array_to_tensor(value.copy() if copy else value, "optimizer state")
    if isinstance(value, torch.Tensor):
        return value.detach().clone() if copy else value
    if isinstance(value, list | tuple):
        return type(value)(to_torch_tree(v, copy) for v in value)
    if isinstance(value, dict):
        return {k: to_torch_tree(v, copy) for k, v in value.items()}
    return value


class ParamViews:
    """One parameter's array and its state's arrays, as views kept from step to step.

    Rebuilt only when a tensor behind them is replaced (new storage for the parameter, a
    state entry reassigned, ``load_state_dict``): views cost a few microseconds each, and a
    training step should not pay that for every parameter and state entry.

    Args:
        p: the torch parameter (CPU, float).
        tstate: its torch state dict (``optimizer.state[p]``), read and written.
        scalar_keys: state keys that are Python floats for the rule and 0-d tensors for torch.
    """

    __slots__ = ("ptr", "param", "tstate", "seen", "values", "scalars", "scalar_keys")

    def __init__(self, p: torch.Tensor, tstate: dict[str, Any], scalar_keys: frozenset[str]):
        self.ptr = p.data_ptr()
        self.param = cpu_view(p, "a parameter")
        self.tstate = tstate
        self.scalar_keys = scalar_keys
        self.seen = dict(tstate)  # the objects the views were taken from (identity checks)
        self.values: dict[str, Any] = {}
        self.scalars: dict[str, np.ndarray] = {}  # 0-d views, written in place
        for k, v in tstate.items():
            if not isinstance(v, torch.Tensor):
                self.values[k] = v  # e.g. a float step from a gdlab state dict
            elif k in scalar_keys and v.dim() == 0:
                self.scalars[k] = cpu_view(v, f"optimizer state {k!r}")
            else:
                self.values[k] = cpu_view(v, f"optimizer state {k!r}")

    def valid(self, p: torch.Tensor, tstate: dict[str, Any]) -> bool:
        """Whether the parameter's storage and every state entry are the ones viewed."""
        if p.data_ptr() != self.ptr or tstate is not self.tstate or len(tstate) != len(self.seen):
            return False
        seen = self.seen
        return all(seen.get(k, _MISSING) is v for k, v in tstate.items())

    def rule_state(self) -> dict[str, Any]:
        """The dict the rule updates: the state arrays, and scalars as Python floats."""
        state = dict(self.values)
        for k, v in self.scalars.items():
            state[k] = float(v)
        return state

    def write_back(self, state: dict[str, Any]) -> bool:
        """Store what the rule changed in the torch state; True if the views are now stale."""
        stale = False
        for k, v in state.items():
            if k.startswith("_"):  # a rule's work arrays (optim/_scratch.py): kept here only,
                self.values[k] = v  # out of torch's state and state_dict, as in gdlab's
                continue
            view = self.scalars.get(k)
            if view is not None and isinstance(v, float | int | np.floating):
                if k == "step" or view.dtype == np.float64:
                    view[()] = v  # into the 0-d tensor's memory
                    continue
            elif v is self.values.get(k, _MISSING):
                continue  # an array updated in place, or an unchanged value
            stale = True
            self.tstate[k] = self._to_torch(k, v, scalar=k in self.scalar_keys)
        for k in [k for k in self.tstate if k not in state]:
            del self.tstate[k]
            stale = True
        return stale

    @staticmethod
    def _to_torch(key: str, value: Any, scalar: bool) -> Any:
        if isinstance(value, float | int | np.floating) and scalar:
            return scalar_tensor(key, value)
        if isinstance(value, np.ndarray):
            return array_to_tensor(value, f"optimizer state {key!r}")  # new: share it
        return value
