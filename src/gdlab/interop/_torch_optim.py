"""TorchOptimizer: gdlab's update rules as a ``torch.optim.Optimizer`` on CPU torch tensors."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np

from gdlab import optim as gdlab_optim
from gdlab.interop._torch_import import torch
from gdlab.interop._torch_views import (
    ParamViews,
    check_param,
    cpu_view,
    to_numpy_tree,
    to_torch_tree,
)
from gdlab.nn.parameter import Parameter
from gdlab.optim._fast import apply_rule
from gdlab.optim.chain import Chain, ChainFactory
from gdlab.optim.optimizer import EXECUTION_FLAGS, Optimizer
from gdlab.optim.optimizer import required as gdlab_required
from gdlab.optim.registry import OPTIMIZERS, get_optimizer_spec
from gdlab.optim.resolve import is_import_spec

__all__ = ["TorchOptimizer"]


def _optimizer_table() -> dict[str, type[Optimizer]]:
    table = {}
    for name in gdlab_optim.__all__:
        obj = getattr(gdlab_optim, name)
        if isinstance(obj, type) and issubclass(obj, Optimizer) and obj is not Optimizer:
            table[name.lower()] = obj
    return table


class ResolvedOptimizer(NamedTuple):
    """What a name stands for: the gdlab class and the hyper-parameters the name sets (the
    registry's lr and defaults, a chain's transformation), under the caller's."""

    cls: type[Optimizer]
    defaults: dict[str, Any]


def resolve_optimizer(cls_or_name: type[Optimizer] | str) -> ResolvedOptimizer:
    """A gdlab optimizer from itself, a registry name, ``pkg.mod:Name`` or a class name.

    Registry names (``gdlab.optim.OPTIMIZERS``: ``"momentum"``, ``"sam"``...) come first and
    bring the registry's settings, as on the command line (``"momentum"`` is SGD with momentum
    0.9); ``pkg.mod:Name`` imports a class, a ``chain`` or a rule function as the CLI does;
    other strings are ``gdlab.optim`` class names, case-insensitive (``"Momentum"``: the
    articles' form, ``"Adafactor"``).
    """
    if isinstance(cls_or_name, str):
        if cls_or_name in OPTIMIZERS or is_import_spec(cls_or_name):
            return _from_spec(cls_or_name)
        table = _optimizer_table()
        if cls_or_name.lower() not in table:
            names = ", ".join(repr(c.__name__) for c in table.values())
            registry = ", ".join(repr(k) for k in OPTIMIZERS)
            raise ValueError(
                f"TorchOptimizer: unknown optimizer {cls_or_name!r} (choose a registry name: "
                f"{registry}; a class name: {names}; or pkg.module:Name)"
            )
        return ResolvedOptimizer(table[cls_or_name.lower()], {})
    if isinstance(cls_or_name, type) and issubclass(cls_or_name, Optimizer):
        if cls_or_name is not Optimizer:
            return ResolvedOptimizer(cls_or_name, {})
    raise TypeError(
        "TorchOptimizer: optimizer must be a gdlab optimizer class (a subclass of "
        f"gdlab.optim.Optimizer), a registry name or pkg.module:Name, got {cls_or_name!r}"
    )


def _from_spec(name: str) -> ResolvedOptimizer:
    """The registry's (or the import's) class and settings for ``name``."""
    spec = get_optimizer_spec(name)
    if isinstance(spec.cls, ChainFactory):  # Chain's own step runs on views of the tensors
        transformation = spec.cls.transformation
        lr = {} if transformation.lr is None else {"lr": spec.lr}
        return ResolvedOptimizer(Chain, {"transformation": transformation, **lr})
    return ResolvedOptimizer(spec.cls, {"lr": spec.lr, **spec.defaults})


