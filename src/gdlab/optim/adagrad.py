"""AdaGrad, RMSprop and Adadelta: per-coordinate steps scaled by accumulated squared gradients.

Each offers torch's form (ε added *outside* the square root). Adagrad and RMSprop also take
``eps_in_sqrt=True``, the form d2l.ai uses (x ← x − η·g/√(s + ε)), so its printed numbers
can be reproduced.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.optim._work import chunk_grad, for_chunks
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters

__all__ = ["Adadelta", "Adagrad", "RMSprop", "adadelta_", "adagrad_", "rmsprop_"]


def _denominator(acc: np.ndarray, eps: float, eps_in_sqrt: bool, out: np.ndarray) -> np.ndarray:
    """√acc + ε (torch) or √(acc + ε) (d2l) into ``out``."""
    if eps_in_sqrt:
        np.add(acc, eps, out=out)
        return np.sqrt(out, out=out)
    np.sqrt(acc, out=out)
    out += eps
    return out


def adagrad_(
    param: np.ndarray,
    grad: np.ndarray,
    state: dict,
    *,
    lr: float,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    initial_accumulator_value: float = 0.0,
    eps: float = 1e-10,
    maximize: bool = False,
    eps_in_sqrt: bool = False,
) -> None:
    """One Adagrad step in place (see :class:`Adagrad`)."""
    if "sum" not in state:
        state["step"] = 0.0
        state["sum"] = np.full_like(param, initial_accumulator_value)
    state["step"] += 1.0
    clr = lr / (1 + (state["step"] - 1) * lr_decay)

    def kernel(p, g, acc, w, d):  # chunks of θ, g, Σg²; 2 work buffers
        g = chunk_grad(p, g, weight_decay, maximize, d, w)
        np.multiply(g, g, out=w)
        acc += w
        std = _denominator(acc, eps, eps_in_sqrt, w)
        np.divide(g, std, out=w)
        w *= clr
        p -= w

    for_chunks([param, grad, state["sum"]], kernel, work=2)


class Adagrad(Optimizer):
    """AdaGrad: each coordinate's step shrinks with its accumulated squared gradients.

    Update::

        g_t = ±∇f(θ_{t-1}) + λ·θ_{t-1}
        lr_t = lr / (1 + (t − 1)·lr_decay)
        s_t = s_{t-1} + g_t²                          # s_0 = initial_accumulator_value
        θ_t = θ_{t-1} − lr_t·g_t / (√s_t + ε)         # eps_in_sqrt: g_t / √(s_t + ε)

    Note:
        d2l.ai puts ε (1e-6) inside the square root: ``eps_in_sqrt=True`` (gdlab extension).
        Deep Learning from Scratch uses torch's form with ε = 1e-7.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-2).
        lr_decay: learning-rate decay (default 0).
        weight_decay: L2 penalty λ (default 0).
        initial_accumulator_value: s_0 (default 0).
        eps: ε (default 1e-10).
        maximize: maximize the objective (default False).
        eps_in_sqrt: ε inside the square root (default False).
        foreach, fused: accepted and ignored.

    Example:
        >>> import numpy as np
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = Adagrad([w], lr=0.5)
        >>> w.grad = np.array([4.0])
        >>> opt.step()
        >>> np.round(w.data, 6)
        array([0.5])

    Reference: Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and
    Stochastic Optimization", JMLR 2011.
    """

    _rule = staticmethod(adagrad_)
    _param_shaped_keys = frozenset({"sum"})
    _nonnegative = ("lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        eps_in_sqrt: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))
        for group in self.param_groups:  # torch creates Adagrad's state eagerly
            for p in group["params"]:
                state = self.state[p]
                state["step"] = 0.0
                state["sum"] = np.full_like(p.data, group["initial_accumulator_value"])


def rmsprop_(
    param: np.ndarray,
    grad: np.ndarray,
    state: dict,
    *,
    lr: float,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
    maximize: bool = False,
    eps_in_sqrt: bool = False,
) -> None:
    """One RMSprop step in place (see :class:`RMSprop`)."""
    if "square_avg" not in state:
        state["step"] = 0.0
        state["square_avg"] = np.zeros_like(param)
    if momentum > 0 and "momentum_buffer" not in state:
        state["momentum_buffer"] = np.zeros_like(param)
    if centered and "grad_avg" not in state:
        state["grad_avg"] = np.zeros_like(param)
    state["step"] += 1.0
    grad_avg = state["grad_avg"] if centered else None
    buf = state["momentum_buffer"] if momentum > 0 else None

    def kernel(p, g, sq, gavg, b, w, d):  # chunks of θ, g, v, ḡ, b; 2 work buffers
        g = chunk_grad(p, g, weight_decay, maximize, d, w)
        sq *= alpha
        np.multiply(g, g, out=w)
        w *= 1.0 - alpha
        sq += w
        if centered:
            np.subtract(g, gavg, out=w)
            w *= 1.0 - alpha
            gavg += w
            np.multiply(gavg, gavg, out=w)
            np.subtract(sq, w, out=w)
            avg = _denominator(w, eps, eps_in_sqrt, w)
        else:
            avg = _denominator(sq, eps, eps_in_sqrt, w)
        np.divide(g, avg, out=w)
        if momentum > 0:
            b *= momentum
            b += w
            np.multiply(b, lr, out=w)
        else:
            w *= lr
        p -= w

    for_chunks([param, grad, state["square_avg"], grad_avg, buf], kernel, work=2)


class RMSprop(Optimizer):
    """RMSprop: steps scaled by a running average of squared gradients.

    Update::

        g_t = ±∇f(θ_{t-1}) + λ·θ_{t-1}
        v_t = α·v_{t-1} + (1 − α)·g_t²
        centered: ḡ_t = α·ḡ_{t-1} + (1 − α)·g_t;  ṽ_t = v_t − ḡ_t²  (else ṽ_t = v_t)
        momentum μ > 0: b_t = μ·b_{t-1} + g_t/(√ṽ_t + ε);  θ_t = θ_{t-1} − lr·b_t
        else:           θ_t = θ_{t-1} − lr·g_t/(√ṽ_t + ε)

    Note:
        d2l.ai writes s ← γs + (1 − γ)g², x ← x − η·g/√(s + ε): ``alpha=γ, eps_in_sqrt=True``.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-2).
        alpha: smoothing constant α (default 0.99).
        eps: ε (default 1e-8).
        weight_decay: L2 penalty λ (default 0).
        momentum: μ (default 0).
        centered: normalise by the estimated variance (default False).
        maximize: maximize the objective (default False).
        eps_in_sqrt: ε inside the square root (default False).
        foreach: accepted and ignored.

    Example:
        >>> import numpy as np
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = RMSprop([w], lr=0.01, alpha=0.0)
        >>> w.grad = np.array([4.0])
        >>> opt.step()
        >>> np.round(w.data, 6)
        array([0.99])

    Reference: Hinton, Srivastava & Swersky, "Neural Networks for Machine Learning", lecture
    6e (2012); Graves, "Generating Sequences With Recurrent Neural Networks" (centered), 2013.
    """

    _rule = staticmethod(rmsprop_)
    _param_shaped_keys = frozenset({"square_avg", "momentum_buffer", "grad_avg"})
    _nonnegative = ("eps", "momentum", "weight_decay", "alpha")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        *,
        eps_in_sqrt: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))


def adadelta_(
    param: np.ndarray,
    grad: np.ndarray,
    state: dict,
    *,
    lr: float,
    rho: float = 0.9,
    eps: float = 1e-6,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> None:
    """One Adadelta step in place (see :class:`Adadelta`)."""
    if "square_avg" not in state:
        state["step"] = 0.0
        state["square_avg"] = np.zeros_like(param)
        state["acc_delta"] = np.zeros_like(param)
    state["step"] += 1.0

    def kernel(p, g, sq, acc, w, d, delta):  # chunks of θ, g, v, u; 3 work buffers
        g = chunk_grad(p, g, weight_decay, maximize, d, w)
        sq *= rho
        np.multiply(g, g, out=w)
        w *= 1.0 - rho
        sq += w
        np.add(sq, eps, out=w)
        np.sqrt(w, out=w)  # std
        np.add(acc, eps, out=delta)
        np.sqrt(delta, out=delta)
        delta /= w
        delta *= g
        acc *= rho
        np.multiply(delta, delta, out=w)
        w *= 1.0 - rho
        acc += w
        delta *= lr
        p -= delta

    for_chunks([param, grad, state["square_avg"], state["acc_delta"]], kernel, work=3)


class Adadelta(Optimizer):
    """Adadelta: a step whose units match θ's, from running averages of g² and Δθ².

    Update::

        g_t = ±∇f(θ_{t-1}) + λ·θ_{t-1}
        v_t = ρ·v_{t-1} + (1 − ρ)·g_t²
        Δ_t = √(u_{t-1} + ε) / √(v_t + ε) · g_t
        u_t = ρ·u_{t-1} + (1 − ρ)·Δ_t²
        θ_t = θ_{t-1} − lr·Δ_t

    Args:
        params: parameters or param groups.
        lr: coefficient scaling Δ (default 1.0).
        rho: ρ (default 0.9).
        eps: ε (default 1e-6).
        weight_decay: L2 penalty λ (default 0).
        maximize: maximize the objective (default False).
        foreach: accepted and ignored.

    Example:
        >>> import numpy as np
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = Adadelta([w])
        >>> w.grad = np.array([1.0])
        >>> opt.step()
        >>> bool(w.data[0] < 1.0)
        True

    Reference: Zeiler, "ADADELTA: An Adaptive Learning Rate Method", 2012,
    https://arxiv.org/abs/1212.5701
    """

    _rule = staticmethod(adadelta_)
    _param_shaped_keys = frozenset({"square_avg", "acc_delta"})
    _nonnegative = ("eps", "weight_decay")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {group['rho']}")
