"""AdEMAMix: Adam's step on a mixture of a fast and a slow exponential moving average of g."""

from __future__ import annotations

import math

import numpy as np

from gdlab.optim._scratch import ema_, ema_moments_, grad_into, scratch
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters, state_arrays

__all__ = ["AdEMAMix", "ademamix_"]


def ademamix_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    betas: tuple[float, float, float] = (0.9, 0.999, 0.9999), alpha: float = 5.0,
    beta3_warmup: int | None = None, alpha_warmup: int | None = None, eps: float = 1e-8,
    weight_decay: float = 0.0, maximize: bool = False,
) -> None:  # fmt: skip
    """One AdEMAMix step in place (the reference rule; see :class:`AdEMAMix`)."""
    m1, v, m2 = state_arrays(state, param, "exp_avg", "exp_avg_sq", "exp_avg_slow", step=0.0)
    beta1, beta2, beta3 = betas
    a, b, c = scratch(state, param, 3)
    g = grad_into(param, grad, 0.0, maximize, c, a)
    state["step"] += 1.0
    t = state["step"]
    if alpha_warmup:
        alpha = min(t * alpha / alpha_warmup, alpha)
    if beta3_warmup:  # the half-life 1/ln(1/β) moves linearly from β1's to β3's
        f, lb1, lb3 = t / beta3_warmup, math.log(beta1), math.log(beta3)
        beta3 = min(math.exp(lb1 * lb3 / ((1.0 - f) * lb3 + f * lb1)), beta3)
    param *= 1.0 - lr * weight_decay
    ema_moments_(m1, v, g, (beta1, beta2), b)  # m1 ← β1·m1 + (1 − β1)·g, v ← β2·v + (1 − β2)·g²
    ema_(m2, g, beta3, b)  # the slow momentum m2 ← β3·m2 + (1 − β3)·g
    denom = np.sqrt(v, out=a)
    denom /= math.sqrt(1.0 - beta2**t)
    denom += eps
    u = np.divide(m1, 1.0 - beta1**t, out=b)
    u += np.multiply(m2, alpha, out=c)  # m̂1 + α·m2
    u *= lr
    np.divide(u, denom, out=u)
    param -= u


class AdEMAMix(Optimizer):
    """AdEMAMix: Adam plus α times a slow EMA of g (β3 = 0.9999 remembers ~10⁴ gradients).

    Update (Pagliardini et al., Algorithm 1)::

        m1_t = β1·m1_{t-1} + (1 − β1)·g_t,     m2_t = β3(t)·m2_{t-1} + (1 − β3(t))·g_t
        v_t = β2·v_{t-1} + (1 − β2)·g_t²
        θ_t = θ_{t-1} − lr·[(m1_t/(1 − β1^t) + α(t)·m2_t)/(√v_t/√(1 − β2^t) + ε) + λ·θ_{t-1}]
        α(t) = min(t·α/T_α, α)
        β3(t) = min(exp(ln β1·ln β3/((1 − t/T_β3)·ln β3 + t/T_β3·ln β1)), β3)

    Note:
        Defaults and names are the authors' (apple/ml-ademamix): betas (0.9, 0.999, 0.9999),
        α 5, decoupled weight decay, the warm-ups ``alpha_warmup`` (T_α) and
        ``beta3_warmup`` (T_β3) off. m2 is not bias-corrected. β3(t) is the paper's formula
        (Eq. 5): kozistr's ``pytorch_optimizer.AdEMAMix`` computes it so, and is equal step
        for step (with T_α = T_β3, its one ``t_alpha_beta3``, and ``weight_decouple=True``).
        The authors' code writes the same schedule through ln(β + 1e-8): at t = T/2 with
        the default betas its β3(t) is 2.0e-8 larger than the formula's (4.0e-8 at T/4).

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-3).
        betas: (β1, β2, β3): the fast EMA, the second moment, the slow EMA
            (default (0.9, 0.999, 0.9999)).
        alpha: α, the weight of the slow EMA (default 5).
        beta3_warmup: T_β3, steps to raise β3 from β1 (default None: no warm-up).
        alpha_warmup: T_α, steps to raise α from 0 (default None: no warm-up).
        eps: ε (default 1e-8).
        weight_decay: decoupled λ (default 0).
        maximize: maximize the objective (default False).

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = AdEMAMix([w], lr=0.1, eps=0.0)
        >>> w.grad = np.array([2.0])
        >>> opt.step()  # Adam's lr·sign(g) plus α·lr·(1 − β3)·g/|g|
        >>> w.data.round(6)
        array([0.89995])

    Reference: Pagliardini, Ablin, Grangier, "The AdEMAMix Optimizer: Better, Faster, Older",
    ICLR 2025, https://arxiv.org/abs/2409.03137
    """

    _rule = staticmethod(ademamix_)
    _param_shaped_keys = frozenset({"exp_avg", "exp_avg_sq", "exp_avg_slow"})
    _nonnegative = ("alpha", "eps", "weight_decay")
    _n_betas = 3

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float, float] = (0.9, 0.999, 0.9999),
        alpha: float = 5.0,
        beta3_warmup: int | None = None,
        alpha_warmup: int | None = None,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        for key in ("beta3_warmup", "alpha_warmup"):
            if group[key] is not None and not group[key] > 0:
                raise ValueError(f"Invalid {key} value: {group[key]}")
