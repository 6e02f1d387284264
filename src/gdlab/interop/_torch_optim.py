"""TorchOptimizer: gdlab's update rules as a ``torch.optim.Optimizer`` on CPU torch tensors."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import numpy as np

from gdlab import optim as gdlab_optim
from gdlab.interop._torch_import import torch
from gdlab.interop._torch_state import array_to_tensor
from gdlab.nn.parameter import Parameter
from gdlab.optim._work import get_num_threads, is_long, run_tasks
from gdlab.optim.optimizer import Optimizer
from gdlab.optim.optimizer import required as gdlab_required

__all__ = ["TorchOptimizer"]

_FLOAT_DTYPES = (torch.float32, torch.float64)


def _optimizer_table() -> dict[str, type[Optimizer]]:
    table = {}
    for name in gdlab_optim.__all__:
        obj = getattr(gdlab_optim, name)
        if isinstance(obj, type) and issubclass(obj, Optimizer) and obj is not Optimizer:
            table[name.lower()] = obj
    return table


def resolve_optimizer(cls_or_name: type[Optimizer] | str) -> type[Optimizer]:
    """A gdlab optimizer class from itself or its name (case-insensitive: "adam", "Momentum")."""
    if isinstance(cls_or_name, str):
        table = _optimizer_table()
        if cls_or_name.lower() not in table:
            names = ", ".join(repr(c.__name__) for c in table.values())
            raise ValueError(
                f"TorchOptimizer: unknown optimizer {cls_or_name!r} (choose from {names})"
            )
        return table[cls_or_name.lower()]
    if isinstance(cls_or_name, type) and issubclass(cls_or_name, Optimizer):
        if cls_or_name is not Optimizer:
            return cls_or_name
    raise TypeError(
        "TorchOptimizer: optimizer must be a gdlab optimizer class (a subclass of "
        f"gdlab.optim.Optimizer) or its name, got {cls_or_name!r}"
    )


def _cpu_view(t: torch.Tensor, what: str) -> np.ndarray:
    """The NumPy view of a CPU float tensor's memory (writes go straight into the tensor)."""
    if t.device.type != "cpu":
        raise ValueError(
            f"TorchOptimizer: {what} is on device {t.device}; gdlab updates tensors through "
            "NumPy, so only CPU tensors are supported (use torch.optim on accelerators)"
        )
    if t.layout != torch.strided:
        raise ValueError(f"TorchOptimizer: {what} has layout {t.layout}; only dense tensors work")
    return t.detach().numpy()


def _check_param(p: torch.Tensor) -> None:
    if p.dtype not in _FLOAT_DTYPES:
        raise TypeError(
            f"TorchOptimizer: parameters must be float32 or float64 tensors, got {p.dtype}"
        )
    _cpu_view(p, "a parameter")


def _scalar_dtype() -> torch.dtype:
    # torch.optim stores "step" as a 0-d tensor of this dtype (_get_scalar_dtype)
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def _to_numpy_tree(value: Any) -> Any:
    """torch tensors in a state (nested lists/dicts) as NumPy views; the rest unchanged."""
    if isinstance(value, torch.Tensor):
        return _cpu_view(value, "an optimizer state tensor")
    if isinstance(value, list | tuple):
        return type(value)(_to_numpy_tree(v) for v in value)
    if isinstance(value, dict):
        return {k: _to_numpy_tree(v) for k, v in value.items()}
    return value


def _to_torch_tree(value: Any, copy: bool = False) -> Any:
    """Arrays in a state as torch tensors (shared memory unless ``copy``); the rest unchanged."""
    if isinstance(value, np.ndarray):
        return array_to_tensor(value.copy() if copy else value, "optimizer state")
    if isinstance(value, torch.Tensor):
        return value.detach().clone() if copy else value
    if isinstance(value, list | tuple):
        return type(value)(_to_torch_tree(v, copy) for v in value)
    if isinstance(value, dict):
        return {k: _to_torch_tree(v, copy) for k, v in value.items()}
    return value


