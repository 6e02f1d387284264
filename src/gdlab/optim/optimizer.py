"""The torch-shaped ``Optimizer`` base: param groups, state, closures and state dicts.

Every algorithm is a small rule ``xxx_(param, grad, state, *, lr, ...)`` that updates the
parameter array and its state arrays in place. The base calls it once per parameter with the
group's *current* hyper-parameters, so a scheduler only has to change ``group["lr"]``.

``step`` goes through the one seam to the speed machinery, :func:`gdlab.optim._fast.apply_rule`:
the fast kernel registered for the rule if there is one (SGD, Momentum, Adam/AdamW), else the
rule itself. ``foreach`` is accepted for torch compatibility and ignored. ``fused`` selects,
for the kernels that have one, the optional numba pass (``gdlab[fast]``) or NumPy; the other
optimizers accept and ignore it.
``capturable=True`` and ``differentiable=True`` are rejected (graph capture and differentiating
through ``step`` do not exist here).
"""

from __future__ import annotations

import copy
import math
import numbers
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any

import numpy as np

from gdlab.autograd import enable_grad
from gdlab.autograd.sparse import RowSparseGrad
from gdlab.optim._fast import apply_rule, check_fused_args, has_fused_kernel
from gdlab.optim.hooks import (
    STEP_HOOKS,
    OptimizerHooks,
    register_optimizer_step_post_hook,
    register_optimizer_step_pre_hook,
    run_step_hooks,
    runs_own_step_hooks,
    step_hooks_due,
)
from gdlab.tensor import Tensor

__all__ = [
    "EXECUTION_FLAGS", "Optimizer", "ParamsT", "check_sparse_weight_decay",
    "register_optimizer_step_post_hook", "register_optimizer_step_pre_hook", "required",
]  # fmt: skip

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


class _Required:
    """Sentinel for a hyper-parameter without a default."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()

# Keys a param group may carry besides the optimizer's defaults (torch users store names;
# schedulers add initial_lr & co. after construction).
_EXTRA_GROUP_KEYS = {"name", "param_names", "initial_lr"}
_UNORDERED = (
    "optimizer parameters need to be organized in ordered collections, but the ordering of "
    "tensors in sets will change between runs. Please use a list instead."
)
# torch's flags that choose how a step runs, not its math: the rules never receive them (the
# seam takes ``fused`` to pick gdlab's numba kernel), and load_state_dict keeps their values
EXECUTION_FLAGS = frozenset({"foreach", "fused", "capturable", "differentiable"})


# ------------------------------------------------------------------ validation helpers
def check_lr(lr: Any, message: str = "Invalid learning rate: {}") -> None:
    """Torch's ``Invalid learning rate`` check, also rejecting NaN, inf, str and bool.

    A one-element floating Tensor is accepted, as torch does (a scheduler then fills it in
    place, and the rule reads its value at every step).
    """
    if isinstance(lr, Tensor):
        if lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not np.issubdtype(lr.dtype, np.floating):
            raise TypeError(f"Invalid learning rate type: Tensor lr has dtype {lr.dtype}")
        lr = float(lr)
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise TypeError(f"Invalid learning rate type: lr must be a float, got {type(lr).__name__}")
    if not 0.0 <= lr or not math.isfinite(lr):
        raise ValueError(message.format(lr))


def check_nonneg(value: float, name: str) -> None:
    """``Invalid {name} value: {value}`` unless ``value >= 0`` (NaN fails)."""
    if not 0.0 <= value:
        raise ValueError(f"Invalid {name} value: {value}")


def check_betas(betas: Any, count: int = 2) -> None:
    """Torch's ``Invalid beta parameter at index i`` checks, and a length check (``count``
    betas: 2 for Adam's family, 3 for Adan's and AdEMAMix's)."""
    if not isinstance(betas, tuple | list) or len(betas) != count:
        names = ", ".join(f"beta{i + 1}" for i in range(count))
        what = "a pair" if count == 2 else f"{count} values"
        raise ValueError(f"Invalid betas: expected {what} ({names}), got {betas!r}")
    for i, b in enumerate(betas):
        if not 0.0 <= b < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {b}")


def check_unsupported(capturable: bool = False, differentiable: bool = False) -> None:
    """Reject torch's ``capturable=True`` and ``differentiable=True``, which gdlab lacks."""
    if capturable:
        raise ValueError("capturable=True is not supported: gdlab has no CUDA-graph capture")
    if differentiable:
        raise ValueError(
            "differentiable=True is not supported: gdlab's optimizer step is not recorded "
            "by autograd"
        )


