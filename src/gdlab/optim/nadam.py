"""NAdam: Adam with Nesterov momentum and torch's momentum-decay schedule."""

from __future__ import annotations

import numpy as np

from gdlab.optim.adam import adam_moments_
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters

__all__ = ["NAdam", "nadam_"]


def nadam_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0,
    momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, maximize: bool = False,
) -> None:  # fmt: skip
    """One NAdam step in place (the reference rule; see :class:`NAdam`)."""
    g = adam_moments_(param, grad, state, lr=lr, betas=betas, weight_decay=weight_decay,
                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)  # fmt: skip
    beta1, beta2 = betas
    t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
    mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))  # the momentum schedule μ_t
    mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    mu_product = state["mu_product"] = state.get("mu_product", 1.0) * mu
    denom = np.sqrt(v / (1.0 - beta2**t)) + eps
    param -= (lr * (1.0 - mu) / (1.0 - mu_product)) * (g / denom)
    param -= (lr * mu_next / (1.0 - mu_product * mu_next)) * (m / denom)


class NAdam(Optimizer):
    """NAdam: Adam with Nesterov momentum and torch's momentum-decay schedule.

    Update::

        μ_t = β1·(1 − 0.5·0.96^(t·ψ)),  ψ = momentum_decay
        m_t, v_t as in Adam;  v̂_t = v_t/(1 − β2^t)
        θ_t = θ_{t-1} − lr·(1 − μ_t)/(1 − Π_{i≤t} μ_i) · g_t/(√v̂_t + ε)
                      − lr·μ_{t+1}/(1 − Π_{i≤t+1} μ_i) · m_t/(√v̂_t + ε)
        decoupled_weight_decay: θ ← θ·(1 − lr·λ) before the step (NAdamW)

    Args:
        params, betas, eps, weight_decay, maximize, foreach: as :class:`~gdlab.optim.Adam`.
        lr: learning rate (default 2e-3).
        momentum_decay: ψ (default 4e-3).
        decoupled_weight_decay: AdamW-style decay (default False).

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = NAdam([w], lr=0.1)
        >>> for _ in range(2):
        ...     w.grad = 2 * w.data
        ...     opt.step()
        >>> round(opt.state[w]["mu_product"], 6)  # μ_1·μ_2
        0.202599

    Reference: Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop.
    """

    _rule = staticmethod(nadam_)
    _scalar_state_keys = frozenset({"step", "mu_product"})
    _param_shaped_keys = frozenset({"exp_avg", "exp_avg_sq"})
    _nonnegative = ("eps", "weight_decay", "momentum_decay")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))
