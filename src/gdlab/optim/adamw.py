"""AdamW: Adam with decoupled weight decay (Adam's rule, ``decoupled_weight_decay=True``)."""

from __future__ import annotations

from gdlab.optim.adam import Adam
from gdlab.optim.optimizer import ParamsT, hyperparameters

__all__ = ["AdamW"]


class AdamW(Adam):
    """Adam with decoupled weight decay (default weight_decay 1e-2).

    Update: θ ← θ·(1 − lr·λ), then the Adam step without λ in the gradient
    (``Adam(..., decoupled_weight_decay=True)``). See :class:`Adam` for the rest.

    Args:
        params, lr, betas, eps, amsgrad, maximize: as :class:`Adam`.
        weight_decay: decoupled decay λ (default 1e-2).

    Example:
        >>> import numpy as np
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = AdamW([w], lr=0.1, weight_decay=0.0)
        >>> w.grad = np.array([2.0])
        >>> opt.step()
        >>> np.round(w.data, 6)
        array([0.9])

    Reference: Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019,
    https://arxiv.org/abs/1711.05101
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, **hyperparameters(locals()), decoupled_weight_decay=True)
