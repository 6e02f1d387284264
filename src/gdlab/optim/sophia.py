"""Sophia (SophiaG): a sign step clipped by a diagonal Gauss-Newton-Bartlett Hessian estimate."""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.nn import functional as F  # noqa: N812
from gdlab.optim._scratch import grad_into, scratch
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters, state_arrays
from gdlab.tensor import Tensor

__all__ = ["SophiaG", "sophiag_", "update_hessian_gnb"]


def sophiag_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    betas: tuple[float, float] = (0.965, 0.99), rho: float = 0.04, weight_decay: float = 0.1,
    bs: int = 5120, maximize: bool = False,
) -> None:  # fmt: skip
    """One SophiaG step in place (the reference rule; see :class:`SophiaG`)."""
    m, h = state_arrays(state, param, "exp_avg", "hessian", step=0.0)
    beta1 = betas[0]
    a, b = scratch(state, param, 2)
    g = grad_into(param, grad, 0.0, maximize, a, b)
    state["step"] += 1.0
    param *= 1.0 - lr * weight_decay
    m *= beta1
    m += np.multiply(g, 1.0 - beta1, out=b)
    # clip(m / (ρ·B·h), 1) coordinate-wise: a Newton-like step where the curvature is large,
    # a sign step of size lr where h is small (flat or noisy directions, where m/h explodes)
    denom = np.multiply(h, rho * bs, out=b)
    denom += 1e-15
    ratio = np.abs(m, out=a)  # g is no longer needed
    np.divide(ratio, denom, out=ratio)
    np.minimum(ratio, 1.0, out=ratio)
    step = np.sign(m, out=b)
    step *= ratio
    step *= lr
    param -= step


class SophiaG(Optimizer):
    """SophiaG: momentum divided by a diagonal Hessian estimate, clipped to a sign step.

    Update (the authors' code, Liu et al. ``sophia.py``)::

        θ_{t-1} ← θ_{t-1}·(1 − lr·λ)                               (decoupled decay)
        m_t = β1·m_{t-1} + (1 − β1)·g_t
        θ_t = θ_{t-1} − lr·sign(m_t)·min(|m_t| / (ρ·B·h_t + 1e-15), 1)

    and, every k steps (``update_hessian()``, after a backward pass of the loss on labels
    sampled from the model's own predictions, :func:`update_hessian_gnb`)::

        h ← β2·h + (1 − β2)·ĝ⊙ĝ          # ĝ: gradient of the mean sampled-label loss

    B·ĝ⊙ĝ is the Gauss-Newton-Bartlett estimate of the Hessian's diagonal for a batch of B
    examples (B = ``bs``, the number of predicted labels in the batch, e.g. tokens).

    Note:
        Names and defaults are the authors' (lr 1e-4, betas (0.965, 0.99), ρ 0.04, λ 0.1),
        equal step for step to their code as packaged in ``sophia-opt`` 0.2.2. The paper
        writes clip(m_t / max(γ·h_t, ε), 1) with γ = ρ·B; the code adds 1e-15 instead of
        taking the max, which gdlab follows. The authors pass B to ``step(bs=...)``
        (default 5120); here it is the hyper-parameter ``bs`` (a param-group entry, default
        5120), so ``step()`` keeps torch's signature. The Hutchinson variant (SophiaH) is
        not this class. ``capturable`` is not offered.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-4).
        betas: (β1, β2): momentum and Hessian-estimate averaging (default (0.965, 0.99)).
        rho: ρ, the clipping threshold's scale (default 0.04).
        weight_decay: decoupled decay λ (default 0.1).
        bs: B, the batch's number of predicted labels in the GNB estimate (default 5120).
        maximize: maximize the objective (default False).

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0, -1.0]))
        >>> opt = SophiaG([w], lr=0.1, weight_decay=0.0)
        >>> w.grad = np.array([0.5, -0.5])
        >>> opt.step()  # no curvature estimate yet: a sign step of size lr
        >>> w.data
        array([ 0.9, -0.9])

    Reference: Liu et al., "Sophia: A Scalable Stochastic Second-order Optimizer for
    Language Model Pre-training", ICLR 2024, https://arxiv.org/abs/2305.14342
    """

    _rule = staticmethod(sophiag_)
    _param_shaped_keys = frozenset({"exp_avg", "hessian"})
    _nonnegative = ("rho", "weight_decay")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.965, 0.99),
        rho: float = 0.04,
        weight_decay: float = 0.1,
        bs: int = 5120,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        bs = group["bs"]
        if isinstance(bs, bool) or not isinstance(bs, int | float) or not bs > 0:
            raise ValueError(f"SophiaG: bs must be a positive number of labels, got {bs!r}")

    def update_hessian(self) -> None:
        """h ← β2·h + (1 − β2)·g⊙g for every parameter with a gradient (the authors' method).

        Call it right after a backward pass of the loss on sampled labels
        (:func:`update_hessian_gnb` does the whole estimate).
        """
        for group in self.param_groups:
            beta2 = float(group["betas"][1])
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                _, h = state_arrays(state, p.data, "exp_avg", "hessian", step=0.0)
                h *= beta2
                work = np.multiply(p._grad, p._grad, out=scratch(state, p.data, 2)[0])
                work *= 1.0 - beta2
                h += work


def update_hessian_gnb(
    optimizer: SophiaG, model: Any, inputs: Any, *, rng: np.random.Generator
) -> np.ndarray:
    """Refresh SophiaG's Hessian estimate with the Gauss-Newton-Bartlett estimator.

    As the authors' training loop does every k steps: logits = model(inputs); labels ŷ drawn
    from softmax(logits) (the model's own distribution, not the data's labels); ĝ = ∇ of the
    mean cross-entropy of (logits, ŷ) over every predicted position; h ← β2·h + (1 − β2)·ĝ⊙ĝ.
    The gradients are cleared before and after. Returns the sampled labels (for inspection and
    for reproducing the estimate elsewhere).

    Args:
        optimizer: the SophiaG optimizer whose ``hessian`` state is refreshed.
        model: a callable returning logits of shape (..., C).
        inputs: the batch given to ``model``.
        rng: the generator the labels are drawn from.

    Example:
        >>> from gdlab import nn
        >>> model = nn.Linear(3, 4)
        >>> opt = SophiaG(model.parameters())
        >>> x = nn.Parameter(np.ones((2, 3), dtype=np.float32)).detach()
        >>> update_hessian_gnb(opt, model, x, rng=np.random.default_rng(0)).shape
        (2,)
    """
    if not isinstance(optimizer, SophiaG):
        raise TypeError(
            f"update_hessian_gnb: optimizer must be a SophiaG, got {type(optimizer).__name__}"
        )
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"update_hessian_gnb: rng must be a numpy Generator, got {type(rng).__name__}"
        )
    optimizer.zero_grad()
    logits = model(inputs)
    if not isinstance(logits, Tensor) or logits.ndim < 1:
        raise ValueError("update_hessian_gnb: the model must return logits of shape (..., C)")
    flat = logits.reshape(-1, logits.shape[-1])
    z = flat.data.astype(np.float64)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    cdf = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(z))[:, None]
    labels = np.minimum((cdf < u).sum(axis=1), z.shape[1] - 1)  # inverse-CDF sampling
    F.cross_entropy(flat, labels).backward()
    optimizer.update_hessian()
    optimizer.zero_grad()
    return labels.reshape(logits.shape[:-1])
