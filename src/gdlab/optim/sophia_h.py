"""Sophia-H: momentum divided by an averaged Hutchinson estimate of the Hessian's diagonal,
clipped coordinate-wise."""

from __future__ import annotations

import numpy as np

from gdlab.optim._curvature import HutchinsonOptimizer, decayed_grad
from gdlab.optim.optimizer import ParamsT, state_arrays

__all__ = ["SophiaH", "sophiah_"]


def sophiah_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float, step: int,
    hessian: np.ndarray | None, betas: tuple[float, float] = (0.96, 0.99),
    weight_decay: float = 0.0, weight_decouple: bool = True, fixed_decay: bool = False,
    p: float = 1e-2, eps: float = 1e-12, maximize: bool = False,
) -> None:  # fmt: skip
    """One Sophia-H step in place (the reference rule; see :class:`SophiaH`)."""
    m, h = state_arrays(state, param, "momentum", "hessian_moment")
    beta1, beta2 = betas
    g = decayed_grad(param, grad, lr, weight_decay, weight_decouple, fixed_decay, maximize)
    m += (1.0 - beta1) * (g - m)  # m = β1·m + (1 − β1)·g, as torch's lerp
    if hessian is not None:
        h += (1.0 - beta2) * (hessian - h)  # h = β2·h + (1 − β2)·D
    param -= lr * np.clip(m / np.maximum(h, eps), -p, p)


class SophiaH(HutchinsonOptimizer):
    """Sophia-H: a clipped, diagonally preconditioned momentum step.

    Update (Liu et al., Algorithm 1 with the Hutchinson estimator, pytorch-optimizer's
    names and defaults)::

        D_t = z ⊙ (H·z),  z Gaussian           (every ``update_period`` steps, else h kept)
        m_t = β1·m_{t−1} + (1 − β1)·g_t
        h_t = β2·h_{t−1} + (1 − β2)·D_t
        θ_t = θ_{t−1} − lr·clip(m_t / max(h_t, ε), −p, p)

    The clip bounds every coordinate's move by lr·p: where the curvature estimate is tiny or
    negative the step falls back to sign-momentum. The closure calls
    ``loss.backward(create_graph=True)``. Equal step for step to pytorch-optimizer's
    ``SophiaH`` given the same probes.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 0.06).
        betas: (β1, β2) (default (0.96, 0.99)).
        weight_decay: λ (default 0); ``weight_decouple`` (default True) multiplies θ by
            1 − lr·λ (1 − λ with ``fixed_decay``), else λ·θ is added to the gradient.
        p: the clip (default 0.01).
        update_period: steps between estimates (default 10).
        num_samples: probes per estimate (default 1).
        hessian_distribution: "gaussian" (default) or "rademacher".
        eps: floor of the curvature (default 1e-12).
        maximize: maximize the objective (default False).
        generator: seed or ``np.random.Generator`` of the probes (default: gdlab's).

    Reference: Liu et al., "Sophia: A Scalable Stochastic Second-order Optimizer for Language
    Model Pre-training", ICLR 2024, arXiv:2305.14342.
    """

    _rule = staticmethod(sophiah_)
    _param_shaped_keys = frozenset({"momentum", "hessian_moment"})
    _nonnegative = ("weight_decay", "p", "eps")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 6e-2,
        betas: tuple[float, float] = (0.96, 0.99),
        weight_decay: float = 0.0,
        weight_decouple: bool = True,
        fixed_decay: bool = False,
        p: float = 1e-2,
        update_period: int = 10,
        num_samples: int = 1,
        hessian_distribution: str = "gaussian",
        eps: float = 1e-12,
        maximize: bool = False,
        *,
        generator: np.random.Generator | int | None = None,
    ) -> None:
        super().__init__(params, locals())