def check_sparse_weight_decay(name: str, group: dict[str, Any], grad: Any) -> Any:
    """``grad`` itself, after torch's error for a row-sparse one with weight decay (which
    would touch every row)."""
    if group["weight_decay"] and type(grad) is RowSparseGrad:
        raise RuntimeError(f"{name}: weight_decay option is not compatible with sparse gradients")
    return grad


def hyperparameters(arguments: dict[str, Any]) -> dict[str, Any]:
    """An optimizer constructor's arguments as its ``defaults``: ``hyperparameters(locals())``.

    Called first thing in ``__init__``, ``locals()`` is exactly the signature's arguments, so
    the torch-named signature stays the one list of hyper-parameters and their defaults.
    """
    return {k: v for k, v in arguments.items() if k not in ("self", "params", "__class__")}


def state_arrays(
    state: dict, param: np.ndarray, *names: str, fill: float = 0.0, **first: Any
) -> list[np.ndarray]:
    """A rule's state arrays ``names``, made at its first call (``names[0]`` not in ``state``):
    the entries ``first`` (e.g. ``step=0.0``), then an array like ``param`` filled with ``fill``
    (zeros by default) per name."""
    if names[0] not in state:
        state.update(first)
        for name in names:
            state[name] = np.full_like(param, fill)
    return [state[name] for name in names]


# Hyper-parameter types the rules take as they are (anything else goes through ``_number``).
_PLAIN = frozenset({float, int, bool, str, type(None)})


def _number(value: Any) -> Any:
    """A Tensor hyper-parameter (torch's tensor lr, betas) as the float the rule computes with."""
    if isinstance(value, Tensor):
        return float(value)
    if isinstance(value, tuple) and any(isinstance(v, Tensor) for v in value):
        return tuple(float(v) if isinstance(v, Tensor) else v for v in value)
    return value


def _typename(x: Any) -> str:
    return type(x).__name__


def _to_array(value: Any) -> Any:
    """torch tensors and arrays -> a fresh ndarray; containers recursively; others copied."""
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch.Tensor
        return value.detach().cpu().numpy().copy()
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, Tensor):
        return value.data.copy()
    if isinstance(value, list | tuple):
        return type(value)(_to_array(v) for v in value)
    if isinstance(value, dict):
        return {k: _to_array(v) for k, v in value.items()}
    return copy.deepcopy(value)


class _RuleKwargs:
    """An optimizer's last rule keyword arguments and the group values they were made from."""

    __slots__ = ("hyper", "keys", "read", "values")

    def __init__(self, keys: tuple[str, ...]) -> None:
        self.keys = keys
        # the values in one C call (itemgetter gives a tuple from two keys on)
        self.read = itemgetter(*keys) if len(keys) > 1 else None
        self.values: tuple | None = None  # None: nothing made yet
        self.hyper: dict[str, Any] = {}


