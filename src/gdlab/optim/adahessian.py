"""AdaHessian: Adam with the square of a Hutchinson estimate of the Hessian's diagonal in
place of the squared gradient."""

from __future__ import annotations

import numpy as np

from gdlab.optim._curvature import HutchinsonOptimizer, decayed_grad
from gdlab.optim.optimizer import ParamsT, state_arrays

__all__ = ["AdaHessian", "adahessian_"]


def adahessian_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float, step: int,
    hessian: np.ndarray | None, betas: tuple[float, float] = (0.9, 0.999),
    weight_decay: float = 0.0, weight_decouple: bool = True, fixed_decay: bool = False,
    hessian_power: float = 1.0, eps: float = 1e-16, maximize: bool = False,
) -> None:  # fmt: skip
    """One AdaHessian step in place (the reference rule; see :class:`AdaHessian`)."""
    m, v = state_arrays(state, param, "exp_avg", "exp_hessian_diag_sq")
    beta1, beta2 = betas
    g = decayed_grad(param, grad, lr, weight_decay, weight_decouple, fixed_decay, maximize)
    m += (1.0 - beta1) * (g - m)  # m = β1·m + (1 − β1)·g, as torch's lerp
    if hessian is not None:
        v *= beta2
        v += (1.0 - beta2) * hessian * hessian  # v = β2·v + (1 − β2)·D²
    denom = (v / (1.0 - beta2**step)) ** (hessian_power / 2) + eps
    param -= lr / (1.0 - beta1**step) * m / denom


class AdaHessian(HutchinsonOptimizer):
    """AdaHessian: Adam's step with the Hessian's diagonal D (Hutchinson) for the gradient's
    second moment.

    Update (Yao et al., Algorithm 1, with pytorch-optimizer's names and defaults)::

        D_t = z ⊙ (H·z),  z Rademacher        (every ``update_period`` steps)
        m_t = β1·m_{t−1} + (1 − β1)·g_t
        v_t = β2·v_{t−1} + (1 − β2)·D_t²
        θ_t = θ_{t−1} − lr/(1 − β1ᵗ) · m_t / ((v_t/(1 − β2ᵗ))^(k/2) + ε)     (k: hessian_power)

    The closure calls ``loss.backward(create_graph=True)``; each estimate costs one HVP per
    probe. Equal step for step to pytorch-optimizer's ``AdaHessian`` given the same probes;
    like it (and unlike the paper's code), no spatial averaging over convolution kernels.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 0.1).
        betas: (β1, β2) (default (0.9, 0.999)).
        weight_decay: λ (default 0); ``weight_decouple`` (default True) multiplies θ by
            1 − lr·λ (1 − λ with ``fixed_decay``), else λ·θ is added to the gradient.
        hessian_power: k in (0, 1] (default 1).
        update_period: steps between estimates (default 1).
        num_samples: probes per estimate (default 1).
        hessian_distribution: "rademacher" (default) or "gaussian".
        eps: ε (default 1e-16).
        maximize: maximize the objective (default False).
        generator: seed or ``np.random.Generator`` of the probes (default: gdlab's).

    Reference: Yao et al., "ADAHESSIAN: An Adaptive Second Order Optimizer for Machine
    Learning", AAAI 2021, arXiv:2006.00719.
    """

    _rule = staticmethod(adahessian_)
    _param_shaped_keys = frozenset({"exp_avg", "exp_hessian_diag_sq"})
    _nonnegative = ("weight_decay", "eps")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 0.1,
        betas: tuple[float, float] = (0.9, 0.999),
        weight_decay: float = 0.0,
        weight_decouple: bool = True,
        fixed_decay: bool = False,
        hessian_power: float = 1.0,
        update_period: int = 1,
        num_samples: int = 1,
        hessian_distribution: str = "rademacher",
        eps: float = 1e-16,
        maximize: bool = False,
        *,
        generator: np.random.Generator | int | None = None,
    ) -> None:
        super().__init__(params, locals())

    def _setup(self, generator: np.random.Generator | int | None) -> None:
        hessian_power = self.defaults["hessian_power"]
        if not 0.0 < hessian_power <= 1.0:
            raise ValueError(f"Invalid hessian_power value: {hessian_power}")
        super()._setup(generator)