class TorchOptimizer(torch.optim.Optimizer):
    """A ``torch.optim.Optimizer`` that runs a gdlab optimizer's update rule on torch tensors.

    Each ``step()`` hands gdlab's rule NumPy views of the CPU parameters, gradients and state
    (``tensor.detach().numpy()``: no copies), so the torch tensors are updated in place with
    exactly gdlab's arithmetic. The group's hyper-parameters are read at every step, so torch
    LR schedulers work; ``state`` holds torch tensors in torch.optim's layout (``step`` a 0-d
    tensor, ``exp_avg``...), so ``state_dict()`` loads into the matching ``torch.optim`` class
    and back. Under ``DistributedDataParallel`` gradients are all-reduced before ``step()``,
    so every rank applies the same update.

    Note:
        Scalar state other than ``step`` (NAdam's ``mu_product``, ASGD's ``eta``, ``mu``) is
        kept as float64 0-d tensors whatever torch's default dtype, so that gdlab's float64
        arithmetic is not rounded through float32 between steps. Optimizers whose ``step``
        is not a per-parameter rule (LBFGS) run gdlab's own ``step`` on gdlab Parameters that
        view the torch tensors, with the torch closure behind it. A schedule-free optimizer's
        ``train()`` / ``eval()`` are forwarded (the tensors move to y / x); other optimizers
        have no such attributes.

    Update: the wrapped gdlab class's (see its docstring); e.g. ``"Momentum"`` is the
    articles' v ← μ·v + lr·g; θ ← θ − v, which torch.optim does not offer.

    Args:
        params: torch parameters or param groups (as for any torch optimizer); CPU
            float32/float64 dense tensors.
        optimizer: a gdlab optimizer class (``gdlab.optim.Adam``); a registry name as the CLI
            takes it (``"adam"``, ``"momentum"``: SGD with momentum 0.9, ``"lookahead"``,
            ``"sam"``, ``"adamw_schedule_free"``...), with the registry's lr and settings;
            ``pkg.module:Name`` (a class, a ``chain`` or a rule function); or a class name
            (``"Momentum"``, ``"Adafactor"``, case-insensitive where no registry name is).
        **hparams: the gdlab class's hyper-parameters (``lr``, ``momentum``, ``betas``...),
            over the name's settings, validated by the class with its messages.

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
        resolved = resolve_optimizer(optimizer)
        self._setup(resolved.cls, {**resolved.defaults, **hparams})
        defaults = {
            k: torch.optim.optimizer.required if v is gdlab_required else v
            for k, v in self._probe.defaults.items()
        }
        super().__init__(params, defaults)
        self._make_shadow()

    def _setup(self, cls: type[Optimizer], hparams: dict[str, Any]) -> None:
        try:  # the gdlab class validates and completes the hyper-parameters
            self._probe = cls([Parameter(np.zeros(1))], **hparams)
        except TypeError as exc:
            if "unexpected keyword" in str(exc):
                raise TypeError(f"TorchOptimizer({cls.__name__}): {exc}") from exc
            raise
        self.gdlab_class = cls
        self._hparams = dict(hparams)
        self._uses_rule = cls._rule is not None and cls.step is Optimizer.step
        self._shadow: Optimizer | None = None
        self._views: dict[torch.Tensor, ParamViews] = {}

    def _make_shadow(self) -> None:
        if not self._uses_rule:  # e.g. LBFGS, whose step is not a per-parameter rule
            self._shadow = self.gdlab_class(
                [{"params": [Parameter(cpu_view(p, "a parameter")) for p in g["params"]]}
                 for g in self.param_groups],
                **self._hparams,
            )  # fmt: skip

    def __getstate__(self) -> dict[str, Any]:
        # torch's keeps defaults, state and param_groups; copy.deepcopy also needs the class
        return {**super().__getstate__(), "gdlab_class": self.gdlab_class,
                "_hparams": self._hparams}  # fmt: skip

    def __setstate__(self, state: dict[str, Any]) -> None:
        # also called by torch's load_state_dict with only state and param_groups
        cls, hparams = state.pop("gdlab_class", None), state.pop("_hparams", None)
        super().__setstate__(state)
        if cls is not None:
            self._setup(cls, hparams)
            self._make_shadow()

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """torch's ``add_param_group`` plus the gdlab class's hyper-parameter checks."""
        super().add_param_group(param_group)
        try:
            for p in self.param_groups[-1]["params"]:
                check_param(p)
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
        stepped = []
        for group in self.param_groups:
            updates = []
            for p in group["params"]:
                if p._grad is None:
                    continue
                tstate = self.state[p]
                views = self._views.get(p)
                if views is None or not views.valid(p, tstate):
                    views = self._views[p] = ParamViews(p, tstate, scalar_keys)
                updates.append((p, views, views.rule_state()))
            items = [(v.param, cpu_view(p._grad, "a gradient"), s) for p, v, s in updates]
            apply_rule(rule, items, self._probe._rule_kwargs(group), group.get("fused"))
            for p, views, state in updates:
                if views.write_back(state):
                    del self._views[p]
                stepped.append(p)
        if stepped:  # NumPy writes bypass torch's version counter; bump it as torch's ops do
            torch.autograd.graph.increment_version(stepped)
        return loss

    @property
    def train(self) -> Callable[[], None]:
        """``optimizer.train()`` of a schedule-free gdlab optimizer (the parameters to y, where
        gradients are taken); an optimizer without modes has no ``train`` attribute, so code
        that looks for one (``hasattr(opt, "train")``) leaves it alone."""
        return self._mode_switch(train=True)

    @property
    def eval(self) -> Callable[[], None]:
        """``optimizer.eval()`` of a schedule-free gdlab optimizer (the parameters to x, where
        the method is evaluated and saved); absent for an optimizer without modes."""
        return self._mode_switch(train=False)

    def _mode_switch(self, *, train: bool) -> Callable[[], None]:
        cls = self.gdlab_class
        if not (callable(getattr(cls, "train", None)) and callable(getattr(cls, "eval", None))):
            what = "train" if train else "eval"
            raise AttributeError(
                f"TorchOptimizer({cls.__name__}) has no {what}(): {cls.__name__} has no "
                "train/eval modes (only the schedule-free optimizers have them)"
            )

        def switch() -> None:
            pairs = self._sync_shadow()
            (self._shadow.train if train else self._shadow.eval)()
            self._sync_back(pairs)

        return switch

    def _sync_shadow(self) -> list[tuple[Any, Parameter]]:
        """The shadow optimizer's groups, parameters (views of the tensors), state and
        gradients from this optimizer's; returns the (tensor, Parameter) pairs."""
        shadow = self._shadow
        pairs = []
        for tg, sg in zip(self.param_groups, shadow.param_groups, strict=True):
            sg.update({k: v for k, v in tg.items() if k != "params"})
            for tp, sp in zip(tg["params"], sg["params"], strict=True):
                sp.data = cpu_view(tp, "a parameter")  # the tensor's storage may be new
                pairs.append((tp, sp))
        built, shadow.state = shadow.state, defaultdict(dict)
        for tp, sp in pairs:
            if tp in self.state:
                # the work arrays ("_" keys, never torch state) carry over: no allocation
                work = {k: v for k, v in built.get(sp, {}).items() if k.startswith("_")}
                shadow.state[sp] = to_numpy_tree(self.state[tp]) | work
            elif sp in built:  # state made with the optimizer (Lookahead's slow weights)
                shadow.state[sp] = built[sp]
            # the gradients already there (stepped without a closure, or SAM's at w)
            sp.grad = None if tp.grad is None else cpu_view(tp.grad, "a gradient")
        return pairs

    def _sync_back(self, pairs: list[tuple[Any, Parameter]]) -> None:
        """This optimizer's state and groups from the shadow's, after it changed them."""
        shadow = self._shadow
        for tp, sp in pairs:
            if sp in shadow.state:  # not the work arrays (keys with "_"), which are not state
                saved = {k: v for k, v in shadow.state[sp].items() if not k.startswith("_")}
                self.state[tp] = to_torch_tree(saved)
        for tg, sg in zip(self.param_groups, shadow.param_groups, strict=True):
            # what the optimizer keeps in its groups (Prodigy's d, schedule-free's mode)
            tg.update({k: v for k, v in sg.items() if k != "params" and k not in self.defaults})
        torch.autograd.graph.increment_version([tp for tp, _ in pairs])

    def _shadow_step(self, closure: Callable[[], Any] | None) -> Any:
        """Run the gdlab optimizer's own ``step`` on gdlab Parameters viewing the tensors."""
        shadow = self._shadow
        pairs = self._sync_shadow()
        first_loss = []

        def gdlab_closure() -> Any:
            with torch.enable_grad():
                loss = closure()
            for tp, sp in pairs:
                sp.grad = None if tp.grad is None else cpu_view(tp.grad, "a gradient")
            first_loss.append(loss)
            # gdlab reads the value with float(): detached, so torch does not warn
            return loss.detach() if isinstance(loss, torch.Tensor) else loss

        loss = shadow.step(None if closure is None else gdlab_closure)
        loss = first_loss[0] if first_loss else loss  # what torch.optim.LBFGS returns
        self._sync_back(pairs)
        return loss

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load torch's layout (from this class or the matching ``torch.optim`` class) or a
        gdlab optimizer's ``state_dict()``; the input is copied, never shared or changed."""
        state_dict = dict(state_dict)
        state_dict["state"] = to_torch_tree(dict(state_dict["state"]), copy=True)
        # how the step runs stays this optimizer's choice (as in gdlab's load_state_dict): a
        # torch checkpoint saved with capturable=True still loads here
        flags = [{k: g[k] for k in EXECUTION_FLAGS if k in g} for g in self.param_groups]
        super().load_state_dict(state_dict)
        self._views.clear()
        for group, kept in zip(self.param_groups, flags, strict=True):
            group.update(kept)
            for k, v in self.defaults.items():  # keys the other side does not save (eps_hat)
                group.setdefault(k, v)
            self._probe._validate(group)

    def __repr__(self) -> str:
        return (
            f"TorchOptimizer[{self.gdlab_class.__name__}]"
            + super().__repr__()[len(type(self).__name__) :]
        )
