"""Newton's method and its two safeguarded relatives: damped Newton and Gauss-Newton.

All three solve a linear system in a curvature matrix instead of following the gradient:

    Newton         θ ← θ − lr·(H + λI)⁻¹·g           H the Hessian (one step on a quadratic)
    damped Newton  θ ← θ − t·|H|_δ⁻¹·g               |H|_δ = V·max(|Λ|, δ)·Vᵀ, t by backtracking
    Gauss-Newton   θ ← θ − lr·(JᵀJ + λI)⁻¹·Jᵀr      for f = ½‖r(θ)‖², J the Jacobian of r

The curvature comes from the engine: the closure calls ``loss.backward(create_graph=True)``
and the Hessian is differentiated from the gradients (``optim/_curvature.py``), n HVPs per
step; the matrix is n × n, so these are for small problems (2-D surfaces, logistic
regression, a few hundred parameters). Reference: Nocedal & Wright, "Numerical
Optimization", ch. 3 (Newton, Hessian modification, backtracking) and ch. 10 (Gauss-Newton);
Boyd & Vandenberghe, "Convex Optimization", §9.5 (damped Newton); d2l.ai §12.3.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gdlab.autograd.engine import grad
from gdlab.autograd.grad_mode import enable_grad
from gdlab.optim._curvature import graph_gradients, hessian_matrix
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters
from gdlab.tensor import Tensor

__all__ = ["DampedNewton", "GaussNewton", "Newton", "newton_direction"]


def newton_direction(hessian: np.ndarray, grad_flat: np.ndarray, damping: float) -> np.ndarray:
    """(H + λI)⁻¹·g; a singular system falls back to the least-squares (pseudo-inverse) solution."""
    a = hessian + damping * np.eye(len(grad_flat))
    try:
        return np.linalg.solve(a, grad_flat)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(a, grad_flat, rcond=None)[0]


class _SecondOrder(Optimizer):
    """The machinery the family shares: one group, a closure, flat views of the parameters."""

    requires_closure = True  # the training loop and the lab call step(closure)
    requires_create_graph = True  # ... whose backward must keep the gradient's graph
    _nonnegative = ("damping",)

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError(
                f"{type(self).__name__} doesn't support per-parameter options (parameter groups)"
            )
        self._params = self.param_groups[0]["params"]

    def _require(self, closure: Callable[[], Any] | None) -> Callable[[], Any]:
        if closure is None:
            raise ValueError(f"{type(self).__name__} requires a closure: step(closure)")
        self._opt_called = True
        return closure

    def _flat(self, arrays: list) -> np.ndarray:
        return np.concatenate([np.asarray(a, np.float64).reshape(-1) for a in arrays])

    def _move(self, step: np.ndarray) -> None:
        """θ ← θ + step (flat, float64), in the parameters' dtype."""
        offset = 0
        for p in self._params:
            n = p.data.size
            p.data += step[offset : offset + n].reshape(p.shape).astype(p.dtype)
            p._version += 1
            offset += n

    def _count(self) -> None:
        state = self.state[self._params[0]]
        state["n_iter"] = state.get("n_iter", 0) + 1


class Newton(_SecondOrder):
    """Newton's method: θ ← θ − lr·(H + λI)⁻¹·∇f(θ).

    On a quadratic with positive definite H, one step with lr = 1 lands on the minimum. Where
    H is not positive definite the step may climb (d2l 12.3's x·cos(cx)); ``damping`` λ > 0
    (Levenberg) shortens and turns the step towards the gradient; ``DampedNewton`` is the
    safeguarded method.

    Args:
        params: the parameters (one group).
        lr: step size η (default 1, the pure Newton step).
        damping: λ ≥ 0 added to the Hessian's diagonal (default 0).

    Example:
        >>> import numpy as np
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([3.0, -2.0]))
        >>> opt = Newton([w])
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = (w * w).sum() + w[0] * w[1] - w[0]
        ...     loss.backward(create_graph=True)
        ...     return loss
        >>> _ = opt.step(closure)          # a quadratic: one step to its minimum
        >>> np.round(w.data, 12).tolist()
        [0.666666666667, -0.333333333333]

    Reference: Nocedal & Wright, "Numerical Optimization", §3.3; d2l.ai §12.3.3.
    """

    def __init__(self, params: ParamsT, lr: float = 1.0, damping: float = 0.0) -> None:
        super().__init__(params, hyperparameters(locals()))

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Newton step from the closure's gradient and Hessian; returns its loss."""
        closure = self._require(closure)
        group = self.param_groups[0]
        loss = self._closure_loss(closure)
        grads = graph_gradients(self._params, "Newton")
        g = self._flat([x.data for x in grads])
        d = newton_direction(hessian_matrix(grads, self._params), g, float(group["damping"]))
        self._move(-float(group["lr"]) * d)
        self._count()
        return loss


