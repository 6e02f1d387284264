"""Lookahead: k steps of any optimizer, then a step back toward where they started."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from gdlab.optim._base_optimizer import resolve_base
from gdlab.optim.optimizer import Optimizer, ParamsT, _to_array
from gdlab.tensor import Tensor

__all__ = ["Lookahead", "lookahead_"]

_PULLBACK = ("none", "reset", "pullback")


def lookahead_(
    fast: np.ndarray, slow: np.ndarray, *, alpha: float, inner_state: dict | None = None,
    slow_momentum: np.ndarray | None = None, pullback_momentum: str = "none",
) -> None:  # fmt: skip
    """The synchronisation after k inner steps, in place (the reference rule; see
    :class:`Lookahead`): φ ← φ + α·(θ − φ), then θ ← φ (and the momentum buffer as chosen)."""
    fast -= (1.0 - alpha) * (fast - slow)  # torch's lerp(θ, φ, 1 − α), rounded as it is
    slow[...] = fast
    if pullback_momentum == "pullback":
        buf = inner_state.setdefault("momentum_buffer", np.zeros_like(fast))
        buf -= (1.0 - alpha) * (buf - slow_momentum)
        slow_momentum[...] = buf
    elif pullback_momentum == "reset":
        inner_state["momentum_buffer"] = np.zeros_like(fast)


class Lookahead(Optimizer):
    """Lookahead (Zhang et al. 2019): the inner optimizer takes k fast steps θ; then the slow
    weights φ move a fraction α toward them and the fast weights restart from there.

    Update, every k inner steps::

        φ_{t+1} = φ_t + α·(θ_{t,k} − φ_t)
        θ_{t+1,0} = φ_{t+1}

    φ starts at the parameters' values when the wrapper is built. ``param_groups`` are the
    inner optimizer's (a scheduler built on the wrapper changes the inner lr);
    ``state_dict()`` holds the slow weights (``state``), the step counter and the inner
    optimizer's own state dict (``base_optimizer``).

    Note:
        As pytorch-optimizer's ``Lookahead`` (names, defaults, ``pullback_momentum``: what
        happens to a ``momentum_buffer`` of the inner optimizer at a synchronisation,
        "none" (the paper), "reset" to zero, or "pullback" interpolated as the weights),
        step for step; it counts steps per group, gdlab once (equal unless a group is added
        mid-run). ``Lookahead(params, base_optimizer="adam", lr=1e-3)`` builds the inner
        optimizer (pytorch-optimizer takes a class and its kwargs, params among them).

    Args:
        optimizer: the inner gdlab optimizer (an instance); or the parameters, with
            ``base_optimizer``.
        k: inner steps between synchronisations (default 5).
        alpha: the slow weights' step toward the fast ones, in [0, 1] (default 0.5).
        pullback_momentum: "none" (default), "reset" or "pullback".
        base_optimizer: with parameters as ``optimizer``: the inner optimizer's class or
            registry name (``"adam"``), built with ``**kwargs`` (the lab's form).
        **kwargs: the base optimizer's arguments (``lr=1e-3``...).

    Example:
        >>> from gdlab.nn import Parameter
        >>> from gdlab.optim import SGD
        >>> w = Parameter(np.array([1.0]))
        >>> opt = Lookahead(SGD([w], lr=0.1), k=2, alpha=0.5)
        >>> for _ in range(2):
        ...     w.grad = np.array([1.0])
        ...     opt.step()
        >>> w.data  # SGD reached 0.8; the slow weights went half-way from 1.0
        array([0.9])

    Reference: Zhang, Lucas, Hinton, Ba, "Lookahead Optimizer: k steps forward, 1 step
    back", NeurIPS 2019, https://arxiv.org/abs/1907.08610
    """

    def __init__(
        self,
        optimizer: Optimizer | ParamsT,
        k: int = 5,
        alpha: float = 0.5,
        pullback_momentum: str = "none",
        base_optimizer: type[Optimizer] | str | None = None,
        **kwargs: Any,
    ) -> None:
        if base_optimizer is not None:  # built here from the parameters, as SAM builds its base
            cls, kwargs = resolve_base(base_optimizer, kwargs, "Lookahead")
            optimizer = cls(optimizer, **kwargs)
        elif kwargs:
            raise TypeError(
                f"Lookahead: arguments {sorted(kwargs)} are for a base_optimizer, and none given"
            )
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                "Lookahead: optimizer must be a gdlab optimizer instance (or the parameters, "
                f"with base_optimizer=), got {type(optimizer).__name__}"
            )
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"Lookahead: k must be an integer >= 1, got {k!r}")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"Lookahead: alpha must be in [0, 1], got {alpha!r}")
        if pullback_momentum not in _PULLBACK:
            raise ValueError(
                f"Lookahead: pullback_momentum must be one of {_PULLBACK}, "
                f"got {pullback_momentum!r}"
            )
        self.optimizer = optimizer
        # the training loop's protocol, as the inner optimizer's (an L-BFGS or SAM inside)
        self.requires_closure = bool(getattr(optimizer, "requires_closure", False))
        self.gradient_before_closure = bool(getattr(optimizer, "gradient_before_closure", False))
        self.k, self.alpha, self.pullback_momentum = k, alpha, pullback_momentum
        self.defaults = dict(optimizer.defaults)
        self.counter = 0
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for group in self.param_groups:
            self._init_slow(group)

    def _init_slow(self, group: dict[str, Any]) -> None:
        for p in group["params"]:
            self.state[p]["slow_params"] = p.data.copy()
            if self.pullback_momentum == "pullback":
                self.state[p]["slow_momentum"] = np.zeros_like(p.data)

    @property
    def param_groups(self) -> list[dict[str, Any]]:  # type: ignore[override]
        """The inner optimizer's param groups."""
        return self.optimizer.param_groups

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group to the inner optimizer; its slow weights start at its values."""
        self.optimizer.add_param_group(param_group)
        self._init_slow(self.param_groups[-1])

    def zero_grad(self, set_to_none: bool = True) -> None:
        """The inner optimizer's ``zero_grad``."""
        self.optimizer.zero_grad(set_to_none)

    def step(self, closure: Any = None) -> Any:
        """One inner step; every k-th, the synchronisation. Returns the inner step's value."""
        loss = self.optimizer.step(closure)
        self._opt_called = True
        self.counter += 1
        if self.counter >= self.k:
            self.counter = 0
            for group in self.param_groups:
                for p in group["params"]:
                    slow = self.state[p]
                    p._version += 1
                    lookahead_(
                        p.data, slow["slow_params"], alpha=self.alpha,
                        inner_state=self.optimizer.state[p],
                        slow_momentum=slow.get("slow_momentum"),
                        pullback_momentum=self.pullback_momentum,
                    )  # fmt: skip
        return loss

    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {'slow_params': ...}}, 'counter': n, 'base_optimizer': ...}``
        (parameters numbered in group order, as torch's)."""
        params = [p for g in self.param_groups for p in g["params"]]
        return {
            "state": {i: dict(self.state[p]) for i, p in enumerate(params) if p in self.state},
            "counter": self.counter,
            "base_optimizer": self.optimizer.state_dict(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the slow weights, the counter and the inner optimizer (copies them)."""
        params = [p for g in self.param_groups for p in g["params"]]
        saved = state_dict["state"]
        if set(saved) != set(range(len(params))):
            raise ValueError(
                f"Lookahead: the state dict has slow weights for {len(saved)} parameters, "
                f"the optimizer has {len(params)}"
            )
        new: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for i, p in enumerate(params):
            for key, value in saved[i].items():
                value = np.asarray(_to_array(value), dtype=p.dtype)
                if value.shape != p.shape:
                    raise ValueError(
                        f"Lookahead: loaded state for parameter {i} ('{key}') has shape "
                        f"{value.shape}, which does not match the parameter's shape {p.shape}"
                    )
                new[p][key] = value.copy()
        self.optimizer.load_state_dict(state_dict["base_optimizer"])
        self.counter = int(state_dict["counter"])
        self.state = new

    def __repr__(self) -> str:
        return f"Lookahead(k={self.k}, alpha={self.alpha}, optimizer={self.optimizer!r})"
