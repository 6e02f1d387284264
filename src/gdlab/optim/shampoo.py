"""Shampoo: one preconditioner per tensor axis, with Distributed Shampoo's practicalities."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from gdlab.optim._mode_products import axis_gram_into, mode_product_into, work_matrix
from gdlab.optim._scratch import grad_into, scratch
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters

__all__ = ["GRAFT_TYPES", "Shampoo", "matrix_inverse_root", "shampoo_"]

GRAFT_TYPES = ("none", "sgd", "adagrad", "rmsprop", "sqrtn")


def matrix_inverse_root(matrix: np.ndarray, root: float) -> np.ndarray:
    """A^(−1/root) of a symmetric matrix by eigendecomposition: V·diag(λ^(−1/root))·Vᵀ.

    An eigenvalue that rounding made negative keeps its sign (sign(λ)·|λ|^(−1/root)), which
    is what the singular-value form U·S^(−1/root)·Vᵀ of the reference computes.
    """
    w, v = np.linalg.eigh(matrix)
    scale = np.sign(w) * np.abs(w) ** (-1.0 / root)
    return (v * scale) @ v.T


def _blocks(shape: tuple[int, ...], block_size: int) -> list[tuple[slice, ...]]:
    """The blocks of a tensor: every axis longer than ``block_size`` cut into pieces of
    ``block_size`` (the last one shorter), in row-major order of the pieces."""
    pieces = []
    for d in shape:
        if block_size <= 0 or block_size >= d:
            pieces.append([slice(0, d)])
        else:
            pieces.append([slice(a, min(a + block_size, d)) for a in range(0, d, block_size)])
    return list(itertools.product(*pieces))


def _precondition_into(
    g: np.ndarray, state: dict, blocks: list[tuple[slice, ...]], out: np.ndarray,
    work: np.ndarray,
) -> None:  # fmt: skip
    """Each block G_b ↦ G_b ×_1 P_b1 ×_2 P_b2 ··· (P_bi = S_bi^(−1/2k) along axis i), into
    ``out`` (``work`` clobbered)."""
    for j, index in enumerate(blocks):
        x, dst, other = g[index], out[index], work[index]
        if g.ndim % 2 == 0:  # the last product lands in ``out``
            dst, other = other, dst
        for i in range(g.ndim):
            mode_product_into(x, state[f"preconditioner_{j}_{i}"], i, dst)
            x, dst, other = dst, other, dst


def _graft_into(
    g: np.ndarray, state: dict, graft_type: str, eps: float, out: np.ndarray
) -> np.ndarray:  # fmt: skip
    """The update whose size the Shampoo direction borrows (layer-wise grafting), in ``out``."""
    if graft_type in ("adagrad", "rmsprop"):
        np.sqrt(state["graft_statistics"], out=out)
        out += eps
        return np.divide(g, out, out=out)
    if graft_type == "sqrtn":
        return np.sign(g, out=out)
    np.copyto(out, g)  # "sgd", and "none" (the update before preconditioning starts)
    return out


def shampoo_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    betas: tuple[float, float] = (0.9, 0.999), moving_average_for_momentum: bool = False,
    weight_decay: float = 0.0, decoupled_weight_decay: bool = False,
    decoupled_learning_rate: bool = True, start_preconditioning_step: int = 25,
    precondition_frequency: int = 1000, block_size: int = 512, graft_type: str = "sgd",
    nesterov: bool = True, diagonal_eps: float = 1e-10, matrix_eps: float = 1e-6,
    maximize: bool = False,
) -> None:  # fmt: skip
    """One Shampoo step in place (the reference rule; see :class:`Shampoo`)."""
    beta1, beta2 = betas
    a, graft, shampoo, d = scratch(state, param, 4)
    g = grad_into(param, grad, 0.0, maximize, a, d)
    blocks = _blocks(param.shape, block_size) if param.ndim > 1 else []
    if "momentum" not in state:
        state.update(step=0.0, momentum=np.zeros_like(param), graft_momentum=np.zeros_like(param))
        if graft_type in ("adagrad", "rmsprop"):
            state["graft_statistics"] = np.zeros_like(param)
        for j, index in enumerate(blocks):
            for i, axis in enumerate(index):
                n = axis.stop - axis.start
                state[f"statistics_{j}_{i}"] = matrix_eps * np.eye(n, dtype=param.dtype)
                state[f"preconditioner_{j}_{i}"] = np.eye(n, dtype=param.dtype)
    state["step"] += 1.0
    t = state["step"]
    if graft_type in ("adagrad", "rmsprop"):
        s = state["graft_statistics"]
        np.multiply(g, g, out=d)
        if graft_type == "rmsprop":
            s *= beta2
            d *= 1.0 - beta2
        s += d
    w2 = 1.0 if beta2 == 1.0 else 1.0 - beta2  # β2 = 1: plain sums (Gupta et al.)
    for j, index in enumerate(blocks):
        for i in range(param.ndim):
            stat = state[f"statistics_{j}_{i}"]
            work = axis_gram_into(g[index], i, work_matrix(state, f"_gram_{j}_{i}",
                                                          stat.shape[0], stat.dtype))  # fmt: skip
            work *= w2
            stat *= beta2
            stat += work
    if blocks and t % precondition_frequency == 0:
        root = 2 * param.ndim  # each of the k axes takes the 2k-th root
        for j in range(len(blocks)):
            for i in range(param.ndim):
                state[f"preconditioner_{j}_{i}"] = matrix_inverse_root(
                    state[f"statistics_{j}_{i}"], root
                )
    scale = 1.0 if decoupled_learning_rate else lr
    _graft_into(g, state, graft_type, diagonal_eps, graft)
    graft *= scale
    if blocks:
        _precondition_into(g, state, blocks, shampoo, d)
        shampoo *= scale
    else:
        np.copyto(shampoo, graft)
    if graft_type != "none":  # Shampoo's direction, the graft's norm
        shampoo *= np.linalg.norm(graft) / (np.linalg.norm(shampoo) + 1e-16)
    if decoupled_weight_decay:
        param *= 1.0 - weight_decay * lr
    elif weight_decay > 0.0:
        np.multiply(param, weight_decay, out=d)
        graft += d
        shampoo += d
    w = 1.0 - beta1 if moving_average_for_momentum else 1.0
    m, gm = state["momentum"], state["graft_momentum"]
    if moving_average_for_momentum:
        np.subtract(shampoo, m, out=d)
        d *= w
        m += d
    else:
        m *= beta1
        m += shampoo
    gm *= beta1
    gm += np.multiply(graft, w, out=d)
    preconditioning = t >= start_preconditioning_step  # the graft's own steps until then
    update = m if preconditioning else gm
    if nesterov:
        current = shampoo if preconditioning else graft
        if moving_average_for_momentum:
            np.subtract(current, update, out=d)
            d *= w
            update = np.add(update, d, out=d)
        else:
            update = np.multiply(update, beta1, out=d)
            update += current
    param -= np.multiply(update, lr if decoupled_learning_rate else 1.0, out=d)


class Shampoo(Optimizer):
    """Shampoo: the gradient preconditioned along every axis by S_i^(−1/2k), grafted.

    For a parameter with k ≥ 2 axes and gradient G (each block of it, if an axis is longer
    than ``block_size``), with G_(i) its unfolding along axis i::

        S_i ← β2·S_i + (1 − β2)·G_(i) G_(i)ᵀ      (S_i,0 = ε·I; β2 = 1: S_i ← S_i + G_(i)G_(i)ᵀ)
        P_i = S_i^(−1/2k)                        (every precondition_frequency steps; I before)
        D = G ×_1 P_1 ×_2 P_2 ··· ×_k P_k         (matrix: D = P_L G P_R)
        A = graft(G): G (sgd), G/(√ΣG² + ε_d) (adagrad), G/(√EMA_β2(G²) + ε_d) (rmsprop),
            sign(G) (sqrtn)
        D ← D·‖A‖/(‖D‖ + 1e-16)                   (graft_type "none": no rescaling)
        (coupled weight decay: A ← A + λθ, D ← D + λθ; decoupled: θ ← θ(1 − lr·λ))
        m ← β1·m + D,  m_A ← β1·m_A + A          (moving_average_for_momentum: (1 − β1)·D)
        U = m (t ≥ start_preconditioning_step) else m_A;  nesterov: U ← β1·U + D (or A)
        θ ← θ − lr·U

    1-D parameters get no preconditioner: the graft's update alone (A, its momentum).
    With ``graft_type="none", betas=(0, 1), start_preconditioning_step=1,
    precondition_frequency=1, nesterov=False`` this is the original algorithm of Gupta et al.
    (θ ← θ − lr·P_L G P_R with S summed from ε·I) for every parameter of two or more axes.

    Note:
        The practicalities (grafting, an inverse root every ``precondition_frequency`` steps,
        a start step before which the graft alone steps, blocking, ε) are Distributed
        Shampoo's (Anil et al. 2020), as implemented by kozistr's pytorch-optimizer
        ``ScalableShampoo`` 4.1, whose names and defaults these are (its
        ``preconditioning_compute_steps`` is ``precondition_frequency``, its integer
        ``graft_type`` a name here). Equal step for step to ``ScalableShampoo`` with
        ``shape_interpretation=False`` (gdlab never merges small axes) and ``use_svd=True``
        (gdlab's inverse root is an eigendecomposition; the reference's default is a coupled
        Newton iteration, accurate to its own tolerance only). Not offered:
        ``statistics_compute_steps`` (always 1), ``inverse_exponent_override``,
        ``pre_conditioner_type`` (every axis is preconditioned),
        ``skip_preconditioning_rank_lt`` and ``no_preconditioning_for_layers_with_dim_gt``
        (large axes are blocked instead). The "rmsprop" graft is Adam without bias
        correction (β1 momentum over an RMS-scaled gradient): Distributed Shampoo's Adam
        grafting up to the bias correction. pytorch-optimizer's plain ``Shampoo`` (Gupta et
        al., with its own momentum form) matches the configuration above when its momentum
        is 0, except on 1-D parameters, which it preconditions by S^(−1/2).

        Memory: a step works in four parameter-sized arrays and one matrix per statistic
        kept in its state, so it allocates nothing for vectors and matrices (tensors of three
        or more axes: ``np.tensordot``'s copies); the inverse roots, every
        ``precondition_frequency`` steps, allocate LAPACK's eigendecomposition and the new
        roots.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-3).
        betas: (β1, β2): momentum, and the statistics' decay (β2 = 1: sums) (default
            (0.9, 0.999)).
        moving_average_for_momentum: momentum as an average, (1 − β1)·D (default False).
        weight_decay: λ (default 0).
        decoupled_weight_decay: AdamW-style decay (default False).
        decoupled_learning_rate: lr applied after the momentum (default True), else to D
            and A before it.
        start_preconditioning_step: the first step that uses the Shampoo direction
            (default 25).
        precondition_frequency: steps between inverse roots (default 1000).
        block_size: longest block of an axis (default 512; ≤ 0: no blocking).
        graft_type: "none", "sgd", "adagrad", "rmsprop" or "sqrtn" (default "sgd").
        nesterov: Nesterov momentum (default True).
        diagonal_eps: ε_d of the adagrad/rmsprop graft (default 1e-10).
        matrix_eps: ε of S_i,0 = ε·I (default 1e-6).
        maximize: maximize the objective (default False).

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([[1.0, 0.0], [0.0, 1.0]]))
        >>> opt = Shampoo([w], lr=0.1, graft_type="none", betas=(0.0, 1.0),
        ...               start_preconditioning_step=1, precondition_frequency=1,
        ...               nesterov=False, matrix_eps=0.0)
        >>> w.grad = np.array([[4.0, 0.0], [0.0, 1.0]])
        >>> opt.step()  # (G Gᵀ)^(−1/4) G (GᵀG)^(−1/4) = U Vᵀ: one gradient is whitened
        >>> w.data
        array([[0.9, 0. ],
               [0. , 0.9]])

    Reference: Gupta, Koren & Singer, "Shampoo: Preconditioned Stochastic Tensor
    Optimization", ICML 2018, https://arxiv.org/abs/1802.09568; Anil et al., "Scalable Second
    Order Optimization for Deep Learning", https://arxiv.org/abs/2002.09018
    """

    _rule = staticmethod(shampoo_)
    _param_shaped_keys = frozenset({"momentum", "graft_momentum", "graft_statistics"})
    _nonnegative = ("weight_decay", "diagonal_eps", "matrix_eps")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        moving_average_for_momentum: bool = False,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        decoupled_learning_rate: bool = True,
        start_preconditioning_step: int = 25,
        precondition_frequency: int = 1000,
        block_size: int = 512,
        graft_type: str = "sgd",
        nesterov: bool = True,
        diagonal_eps: float = 1e-10,
        matrix_eps: float = 1e-6,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _validate(self, group: dict[str, Any]) -> None:
        # β2 = 1 (sums, the original Shampoo) is allowed, so betas get their own check
        super()._validate({k: v for k, v in group.items() if k != "betas"})
        betas = group["betas"]
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise ValueError(f"Invalid betas: expected a pair (beta1, beta2), got {betas!r}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] <= 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if group["graft_type"] not in GRAFT_TYPES:
            raise ValueError(
                f"Shampoo: graft_type must be one of {GRAFT_TYPES}, got {group['graft_type']!r}"
            )
        for key in ("start_preconditioning_step", "precondition_frequency"):
            value = group[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Shampoo: {key} must be a positive integer, got {value!r}")
        if isinstance(group["block_size"], bool) or not isinstance(group["block_size"], int):
            raise ValueError(f"Shampoo: block_size must be an integer, got {group['block_size']!r}")