class DampedNewton(_SecondOrder):
    """Damped Newton: a Newton direction made a descent direction, with a backtracking step.

        |H|_δ = V·max(|Λ|, δ)·Vᵀ   (H = V·Λ·Vᵀ; negative curvature flipped, tiny floored)
        d = −|H|_δ⁻¹·g
        t = lr·βᵏ, the first k with f(θ + t·d) ≤ f(θ) + c₁·t·gᵀd  (Armijo)
        θ ← θ + t·d

    Near a minimum with positive definite H it takes the full Newton step (quadratic
    convergence); elsewhere it never climbs, unlike pure Newton (d2l 12.3 suggests the
    absolute value of the Hessian for x·cos(cx); this is that fix with a line search).

    Args:
        params: the parameters (one group).
        lr: the first trial step (default 1).
        damping: δ > 0, the smallest curvature allowed (default 1e-8).
        c1: Armijo's sufficient-decrease constant (default 1e-4).
        backtrack: β, the step's shrink factor (default 0.5).
        max_backtracks: at most this many halvings (then the last trial is kept; default 30).

    Reference: Boyd & Vandenberghe, "Convex Optimization", §9.5.2; Nocedal & Wright,
    "Numerical Optimization", §3.4 (Hessian modification); Dauphin et al., "Identifying and
    attacking the saddle point problem", NeurIPS 2014 (|H|).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        damping: float = 1e-8,
        c1: float = 1e-4,
        backtrack: float = 0.5,
        max_backtracks: int = 30,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        if not 0.0 < group["c1"] < 1.0:
            raise ValueError(f"Invalid c1 value: {group['c1']}")
        if not 0.0 < group["backtrack"] < 1.0:
            raise ValueError(f"Invalid backtrack value: {group['backtrack']}")
        backtracks = group["max_backtracks"]
        if isinstance(backtracks, bool) or not isinstance(backtracks, int) or backtracks < 0:
            raise ValueError(f"Invalid max_backtracks value: {backtracks!r}")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One damped Newton step (the closure may run several times); returns the first loss."""
        closure = self._require(closure)
        group = self.param_groups[0]
        loss = self._closure_loss(closure)
        f0 = float(loss)
        grads = graph_gradients(self._params, "DampedNewton")
        g = self._flat([x.data for x in grads])
        values, vectors = np.linalg.eigh(hessian_matrix(grads, self._params))
        curvature = np.maximum(np.abs(values), float(group["damping"]))
        d = -(vectors @ ((vectors.T @ g) / curvature))
        slope = float(g @ d)
        t = float(group["lr"])
        start = [p.data.copy() for p in self._params]
        for k in range(group["max_backtracks"] + 1):
            self._move(t * d)
            trial = float(self._closure_loss(closure))
            if trial <= f0 + group["c1"] * t * slope or k == group["max_backtracks"]:
                break
            for p, saved in zip(self._params, start, strict=True):
                p.data[...] = saved
                p._version += 1
            t *= group["backtrack"]
        self.state[self._params[0]]["t"] = t
        self._count()
        return loss


class GaussNewton(_SecondOrder):
    """Gauss-Newton for least squares f(θ) = ½‖r(θ)‖²: θ ← θ − lr·(JᵀJ + λI)⁻¹·Jᵀr.

    JᵀJ is the Hessian without the residuals' own curvature Σ rᵢ·∇²rᵢ: always positive
    semi-definite, exact at a zero-residual solution, and on a linear model (r = Aθ − b) one
    step solves the normal equations. λ > 0 is Levenberg's damping.

    The closure returns the residual vector r (a Tensor with a graph, built with gradients
    enabled) and calls no ``backward``; ``step`` returns the loss ½‖r‖². The Jacobian costs one
    backward pass per residual.

    Args:
        params: the parameters (one group).
        lr: step size (default 1).
        damping: λ ≥ 0 (default 0).

    Example:
        >>> import numpy as np
        >>> from gdlab.nn import Parameter
        >>> from gdlab import tensor
        >>> x, y = tensor([0.0, 1.0, 2.0]), tensor([1.0, 3.0, 5.0])
        >>> theta = Parameter(np.zeros(2))              # y ≈ θ₀ + θ₁·x
        >>> opt = GaussNewton([theta])
        >>> _ = opt.step(lambda: theta[0] + theta[1] * x - y)   # the residuals
        >>> np.round(theta.data, 12).tolist()           # linear: one step solves it
        [1.0, 2.0]

    Reference: Nocedal & Wright, "Numerical Optimization", §10.3.
    """

    requires_create_graph = False  # the Jacobian comes from the residuals' own graph

    def __init__(self, params: ParamsT, lr: float = 1.0, damping: float = 0.0) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _jacobian(self, r: Tensor) -> np.ndarray:
        m = r.data.size
        rows = np.empty((m, sum(p.data.size for p in self._params)))
        for i in range(m):
            e = np.zeros(m, r.dtype)
            e[i] = 1.0
            with enable_grad():
                gs = grad(r, self._params, e.reshape(r.shape), retain_graph=True, allow_unused=True)
            rows[i] = self._flat([np.zeros(p.shape) if x is None else x
                                  for x, p in zip(gs, self._params, strict=True)])  # fmt: skip
        return rows

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Gauss-Newton step from the closure's residuals; returns ½‖r‖² before it."""
        closure = self._require(closure)
        group = self.param_groups[0]
        r = self._closure_loss(closure)
        if not isinstance(r, Tensor) or not r.requires_grad:
            raise TypeError(
                "GaussNewton: the closure must return the residuals as a Tensor that depends "
                f"on the parameters, got {type(r).__name__}"
            )
        jac = self._jacobian(r)
        res = np.asarray(r.data, np.float64).reshape(-1)
        d = newton_direction(jac.T @ jac, jac.T @ res, float(group["damping"]))
        self._move(-float(group["lr"]) * d)
        self._count()
        return 0.5 * float(res @ res)
