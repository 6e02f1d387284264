"""``chain``: a sequence of gradient transformations as a torch-shaped optimizer.

The optimizer keeps each parameter's transformation state in ``optimizer.state[p]``,
flattened to torch-style keys (``"0.exp_avg"``: transformation 0's ``exp_avg``), so
``state_dict``/``load_state_dict`` and checkpoints work as for every other optimizer, and
three work arrays (``"_scratch"``, not saved) in which the update is computed: a step
allocates no array of the parameter's size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gdlab.optim._scratch import scratch
from gdlab.optim.optimizer import Optimizer, ParamsT
from gdlab.optim.transforms.base import GradientTransformation, Update, compose
from gdlab.tensor import Tensor

__all__ = ["Chain", "chain"]


def _grad_array(p: Tensor) -> np.ndarray:
    """The parameter's gradient as an array (``p.grad`` is an array or a Tensor over one)."""
    g = p._grad
    return g.data if isinstance(g, Tensor) else np.asarray(g)


def _flatten(state: Any, prefix: str = "") -> dict[str, Any]:
    """A nested state (NamedTuples, tuples) as ``{"0.exp_avg": array, ...}``."""
    if isinstance(state, tuple):
        names = state._fields if hasattr(state, "_fields") else range(len(state))
        out: dict[str, Any] = {}
        for name, value in zip(names, state, strict=True):
            out.update(_flatten(value, f"{prefix}{name}."))
        return out
    return {prefix[:-1]: state}


def _unflatten(template: Any, flat: dict[str, Any], prefix: str = "") -> Any:
    """The inverse of :func:`_flatten`, shaped like ``template``."""
    if isinstance(template, tuple):
        names = template._fields if hasattr(template, "_fields") else range(len(template))
        values = [
            _unflatten(v, flat, f"{prefix}{n}.") for n, v in zip(names, template, strict=True)
        ]
        return type(template)(*values) if hasattr(template, "_fields") else tuple(values)
    return flat[prefix[:-1]]


class Chain(Optimizer):
    """An optimizer made of a gradient transformation (see :func:`chain`).

    The step: u = g (−g with ``maximize``), ``u, states = transformation.update(...)``,
    θ ← θ + u. Param groups, ``state_dict``, ``zero_grad``, schedulers (which write
    ``group["lr"]``, read by :func:`~gdlab.optim.transforms.scale_by_lr`) work as usual.

    Args:
        params: parameters or param groups.
        transformation: the (composed) gradient transformation.
        lr: the groups' default lr; None takes the transformation's (its ``scale_by_lr``).
            A transformation that does not scale by the lr takes none.
        maximize: maximize the objective (default False).
    """

    def __init__(
        self, params: ParamsT, transformation: GradientTransformation, lr: float | None = None,
        *, maximize: bool = False,
    ) -> None:  # fmt: skip
        if not isinstance(transformation, GradientTransformation):
            raise TypeError(
                f"Chain: transformation must be a GradientTransformation, got {transformation!r}"
            )
        if lr is not None and transformation.lr is None:
            raise ValueError(
                f"Chain: lr={lr} given but no transformation scales by the lr (add scale_by_lr)"
            )
        self.transformation = transformation
        self._template = transformation.init(np.zeros(1))
        defaults: dict[str, Any] = {"maximize": maximize}
        if transformation.lr is not None:
            defaults = {"lr": transformation.lr if lr is None else lr, **defaults}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Transform the gradients of each param group and add the updates to the parameters."""
        loss = self._closure_loss(closure)
        self._opt_called = True
        for group in self.param_groups:
            params = [p for p in group["params"] if p._grad is not None]
            if not params:
                continue
            states = [self._param_state(p) for p in params]
            updates = [self._start(p, group["maximize"]) for p in params]
            lr = float(group["lr"]) if "lr" in group else None
            arrays = [p.data for p in params]
            updates, states = self.transformation.update(updates, states, arrays, lr)
            for p, u, s in zip(params, updates, states, strict=True):
                p._version += 1
                _apply_(p.data, u)
                work = self.state[p]["_scratch"]
                self.state[p] = _flatten(s)
                self.state[p]["_scratch"] = work
        return loss

    def _start(self, p: Tensor, maximize: bool) -> Update:
        """The update u = g (−g with ``maximize``) in the parameter's work arrays."""
        direction, work, spare = scratch(self.state[p], p.data, 3)
        g = _grad_array(p)
        if maximize:
            np.negative(g, out=direction)
        else:
            np.copyto(direction, g)
        return Update(direction, work, spare)

    def _param_state(self, p: Tensor) -> Any:
        flat = self.state.get(p)
        if not flat or len(flat) == 1 and "_scratch" in flat:
            return self.transformation.init(p.data)
        return _unflatten(self._template, flat)


def _apply_(param: np.ndarray, u: Update) -> None:
    """θ ← θ·(1 + decay) + (numerator/denominator)·direction, rounded as torch's and gdlab's
    AdamW round it (the decay first, then the scaled direction added)."""
    if u.decay:
        param *= 1.0 + u.decay
    if u.numerator != 1.0 or u.denominator != 1.0:
        np.multiply(u.direction, u.numerator / u.denominator, out=u.direction)
    param += u.direction


class ChainFactory:
    """What :func:`chain` returns: ``factory(params, lr=None, maximize=False)`` builds a
    :class:`Chain` (so it goes wherever an optimizer class does, as in the lab)."""

    def __init__(self, transformation: GradientTransformation) -> None:
        self.transformation = transformation

    def __call__(
        self, params: ParamsT, lr: float | None = None, *, maximize: bool = False
    ) -> Chain:
        return Chain(params, self.transformation, lr, maximize=maximize)

    def __repr__(self) -> str:
        return f"chain(lr={self.transformation.lr})"


def chain(*transforms: GradientTransformation) -> ChainFactory:
    """Compose gradient transformations into an optimizer (Optax's ``chain``, torch-shaped).

    ``chain(t1, t2, ...)(params)`` is a :class:`Chain` optimizer applying t1, then t2, ...
    to each param group's gradients and adding the result to the parameters.

    Example:
        >>> import numpy as np
        >>> from gdlab.nn import Parameter
        >>> from gdlab.optim import chain
        >>> from gdlab.optim.transforms import clip_by_global_norm, scale_by_lr, trace
        >>> w = Parameter(np.array([3.0, 4.0]))
        >>> opt = chain(clip_by_global_norm(1.0), trace(0.9), scale_by_lr(0.1))([w])
        >>> w.grad = np.array([3.0, 4.0])   # norm 5, clipped to 1
        >>> opt.step()
        >>> w.data
        array([2.94, 3.92])

    Reference: Babuschkin et al., "The DeepMind JAX Ecosystem" (Optax), 2020,
    https://github.com/google-deepmind/optax
    """
    return ChainFactory(compose(*transforms))
