"""``from_rule``: a torch-shaped optimizer class from a rule function, with no glue.

A researcher writes the update as a rule in the form of every gdlab optimizer
(``optim/lion.py: lion_(param, grad, state, *, lr, ...)``, updating the arrays in place) and a
dict of default hyper-parameters; :func:`from_rule` returns the class: param groups, state,
``state_dict``, schedulers, hooks, and the constructor's validation derived from the
defaults' types.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable
from typing import Any

from gdlab.optim.optimizer import Optimizer, ParamsT

__all__ = ["from_rule"]


def _rule_keywords(rule: Callable[..., None]) -> tuple[set[str], set[str], bool]:
    """The rule's keyword hyper-parameters: (all, required, takes **kwargs)."""
    params = list(inspect.signature(rule).parameters.values())
    if len(params) < 3 or any(
        p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params[:3]
    ):
        raise TypeError(
            f"from_rule: {rule.__name__} must take (param, grad, state, *, lr, ...), "
            f"got {inspect.signature(rule)}"
        )
    rest = params[3:]
    names = {p.name for p in rest if p.kind != p.VAR_KEYWORD}
    required = {p.name for p in rest if p.default is p.empty and p.kind == p.KEYWORD_ONLY}
    return names, required, any(p.kind == p.VAR_KEYWORD for p in rest)


def _check_value(owner: str, key: str, default: Any, value: Any) -> None:
    """The checks a default's type implies: a number of the same kind (>= 0 and finite when
    the default is), a bool, a tuple of the same length, or anything for other defaults."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise TypeError(f"{owner}: {key} must be a bool, got {value!r}")
    elif isinstance(default, numbers.Real):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{owner}: {key} must be a number, got {value!r}")
        if isinstance(default, numbers.Integral) and not isinstance(value, numbers.Integral):
            raise TypeError(f"{owner}: {key} must be an int, got {value!r}")
        if math.isfinite(default) and not math.isfinite(value):
            raise ValueError(f"Invalid {key} value: {value}")
        if default >= 0 and not value >= 0:
            raise ValueError(f"Invalid {key} value: {value}")
    elif isinstance(default, tuple):
        if not isinstance(value, tuple | list) or len(value) != len(default):
            raise ValueError(
                f"{owner}: {key} must be a sequence of {len(default)} values, got {value!r}"
            )
        for i, (d, v) in enumerate(zip(default, value, strict=True)):
            _check_value(owner, f"{key}[{i}]", d, v)


def from_rule(
    rule: Callable[..., None], defaults: dict[str, Any], name: str | None = None
) -> type[Optimizer]:
    """A torch-shaped optimizer class whose step runs ``rule`` on every parameter.

    Args:
        rule: ``rule(param, grad, state, *, lr, ...)``: one step in place on arrays; ``state``
            is the parameter's dict (create its entries on first use, name them as torch).
        defaults: every hyper-parameter the rule takes, with its default; ``lr`` is required.
            The constructor validates each value against its default: a number stays a
            number (>= 0 and finite if the default is, so ``lr=-1`` gives torch's
            ``Invalid learning rate: -1``), a bool a bool, a tuple a tuple of that length
            (``betas`` also in [0, 1)).
        name: the class name (default: the rule's name without its trailing ``_``, titled).

    Example:
        >>> import numpy as np
        >>> from gdlab.nn import Parameter
        >>> def signsgd_(param, grad, state, *, lr, momentum=0.0):
        ...     m = state.setdefault("momentum_buffer", np.zeros_like(param))
        ...     m *= momentum
        ...     m += (1.0 - momentum) * grad
        ...     param -= lr * np.sign(m)
        >>> SignSGD = from_rule(signsgd_, {"lr": 0.01, "momentum": 0.9}, name="SignSGD")
        >>> w = Parameter(np.array([1.0, -1.0]))
        >>> opt = SignSGD([w], lr=0.1)
        >>> w.grad = np.array([2.0, -3.0])
        >>> opt.step()
        >>> w.data
        array([ 0.9, -0.9])
        >>> SignSGD([w], lr=-1.0)
        Traceback (most recent call last):
        ...
        ValueError: Invalid learning rate: -1.0
    """
    if not callable(rule):
        raise TypeError(f"from_rule: rule must be a function, got {rule!r}")
    if not isinstance(defaults, dict) or "lr" not in defaults:
        raise ValueError(f"from_rule: defaults must be a dict with an 'lr', got {defaults!r}")
    names, required, var_kw = _rule_keywords(rule)
    unknown = set(defaults) - names
    if unknown and not var_kw:
        raise TypeError(f"from_rule: {rule.__name__} takes no hyper-parameter {sorted(unknown)}")
    missing = required - set(defaults)
    if missing:
        raise TypeError(f"from_rule: defaults lack {sorted(missing)}, which {rule.__name__} needs")
    cls_name = name or rule.__name__.rstrip("_").title().replace("_", "")
    if not cls_name.isidentifier():
        raise ValueError(f"from_rule: name must be an identifier, got {cls_name!r}")
    frozen = dict(defaults)

    def __init__(self: Optimizer, params: ParamsT, *args: Any, **hyper: Any) -> None:
        if len(args) > len(frozen):
            raise TypeError(f"{cls_name}() takes at most {len(frozen)} hyper-parameters")
        positional = dict(zip(frozen, args, strict=False))
        clash = set(positional) & set(hyper)
        if clash:
            raise TypeError(f"{cls_name}() got multiple values for {sorted(clash)}")
        hyper = positional | hyper
        bad = set(hyper) - set(frozen)
        if bad:
            raise TypeError(f"{cls_name}() got unexpected hyper-parameters {sorted(bad)}")
        Optimizer.__init__(self, params, frozen | hyper)

    def _validate(self: Optimizer, group: dict[str, Any]) -> None:
        for key, default in frozen.items():
            if key != "lr":  # the base checks lr (and betas) with torch's messages
                _check_value(cls_name, key, default, group[key])
        Optimizer._validate(self, group)

    signature = [
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter("params", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        *(inspect.Parameter(k, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=v)
          for k, v in frozen.items()),
    ]  # fmt: skip
    __init__.__signature__ = inspect.Signature(signature)  # type: ignore[attr-defined]
    namespace = {
        "__init__": __init__,
        "_validate": _validate,
        "_rule": staticmethod(rule),
        "__doc__": inspect.getdoc(rule) or f"The optimizer of the rule {rule.__name__}.",
        "__module__": getattr(rule, "__module__", __name__),
        "__qualname__": cls_name,
    }
    return type(cls_name, (Optimizer,), namespace)