def _state_views(tstate: dict[str, Any], scalar_keys: frozenset[str]) -> dict[str, Any]:
    """The dict a gdlab rule updates: arrays viewing the torch state, scalars as floats."""
    out = {}
    for k, v in tstate.items():
        if isinstance(v, torch.Tensor):
            out[k] = float(v) if k in scalar_keys else _cpu_view(v, f"optimizer state {k!r}")
        else:
            out[k] = v
    return out


def _write_back(tstate: dict[str, Any], views: dict[str, Any], scalar_keys: frozenset[str]):
    """Put what the rule changed into the torch state, in torch's layout (step: 0-d tensor)."""
    for k, v in views.items():
        old = tstate.get(k)
        if k in scalar_keys and isinstance(v, float | int | np.floating):
            # "step" as torch keeps it; other scalars (NAdam's mu_product, ASGD's eta) in
            # float64 so that the round trip through the tensor loses nothing of gdlab's float
            dtype = _scalar_dtype() if k == "step" else torch.float64
            if isinstance(old, torch.Tensor) and old.dim() == 0 and old.dtype == dtype:
                old.fill_(float(v))
            else:
                tstate[k] = torch.tensor(float(v), dtype=dtype)
        elif isinstance(v, np.ndarray):
            if not (isinstance(old, torch.Tensor) and old.data_ptr() == v.ctypes.data):
                tstate[k] = array_to_tensor(v, f"optimizer state {k!r}")  # new: share it
        else:
            tstate[k] = v
    for k in [k for k in tstate if k not in views]:
        del tstate[k]