class Optimizer(OptimizerHooks):
    """Base class of every optimizer (torch.optim.Optimizer's API).

    Subclasses set ``_rule`` (the update function, which creates its state on first use),
    list the hyper-parameters that must be >= 0 in ``_nonnegative`` (checked with torch's
    ``Invalid {name} value`` message, as are ``lr`` and ``betas``), and extend
    ``_validate(group)`` for other checks (run on the defaults and on every group added). The
    rule receives every hyper-parameter except torch's execution flags (``foreach``,
    ``fused``, ``capturable``...). ``state[p]`` holds torch's keys (keys starting with ``_``
    would be left out of ``state_dict()``). A new optimizer is one file: its rule, its class.

    Args:
        params: an iterable of Tensors, or of dicts (param groups) with a ``"params"`` entry
            and per-group hyper-parameters. Not a single Tensor and not a set (unordered).
        defaults: the default hyper-parameters of every group.

    Example:
        >>> import numpy as np
        >>> from gdlab.nn import Parameter
        >>> from gdlab.optim import SGD
        >>> w = Parameter(np.array([1.0, 2.0]))
        >>> opt = SGD([w], lr=0.1)
        >>> w.grad = np.array([1.0, 1.0])
        >>> opt.step()
        >>> w.data
        array([0.9, 1.9])
    """

    _rule: Callable[..., None] | None = None
    _scalar_state_keys: frozenset[str] = frozenset({"step"})
    _param_shaped_keys: frozenset[str] = frozenset()
    _nonnegative: tuple[str, ...] = ()  # in torch's order of checks
    _n_betas = 2  # the length of ``betas`` (3 for Adan, AdEMAMix)
    _elementwise = True  # False: the rule reads whole tensors (norms), a piece steps otherwise
    _lr_message = "Invalid learning rate: {}"
    # False where lr is only the first trial step (Rprop, a line search): lr = 0 then does not
    # freeze the parameters, and the optimizer battery's lr_zero check does not apply
    _lr_scales_the_step = True

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._validate(self.defaults)
        if has_fused_kernel(self._rule):
            check_fused_args(type(self).__name__, defaults.get("fused"), defaults.get("foreach"))
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {_typename(params)}"
            )
        if isinstance(params, set | frozenset):
            raise TypeError(_UNORDERED)
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ hooks
    def _validate(self, group: dict[str, Any]) -> None:
        """Raise ValueError/TypeError for invalid hyper-parameters (subclasses extend it)."""
        check_unsupported(group.get("capturable", False), group.get("differentiable", False))
        if "lr" in group and group["lr"] is not required:
            check_lr(group["lr"], self._lr_message)
        for key in self._nonnegative:
            check_nonneg(group[key], "epsilon" if key == "eps" else key)
        if "betas" in group:
            check_betas(group["betas"], self._n_betas)

    def _rule_kwargs(self, group: dict[str, Any]) -> dict[str, Any]:
        """The group's hyper-parameters the rule takes (every default except torch's flags).

        This runs per group per step, so the last dict made is kept (``_RuleKwargs``) and
        given again while the group's values compare equal to the ones it was made from: a
        step of a one-group optimizer reads the values and compares them (0.12 µs) rather
        than building and checking a dict (0.6 µs). The dict is shared between calls:
        ``apply_rule`` writes the kernel's ``fused`` into it (never one of the compared keys),
        and nothing else may change it.
        """
        memo = self.__dict__.get("_rule_kwargs_memo")
        if memo is None:  # once: the keys and the reader of their values
            keys = tuple(k for k in self.defaults if k not in EXECUTION_FLAGS)
            memo = self._rule_kwargs_memo = _RuleKwargs(keys)
        read = memo.read
        values = read(group) if read is not None else tuple([group[k] for k in memo.keys])
        try:
            if values == memo.values:
                return memo.hyper
        except (TypeError, ValueError, RuntimeError):  # an array value has no single truth
            pass
        hyper = dict(zip(memo.keys, values, strict=True))
        # numbers and flags pass as they are; a Tensor lr or betas (rare) become floats, and
        # are read again at every step (a scheduler may fill the tensor in place)
        for value in hyper.values():
            kind = type(value)
            if kind in _PLAIN or (kind is tuple and _PLAIN.issuperset(map(type, value))):
                continue
            return {k: _number(v) for k, v in hyper.items()}
        memo.values, memo.hyper = values, hyper
        return hyper

    def _sparse_grad(self, group: dict[str, Any], grad: Any) -> Any:
        """What the rule receives for a row-sparse gradient (``Embedding(sparse=True)``):
        torch's error here; SGD, Adagrad and SparseAdam take it as it is (their rules update
        the rows present, or every row where torch's state decays them all)."""
        if type(grad) is not RowSparseGrad:
            return grad
        raise RuntimeError(
            f"{type(self).__name__} does not support sparse gradients, please consider "
            "SparseAdam instead"
        )

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyper-parameters (defaults fill the rest)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {_typename(param_group)}")
        if "params" not in param_group:
            raise ValueError("param group has no 'params' key")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set | frozenset):
            raise TypeError(_UNORDERED)
        params = list(params)
        for p in params:
            self._check_param(p)
        unknown = set(param_group) - set(self.defaults) - _EXTRA_GROUP_KEYS - {"params"}
        if unknown:
            raise ValueError(
                f"{type(self).__name__}: unknown key(s) {sorted(unknown)} in param group; "
                f"expected some of {sorted(self.defaults)}"
            )
        group = dict(param_group)
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            group.setdefault(name, default)
        self._validate(group)
        if len({id(p) for p in params}) != len(params):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, "
                "this will cause an error; see github.com/pytorch/pytorch/issues/40967 for "
                "more information",
                stacklevel=3,
            )
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    @staticmethod
    def _check_param(p: Any) -> None:
        if not isinstance(p, Tensor):
            raise TypeError(
                f"optimizer can only optimize Tensors, but one of the params is {_typename(p)}"
            )
        if not p.is_leaf:
            raise ValueError("can't optimize a non-leaf Tensor")
        if not np.issubdtype(p.dtype, np.floating):
            raise TypeError(
                "optimizer can only optimize floating point Tensors, but one of the params "
                f"has dtype {p.dtype}"
            )

    # ------------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients: to None (default, as torch) or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p._grad.fill(0)

    def _closure_loss(self, closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        with enable_grad():
            return closure()

    @runs_own_step_hooks
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return the closure's loss (or None).

        Args:
            closure: optional function that re-evaluates the model, calls ``backward`` and
                returns the loss (a Tensor or a float). It runs with gradients enabled.
        """
        if STEP_HOOKS.registered and step_hooks_due(self):
            # the hooks see the closure as a positional argument, however it was passed
            return run_step_hooks(Optimizer.step, self, () if closure is None else (closure,), {})
        loss = None if closure is None else self._closure_loss(closure)  # no call when bare
        self._opt_called = True  # lets a scheduler warn when it is stepped first (as torch)
        state = self.state
        rule = type(self)._rule
        for group in self.param_groups:
            items = []
            sparse = False
            for p in group["params"]:
                grad = p._grad
                if grad is not None:
                    p._version += 1
                    items.append((p.data, grad, state[p]))
                    if type(grad) is RowSparseGrad:
                        sparse = True
            if sparse:
                items = [(d, self._sparse_grad(group, g), s) for d, g, s in items]
            apply_rule(rule, items, self._rule_kwargs(group), group.get("fused"))
        return loss

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``.

        As in torch, parameters are numbered in group order and the state arrays are the
        optimizer's own (not copies); keys starting with ``_`` are left out. ``step`` is a
        float (torch: a 0-d tensor). torch's ``load_state_dict`` accepts it once the arrays
        are made tensors (``torch.from_numpy``); ours accepts torch's as it is.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, s in self.state.items():
            saved = {k: v for k, v in s.items() if not k.startswith("_")}
            if id(p) in index and saved:
                state[index[id(p)]] = saved
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state and hyper-parameters saved by ``state_dict()`` (copies them).

        torch's state dicts load too (tensors become arrays, ``step`` a float). ``foreach``,
        ``fused``, ``capturable`` and ``differentiable`` keep this optimizer's values: they
        choose a code path, not the math.
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                "loaded state dict has a different number of parameter groups "
                f"({len(saved_groups)}) than the optimizer ({len(self.param_groups)})"
            )
        for i, (g, s) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group: group {i} has {len(s['params'])} parameters in the "
                    f"state dict and {len(g['params'])} in the optimizer"
                )
        id_map = {}
        for g, s in zip(self.param_groups, saved_groups, strict=True):
            id_map.update(zip(s["params"], g["params"], strict=True))
        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key not in id_map:
                raise ValueError(f"loaded state dict has state for unknown parameter {key!r}")
            p = id_map[key]
            new_state[p] = self._load_param_state(key, p, value)
        new_groups = []
        for g, s in zip(self.param_groups, saved_groups, strict=True):
            # keys torch does not save (gdlab's extensions) keep their current value, and so
            # do the EXECUTION_FLAGS: how this machine runs the step, not a hyper-parameter (a
            # dict saved with fused=True must load where numba is missing, torch's with
            # capturable=True where there is no graph capture)
            group = {k: v for k, v in g.items() if k != "params"}
            saved = {k: v for k, v in s.items() if k != "params" and k not in EXECUTION_FLAGS}
            group.update(_to_array(saved))
            group["params"] = g["params"]
            new_groups.append(group)
        self.state = new_state
        self.param_groups = new_groups

    def _load_param_state(self, key: Any, p: Tensor, saved: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in saved.items():
            v = _to_array(v)
            if k in self._scalar_state_keys and v is not None:
                out[k] = float(np.asarray(v))
                continue
            if isinstance(v, np.ndarray):
                if np.issubdtype(v.dtype, np.floating):
                    v = v.astype(p.dtype, copy=False)
                if k in self._param_shaped_keys and v.shape != p.shape:
                    raise ValueError(
                        f"loaded state for parameter {key!r} ('{k}') has shape {v.shape}, "
                        f"which does not match the parameter's shape {p.shape}"
                    )
            out[k] = v
        return out

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        return "\n".join([*lines, ")"])
