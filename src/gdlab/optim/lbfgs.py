"""L-BFGS: limited-memory quasi-Newton steps from the last few gradient differences (torch's)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from gdlab.autograd.sparse import RowSparseGrad
from gdlab.optim._fma import fused_add
from gdlab.optim.linesearch import strong_wolfe
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters

__all__ = ["LBFGS", "two_loop_direction"]


def two_loop_direction(
    flat_grad: np.ndarray, old_dirs: list, old_stps: list, ro: list, h_diag: float
) -> np.ndarray:
    """−H·g by the two-loop recursion over the stored pairs (y_i, s_i), ρ_i = 1/(y_iᵀs_i).

    The vector updates are rounded once, as torch's ``add_(v, alpha=c)`` (an FMA): the
    iteration is chaotic enough on ill-conditioned problems that the rounding shows.
    """
    num_old = len(old_dirs)
    al = [0.0] * num_old
    q = -flat_grad
    for i in range(num_old - 1, -1, -1):
        al[i] = float(old_stps[i] @ q) * ro[i]
        q = fused_add(q, -al[i], old_dirs[i])
    r = q * h_diag
    for i in range(num_old):
        be_i = float(old_dirs[i] @ r) * ro[i]
        r = fused_add(r, al[i] - be_i, old_stps[i])
    return r


def _dense(grad: Any) -> np.ndarray:
    return grad.to_dense() if type(grad) is RowSparseGrad else grad


class LBFGS(Optimizer):
    """L-BFGS with an optional strong-Wolfe line search (torch.optim.LBFGS step for step).

    Each ``step(closure)`` runs up to ``max_iter`` iterations::

        d_k = −H_k·g_k                 (two-loop recursion over ≤ history_size pairs (s, y);
                                        H_0 = (sᵀy / yᵀy)·I)
        t_k = lr (first iteration: min(1, 1/‖g‖₁)·lr), or a strong-Wolfe step
        θ_{k+1} = θ_k + t_k·d_k

    and stops early when max|g| ≤ tolerance_grad, the step or the loss change is below
    tolerance_change, or ``max_eval`` function evaluations are used.

    Args:
        params: the parameters (one group only).
        lr: step length (default 1).
        max_iter: iterations per ``step`` (default 20).
        max_eval: function evaluations per ``step`` (default max_iter·5/4).
        tolerance_grad: first-order optimality tolerance (default 1e-7).
        tolerance_change: tolerance on step and loss changes (default 1e-9).
        history_size: stored pairs (default 100).
        line_search_fn: None or "strong_wolfe".

    Example:
        >>> import numpy as np
        >>> import gdlab
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([3.0, -2.0]))
        >>> opt = LBFGS([w], line_search_fn="strong_wolfe")
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = (w * w).sum()
        ...     loss.backward()
        ...     return loss
        >>> _ = opt.step(closure)
        >>> bool(np.abs(w.data).max() < 1e-6)
        True

    Reference: Liu & Nocedal, "On the limited memory BFGS method for large scale
    optimization", Math. Programming 1989; Nocedal & Wright, "Numerical Optimization", ch. 7.
    """

    _scalar_state_keys = frozenset({"func_evals", "n_iter", "t", "H_diag", "prev_loss"})
    requires_closure = True  # the training loop calls step(closure)

    @property
    def _lr_scales_the_step(self) -> bool:
        """With a line search, lr is only its first trial step (torch divides by zero at 0)."""
        return self.param_groups[0]["line_search_fn"] is None

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, hyperparameters(locals()))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        size = group["history_size"]
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"LBFGS: history_size must be a positive integer, got {size!r}")
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(
                f"LBFGS: line_search_fn must be None or 'strong_wolfe', "
                f"got {group['line_search_fn']!r}"
            )

    def _gather_flat_grad(self) -> np.ndarray:
        """All gradients as one vector; a row-sparse one densified, as torch's LBFGS does."""
        return np.concatenate(
            [np.zeros(p.data.size, p.dtype) if p._grad is None else _dense(p._grad).reshape(-1)
             for p in self._params]
        )  # fmt: skip

    def _add_grad(self, step_size: float, update: np.ndarray) -> None:
        offset = 0
        for p in self._params:
            n = p.data.size
            p.data[...] = fused_add(p.data, step_size, update[offset : offset + n].reshape(p.shape))
            p._version += 1
            offset += n

    def _directional_evaluate(
        self, closure: Callable[[], Any], x: list[np.ndarray], t: float, d: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """Loss and flat gradient at x + t·d; the parameters are restored to x afterwards."""
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        for p, saved in zip(self._params, x, strict=True):
            p.data[...] = saved
            p._version += 1
        return loss, flat_grad

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Run up to ``max_iter`` L-BFGS iterations; return the first loss of the closure."""
        if closure is None:
            raise ValueError("LBFGS requires a closure: step(closure) re-evaluates the loss")
        self._opt_called = True
        group = self.param_groups[0]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._closure_loss(closure)
        loss = float(orig_loss)
        flat_grad = self._gather_flat_grad()
        state["func_evals"] += 1
        current_evals = 1
        if np.abs(flat_grad).max(initial=0.0) <= tol_grad:
            return orig_loss
        for n_iter in range(1, max_iter + 1):
            state["n_iter"] += 1
            d = self._direction(state, flat_grad, group["history_size"])
            state["prev_flat_grad"], state["prev_loss"] = flat_grad.copy(), loss
            t = float(group["lr"])  # torch accepts a Tensor lr
            if state["n_iter"] == 1:  # the very first step is scaled by the gradient's size
                t *= min(1.0, 1.0 / float(np.abs(flat_grad).sum()))
            state["t"] = t
            gtd = float(flat_grad @ d)
            if gtd > -tol_change:  # not a descent direction
                break
            last = n_iter == max_iter
            loss, flat_grad, t, evals = self._move(
                closure, d, t, loss, flat_grad, gtd, max_eval - current_evals, last
            )
            state["t"] = t
            current_evals += evals
            state["func_evals"] += evals
            # a fixed step in the last iteration evaluates nothing: no new gradient to test
            opt_cond = evals > 0 and np.abs(flat_grad).max() <= tol_grad
            if last or current_evals >= max_eval or opt_cond:
                break
            if np.abs(d * t).max() <= tol_change or abs(loss - state["prev_loss"]) < tol_change:
                break
        return orig_loss

    def _direction(self, state: dict, flat_grad: np.ndarray, history_size: int) -> np.ndarray:
        """d = −H·g into ``state["d"]``: −g at the very first iteration, else the two-loop
        recursion after storing the newest pair (y, s), if it has positive curvature."""
        if state["n_iter"] == 1:
            state.update(old_dirs=[], old_stps=[], ro=[], H_diag=1.0)
            state["d"] = -flat_grad
            return state["d"]
        y = flat_grad - state["prev_flat_grad"]
        s = state["d"] * state["t"]
        ys = float(y @ s)
        if ys > 1e-10:  # keep the pair only if the curvature condition holds
            if len(state["old_dirs"]) == history_size:
                for key in ("old_dirs", "old_stps", "ro"):
                    state[key].pop(0)
            state["old_dirs"].append(y)
            state["old_stps"].append(s)
            state["ro"].append(1.0 / ys)
            state["H_diag"] = ys / float(y @ y)
        state["d"] = two_loop_direction(
            flat_grad, state["old_dirs"], state["old_stps"], state["ro"], state["H_diag"]
        )
        return state["d"]

    def _move(
        self, closure: Callable[[], Any], d: np.ndarray, t: float, loss: float,
        flat_grad: np.ndarray, gtd: float, evals_left: int, last: bool,
    ) -> tuple[float, np.ndarray, float, int]:  # fmt: skip
        """θ ← θ + t·d with a strong-Wolfe t, or the fixed t (then re-evaluated unless it is
        the last iteration). Returns (loss, flat gradient, t, function evaluations)."""
        if self.param_groups[0]["line_search_fn"] == "strong_wolfe":
            x_init = [p.data.copy() for p in self._params]
            obj_func = partial(self._directional_evaluate, closure)
            loss, flat_grad, t, evals = strong_wolfe(
                obj_func, x_init, t, d, loss, flat_grad, gtd, max_ls=evals_left
            )
            self._add_grad(t, d)
            return loss, flat_grad, t, evals
        self._add_grad(t, d)
        if last:
            return loss, flat_grad, t, 0
        loss = float(self._closure_loss(closure))
        return loss, self._gather_flat_grad(), t, 1