class TorchOptimizer(torch.optim.Optimizer):
    """A ``torch.optim.Optimizer`` that runs a gdlab optimizer's update rule on torch tensors.

    Each ``step()`` hands gdlab's rule NumPy views of the CPU parameters, gradients and state
    (``tensor.detach().numpy()``: no copies), so the torch tensors are updated in place with
    exactly gdlab's arithmetic. The group's hyper-parameters are read at every step, so torch
    LR schedulers work; ``state`` holds torch tensors in torch.optim's layout (``step`` a 0-d
    tensor, ``exp_avg``...), so ``state_dict()`` loads into the matching ``torch.optim`` class
    and back. Under ``DistributedDataParallel`` gradients are all-reduced before ``step()``,
    so every rank applies the same update.

    Update: the wrapped gdlab class's (see its docstring); e.g. ``"Momentum"`` is the
    articles' v ← μ·v + lr·g; θ ← θ − v, which torch.optim does not offer.

    Args:
        params: torch parameters or param groups (as for any torch optimizer); CPU
            float32/float64 dense tensors.
        optimizer: a gdlab optimizer class (``gdlab.optim.Adam``) or its name (``"adam"``).
        **hparams: the gdlab class's hyper-parameters (``lr``, ``momentum``, ``betas``...),
            validated by it with its messages.

    Example:
        >>> import torch
        >>> model = torch.nn.Linear(3, 1)
        >>> opt = TorchOptimizer(model.parameters(), "Momentum", lr=0.1, momentum=0.9)
        >>> sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
        >>> loss = model(torch.ones(4, 3)).pow(2).mean()
        >>> loss.backward()
        >>> opt.step()
        >>> sched.step()
        >>> opt.zero_grad()

    Reference: Paszke et al., "PyTorch: An Imperative Style, High-Performance Deep Learning
    Library", NeurIPS 2019 (the optimizer protocol followed here).
    """

    def __init__(self, params: Iterable[Any], optimizer: type[Optimizer] | str, **hparams: Any):
        cls = resolve_optimizer(optimizer)
        try:  # the gdlab class validates and completes the hyper-parameters
            probe = cls([Parameter(np.zeros(1))], **hparams)
        except TypeError as exc:
            if "unexpected keyword" in str(exc):
                raise TypeError(f"TorchOptimizer({cls.__name__}): {exc}") from exc
            raise
        self.gdlab_class = cls
        self._probe = probe
        self._uses_rule = cls._rule is not None and cls.step is Optimizer.step
        self._shadow: Optimizer | None = None
        defaults = {
            k: torch.optim.optimizer.required if v is gdlab_required else v
            for k, v in probe.defaults.items()
        }
        super().__init__(params, defaults)
        if not self._uses_rule:  # e.g. LBFGS, whose step is not a per-parameter rule
            self._shadow = cls(
                [{"params": [Parameter(_cpu_view(p, "a parameter")) for p in g["params"]]}
                 for g in self.param_groups],
                **hparams,
            )  # fmt: skip

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """torch's ``add_param_group`` plus the gdlab class's hyper-parameter checks."""
        super().add_param_group(param_group)
        try:
            for p in self.param_groups[-1]["params"]:
                _check_param(p)
            self._probe._validate(self.param_groups[-1])
            if getattr(self, "_shadow", None) is not None:
                raise ValueError(
                    f"TorchOptimizer({self.gdlab_class.__name__}) has a single parameter group"
                )
        except (TypeError, ValueError):
            self.param_groups.pop()
            raise

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss.

        Args:
            closure: optional function that re-evaluates the model, calls ``backward`` and
                returns the loss; run with gradients enabled (required by LBFGS).
        """
        if self._shadow is not None:
            return self._shadow_step(closure)
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        rule = self.gdlab_class._rule
        scalar_keys = self.gdlab_class._scalar_state_keys
        threaded = get_num_threads() > 1
        stepped = []
        for group in self.param_groups:
            kwargs = self._probe._rule_kwargs(group)
            tasks, updates = [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                param, grad = _cpu_view(p, "a parameter"), _cpu_view(p.grad, "a gradient")
                views = _state_views(self.state[p], scalar_keys)
                if threaded and not is_long(param.size):
                    tasks.append(partial(rule, param, grad, views, **kwargs))
                else:
                    rule(param, grad, views, **kwargs)
                updates.append((p, views))
            run_tasks(tasks)
            for p, views in updates:
                _write_back(self.state[p], views, scalar_keys)
                stepped.append(p)
        if stepped:  # NumPy writes bypass torch's version counter; bump it as torch's ops do
            torch.autograd.graph.increment_version(stepped)
        return loss

    def _shadow_step(self, closure: Callable[[], Any] | None) -> Any:
        """Run the gdlab optimizer's own ``step`` on gdlab Parameters viewing the tensors."""
        shadow = self._shadow
        pairs = []
        for tg, sg in zip(self.param_groups, shadow.param_groups, strict=True):
            sg.update({k: v for k, v in tg.items() if k != "params"})
            for tp, sp in zip(tg["params"], sg["params"], strict=True):
                sp.data = _cpu_view(tp, "a parameter")  # the tensor's storage may be new
                pairs.append((tp, sp))
        shadow.state = defaultdict(dict)
        for tp, sp in pairs:
            if tp in self.state:
                shadow.state[sp] = _to_numpy_tree(self.state[tp])

        first_loss = []

        def gdlab_closure() -> Any:
            with torch.enable_grad():
                loss = closure()
            for tp, sp in pairs:
                sp.grad = None if tp.grad is None else _cpu_view(tp.grad, "a gradient")
            first_loss.append(loss)
            # gdlab reads the value with float(): detached, so torch does not warn
            return loss.detach() if isinstance(loss, torch.Tensor) else loss

        loss = shadow.step(None if closure is None else gdlab_closure)
        loss = first_loss[0] if first_loss else loss  # what torch.optim.LBFGS returns
        for tp, sp in pairs:
            if sp in shadow.state:
                self.state[tp] = _to_torch_tree(shadow.state[sp])
        torch.autograd.graph.increment_version([tp for tp, _ in pairs])
        return loss

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load torch's layout (from this class or the matching ``torch.optim`` class) or a
        gdlab optimizer's ``state_dict()``; the input is copied, never shared or changed."""
        state_dict = dict(state_dict)
        state_dict["state"] = _to_torch_tree(dict(state_dict["state"]), copy=True)
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # keys the other side does not save (e.g. eps_hat)
            for k, v in self.defaults.items():
                group.setdefault(k, v)
            self._probe._validate(group)

    def __repr__(self) -> str:
        return (
            f"TorchOptimizer[{self.gdlab_class.__name__}]"
            + super().__repr__()[len(type(self).__name__) :]
        )
