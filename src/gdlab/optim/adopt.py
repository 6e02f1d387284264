"""ADOPT: Adam with the current gradient normalised by the previous second moment."""

from __future__ import annotations

import numpy as np

from gdlab.optim._scratch import grad_into, scratch
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters, state_arrays

__all__ = ["ADOPT", "adopt_"]


def adopt_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    betas: tuple[float, float] = (0.9, 0.9999), eps: float = 1e-6, weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False, clip_exponent: float | None = 0.25,
    maximize: bool = False,
) -> None:  # fmt: skip
    """One ADOPT step in place (the reference rule; see :class:`ADOPT`)."""
    m, v = state_arrays(state, param, "exp_avg", "exp_avg_sq", step=0.0)
    beta1, beta2 = betas
    a, b = scratch(state, param, 2)
    coupled = 0.0 if decoupled_weight_decay else weight_decay
    g = grad_into(param, grad, coupled, maximize, a, b)  # in a, or grad itself
    t = state["step"]  # t = 0 at the first call
    state["step"] += 1.0
    if t == 0:  # the first gradient only initialises v: v_0 = g_0²
        v += np.multiply(g, g, out=b)
        return
    if decoupled_weight_decay:
        param *= 1.0 - lr * weight_decay
    normed = np.sqrt(v, out=b)
    np.maximum(normed, eps, out=normed)
    np.divide(g, normed, out=normed)  # g_t/max(√v_{t-1}, ε): v_{t-1} is independent of g_t
    if clip_exponent is not None:
        c = t**clip_exponent
        np.clip(normed, -c, c, out=normed)
    m *= beta1
    normed *= 1.0 - beta1
    m += normed
    param -= np.multiply(m, lr, out=b)
    v *= beta2
    np.multiply(g, 1.0 - beta2, out=b)
    b *= g
    v += b  # v_t = β2·v_{t-1} + (1 − β2)·g_t²


class ADOPT(Optimizer):
    """ADOPT: normalise g_t by v_{t-1} (not v_t), then take the momentum: converges for any β2.

    Update (Taniguchi et al., Algorithm 2 with clipping, as the authors' code; t = 0, 1, ...)::

        t = 0:  v_0 = g_0²                                  (no step)
        t ≥ 1:  m_t = β1·m_{t-1} + (1 − β1)·clip(g_t/max(√v_{t-1}, ε), t^p)
                θ_t = θ_{t-1} − lr·m_t
                v_t = β2·v_{t-1} + (1 − β2)·g_t²

    Note:
        Defaults are the authors' (iShohei220/adopt): betas (0.9, 0.9999), ε 1e-6, the
        clipping bound t^(1/4). Their ``clip_lambda=lambda t: t**p`` is ``clip_exponent=p``
        here (None: no clipping), their ``decouple`` is ``decoupled_weight_decay`` (from
        t = 1, as there). Equal step for step to ``optax.contrib.adopt`` (float64), and
        without clipping to kozistr's ``pytorch_optimizer.ADOPT``. That one clips the first
        update at 2^(1/4), not 1^(1/4) (its t starts at 1) and decays decoupled weights at
        t = 0 too: with the defaults and lr 0.05 it is 1.1e-3 away (relative, norm) after 50
        steps of the test problem.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-3).
        betas: (β1, β2) (default (0.9, 0.9999)).
        eps: ε, the floor of √v (default 1e-6).
        weight_decay: λ (default 0).
        decoupled_weight_decay: θ ← θ(1 − lr·λ) instead of g + λθ (default False).
        clip_exponent: p of the clipping bound t^p of the normalised gradient, None for
            none (default 0.25).
        maximize: maximize the objective (default False).

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = ADOPT([w], lr=0.1)
        >>> w.grad = np.array([2.0])
        >>> opt.step()  # the first step only records v = g²
        >>> opt.step()  # then m = (1 − β1)·g/|g|
        >>> w.data.round(6)
        array([0.99])

    Reference: Taniguchi et al., "ADOPT: Modified Adam Can Converge with Any β2 with the
    Optimal Rate", NeurIPS 2024, https://arxiv.org/abs/2411.02853
    """

    _rule = staticmethod(adopt_)
    _param_shaped_keys = frozenset({"exp_avg", "exp_avg_sq"})
    _nonnegative = ("eps", "weight_decay")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.9999),
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        clip_exponent: float | None = 0.25,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        p = group["clip_exponent"]
        if p is not None and not 0.0 <= p:
            raise ValueError(f"Invalid clip_exponent value: {p}")
