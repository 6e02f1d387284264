"""SAM and ASAM: step from the worst point of a small neighbourhood (two gradients a step)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gdlab.optim._base_optimizer import resolve_base
from gdlab.optim.optimizer import Optimizer, ParamsT, _number
from gdlab.tensor import Tensor

__all__ = ["SAM", "sam_perturbation"]


def sam_perturbation(rows: list[tuple[np.ndarray, np.ndarray, float, bool]]) -> list[np.ndarray]:
    """ε̂ = ρ·T²g/‖T·g‖ for rows (w, g, ρ, adaptive), T = diag(|w|) (ASAM) or I (SAM): the
    ascent step to the neighbourhood's first-order worst point, with the norm over every
    row (the reference rule; see :class:`SAM`)."""
    scaled = [np.abs(w) * g if adaptive else g for w, g, _, adaptive in rows]
    norm = math.sqrt(sum(float(np.linalg.norm(s.ravel())) ** 2 for s in scaled))
    return [(w * w * g if adaptive else g) * (rho / (norm + 1e-12)) for w, g, rho, adaptive in rows]


class SAM(Optimizer):
    """Sharpness-Aware Minimization (Foret et al. 2021) and its adaptive form ASAM (Kwon et
    al. 2021): the base optimizer steps with the gradient taken at the worst point of a
    ρ-ball around the weights.

    Update (two gradient evaluations per step)::

        ε̂ = ρ·T_w²·∇L(w) / ‖T_w·∇L(w)‖        T_w = I (SAM) or diag(|w|) (ASAM, adaptive)
        g = ∇L(w + ε̂)                           # first_step moves to w + ε̂
        w ← base_optimizer step from w with g   # second_step moves back, then steps

    As the authors' code (davda54/sam): compute the loss and gradient at w, then either
    ``first_step()``, a second forward/backward, ``second_step()``; or ``step(closure)``,
    which does the three (the closure re-evaluates the loss and calls ``backward``). The
    Trainer does this for you: SAM has ``requires_closure = True`` and
    ``gradient_before_closure = True``, so the loop computes the gradient at w, then calls
    ``step(closure)``.

    Note:
        As davda54's ``SAM`` (names and defaults: ``rho``, ``adaptive``, the base
        optimizer as a class with its keyword arguments; ‖T·g‖ in the parameters' dtype).
        pytorch-optimizer's ``SAM`` is the same code (plus ``use_gc`` and ``perturb_eps``,
        left out here) except that it sums ‖T·g‖² in float32: on the float64 test problem
        its path differs from gdlab's by up to 3.7e-7 (relative, 50 steps); with that sum
        in float64 the two agree step for step to 1e-9, which the tests check. The base
        optimizer shares the wrapper's param groups and, as in pytorch-optimizer, its
        state: ``state_dict()`` holds the base optimizer's buffers (davda54's keeps only
        its own, dropping them).

    Args:
        params: parameters or param groups (a group may set its own ``rho``/``adaptive``).
        base_optimizer: a gdlab optimizer class (``SGD``, ``Adam``...), or a registry name
            (``"momentum"``: its class with the registry's defaults under ``kwargs``).
        rho: the neighbourhood's radius (default 0.05; ASAM's paper uses larger, ~0.5-2).
        adaptive: ASAM's scale-invariant neighbourhood (default False).
        **kwargs: the base optimizer's arguments (``lr=0.1, momentum=0.9``...).

    Example:
        >>> from gdlab.nn import Parameter
        >>> from gdlab.optim import SGD
        >>> w = Parameter(np.array([3.0, 4.0]))
        >>> opt = SAM([w], SGD, rho=0.5, lr=0.1)
        >>> def closure():  # the gradient of ‖w‖²/2 at the current (perturbed) point
        ...     w.grad = w.data.copy()
        ...     return 0.5 * float(w.data @ w.data)
        >>> _ = closure()
        >>> _ = opt.step(closure)  # SGD from w with the gradient at w + 0.5·w/‖w‖
        >>> w.data
        array([2.67, 3.56])

    Reference: Foret, Kleiner, Mobahi, Neyshabur, "Sharpness-Aware Minimization for
    Efficiently Improving Generalization", ICLR 2021, https://arxiv.org/abs/2010.01412;
    Kwon, Kim, Park, Choi, "ASAM: Adaptive Sharpness-Aware Minimization for Scale-Invariant
    Learning of Deep Neural Networks", ICML 2021, https://arxiv.org/abs/2102.11600;
    https://github.com/davda54/sam
    """

    requires_closure = True  # the training loop calls step(closure) ...
    gradient_before_closure = True  # ... after computing the gradient at w itself

    def __init__(
        self,
        params: ParamsT,
        base_optimizer: type[Optimizer] | str,
        rho: float = 0.05,
        adaptive: bool = False,
        **kwargs: Any,
    ) -> None:
        base_optimizer, kwargs = resolve_base(base_optimizer, kwargs, "SAM")
        if not (isinstance(base_optimizer, type) and issubclass(base_optimizer, Optimizer)):
            raise TypeError(
                "SAM: base_optimizer must be a gdlab optimizer class (SGD, Adam...), got "
                f"{base_optimizer!r}"
            )
        if getattr(base_optimizer, "requires_closure", False):
            raise ValueError(f"SAM: base_optimizer {base_optimizer.__name__} needs a closure")
        if isinstance(params, Tensor | set | frozenset):
            super().__init__(params, {})  # the base class's TypeError for these
        groups = list(params)
        if groups and not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        own = [{k: g[k] for k in ("rho", "adaptive") if k in g} for g in groups]
        self.base_optimizer = base_optimizer(
            [{k: v for k, v in g.items() if k not in ("rho", "adaptive")} for g in groups],
            **kwargs,
        )  # it checks the parameters and its own hyper-parameters
        self.defaults = {"rho": rho, "adaptive": adaptive} | self.base_optimizer.defaults
        self.param_groups = self.base_optimizer.param_groups
        self.state = self.base_optimizer.state
        for group, extra in zip(self.param_groups, own, strict=True):
            group.update({"rho": rho, "adaptive": adaptive} | extra)
            self._validate(group)

    def _validate(self, group: dict[str, Any]) -> None:
        if not 0.0 <= group["rho"] < math.inf:
            raise ValueError(f"Invalid rho value: {group['rho']}")

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group to the base optimizer (with its own ``rho``/``adaptive`` if given)."""
        group = dict(param_group)
        extra = {k: group.pop(k, self.defaults[k]) for k in ("rho", "adaptive")}
        self._validate(extra)
        self.base_optimizer.add_param_group(group)
        self.param_groups[-1].update(extra)

    def first_step(self, zero_grad: bool = False) -> None:
        """Move to w + ε̂ from the current gradient (kept to return: ``second_step``)."""
        stepped = [(p, g) for g in self.param_groups for p in g["params"] if p._grad is not None]
        rows = [(p.data, p._grad, _number(g["rho"]), bool(g["adaptive"])) for p, g in stepped]
        for (p, _), e in zip(stepped, sam_perturbation(rows), strict=True):
            self.state[p]["old_p"] = p.data.copy()
            p._version += 1
            p.data += e
        if zero_grad:
            self.zero_grad()

    def second_step(self, zero_grad: bool = False) -> None:
        """Back to w, then the base optimizer's step with the gradient taken at w + ε̂."""
        for group in self.param_groups:
            for p in group["params"]:
                old = self.state[p].pop("old_p", None) if p in self.state else None
                if old is not None:
                    p._version += 1
                    p.data[...] = old
        self.base_optimizer.step()
        self._opt_called = True
        if zero_grad:
            self.zero_grad()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """``first_step``, the closure (gradient at w + ε̂), ``second_step``. The gradient at
        w must already be there (compute it before calling). Returns the closure's value."""
        if closure is None:
            raise ValueError(
                "SAM.step requires a closure that recomputes the loss and gradients "
                "(or call first_step() and second_step() yourself)"
            )
        self.first_step(zero_grad=True)
        loss = self._closure_loss(closure)
        self.second_step()
        return loss

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the groups and the base optimizer's state (shared with it)."""
        self.base_optimizer.load_state_dict(state_dict)
        self.param_groups = self.base_optimizer.param_groups
        self.state = self.base_optimizer.state

    def state_dict(self) -> dict[str, Any]:
        """The base optimizer's state dict (its groups carry ``rho`` and ``adaptive``)."""
        return self.base_optimizer.state_dict()
