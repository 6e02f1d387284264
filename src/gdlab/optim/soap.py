"""SOAP: Adam run in the eigenbasis of Shampoo's preconditioner (ShampoO with Adam in the
Preconditioner's eigenbasis)."""

from __future__ import annotations

import math

import numpy as np

from gdlab.optim._mode_products import axis_gram_into, mode_product_into, work_matrix
from gdlab.optim._scratch import grad_into, scratch
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters

__all__ = ["SOAP", "soap_"]


def _axes(param: np.ndarray, max_precond_dim: int, precondition_1d: bool) -> list[int]:
    """The axes that get a preconditioner (the authors skip 1-D tensors unless asked and any
    axis longer than ``max_precond_dim``: the identity stands in for it)."""
    if param.ndim == 1 and not precondition_1d:
        return []
    return [i for i, n in enumerate(param.shape) if n <= max_precond_dim]


def _rotate_into(
    x: np.ndarray, state: dict, axes: list[int], back: bool, out: np.ndarray, work: np.ndarray
) -> np.ndarray:  # fmt: skip
    """x in the eigenbasis (Q_iᵀ along every preconditioned axis i), or back (Q_i·), into
    ``out`` (``work`` clobbered); ``x`` itself when no axis rotates."""
    if not axes:
        return x
    dst = out if len(axes) % 2 == 1 else work  # the last product lands in ``out``
    for i in axes:
        q = state[f"Q_{i}"]
        mode_product_into(x, q.T if back else q, i, dst)
        x, dst = dst, (work if dst is out else out)
    return x


def _eigenbasis(gg: np.ndarray) -> np.ndarray:
    """Eigenvectors of GG, largest eigenvalue first (the authors' eigh, columns flipped)."""
    _, q = np.linalg.eigh(gg + 1e-30 * np.eye(gg.shape[0], dtype=gg.dtype))
    return q[:, ::-1].copy()


def _refresh_basis(state: dict, axes: list[int]) -> None:
    """One power iteration and a QR per axis (the authors' cheap eigenbasis update); v's
    coordinates are reordered with the estimated eigenvalues, as theirs are."""
    v = state["exp_avg_sq"]
    for i in axes:
        gg, q = state[f"GG_{i}"], state[f"Q_{i}"]
        product = gg @ q
        order = np.argsort(-np.einsum("ij,ij->j", q, product), kind="stable")
        v = np.take(v, order, axis=i)
        state[f"Q_{i}"] = np.linalg.qr(product[:, order])[0]
    state["exp_avg_sq"][...] = v


def _accumulate(g: np.ndarray, state: dict, axes: list[int], shampoo_beta: float) -> None:
    """GG_i ← β_s·GG_i + (1 − β_s)·G_(i) G_(i)ᵀ (L and R of the paper), in a work matrix."""
    for i in axes:
        gg = state[f"GG_{i}"]
        work = axis_gram_into(g, i, work_matrix(state, f"_gram_{i}", gg.shape[0], gg.dtype))
        work -= gg
        work *= 1.0 - shampoo_beta
        gg += work  # torch's lerp_


def soap_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float,
    betas: tuple[float, float] = (0.95, 0.95), shampoo_beta: float | None = None,
    eps: float = 1e-8, weight_decay: float = 0.01, precondition_frequency: int = 10,
    max_precond_dim: int = 10000, precondition_1d: bool = False, normalize_grads: bool = False,
    correct_bias: bool = True, maximize: bool = False,
) -> None:  # fmt: skip
    """One SOAP step in place (the reference rule; see :class:`SOAP`)."""
    beta1, beta2 = betas
    sb = beta2 if shampoo_beta is None else shampoo_beta
    g = -grad if maximize else grad
    axes = _axes(param, max_precond_dim, precondition_1d)
    if "exp_avg" not in state:  # the first gradient only sets up the basis: no step
        state.update(step=0.0, exp_avg=np.zeros_like(param), exp_avg_sq=np.zeros_like(param))
        for i in axes:
            state[f"GG_{i}"] = np.zeros((param.shape[i],) * 2, dtype=param.dtype)
        _accumulate(g, state, axes, sb)
        for i in axes:
            state[f"Q_{i}"] = _eigenbasis(state[f"GG_{i}"])
        return
    state["step"] += 1.0
    t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
    a, b, c, d = scratch(state, param, 4)
    g = grad_into(param, grad, 0.0, maximize, a, b)
    g_rot = _rotate_into(g, state, axes, False, b, c)
    np.subtract(g, m, out=c)  # m is kept in the parameter's own coordinates
    c *= 1.0 - beta1
    m += c
    v *= beta2
    np.multiply(g_rot, 1.0 - beta2, out=c)
    c *= g_rot
    v += c
    m_rot = _rotate_into(m, state, axes, False, b, c)
    np.sqrt(v, out=c)
    c += eps
    np.divide(m_rot, c, out=b)
    update = _rotate_into(b, state, axes, True, c, d)
    if normalize_grads:
        np.multiply(update, update, out=d)
        update /= 1e-30 + math.sqrt(np.mean(d))
    step_size = lr
    if correct_bias:
        step_size = lr * math.sqrt(1.0 - beta2**t) / (1.0 - beta1**t)
    update *= step_size
    param -= update
    if weight_decay > 0.0:
        param *= 1.0 - lr * weight_decay  # decoupled, after the step (the authors' order)
    _accumulate(g, state, axes, sb)  # after the step: the basis never sees the current g
    if t % precondition_frequency == 0:
        _refresh_basis(state, axes)


class SOAP(Optimizer):
    """SOAP: Adam whose moments live in the eigenbasis of Shampoo's preconditioners.

    For a matrix parameter with gradient G (every axis of a tensor alike)::

        L ← β_s·L + (1 − β_s)·G Gᵀ,   R ← β_s·R + (1 − β_s)·Gᵀ G    (after each step)
        Q_L, Q_R: eigenvectors of L, R (eigh at the first gradient, then every
                  precondition_frequency steps one power iteration L·Q_L and a QR)
        G' = Q_Lᵀ G Q_R
        m_t = β1·m_{t-1} + (1 − β1)·G,  v_t = β2·v_{t-1} + (1 − β2)·G'²
        U = Q_L ((Q_Lᵀ m_t Q_R) / (√v_t + ε)) Q_Rᵀ      (normalize_grads: U/rms(U))
        θ_t = θ_{t-1} − lr·√(1 − β2^t)/(1 − β1^t)·U;  θ_t ← θ_t·(1 − lr·λ)

    The first gradient of each parameter only builds L, R and their eigenbases (no step), so
    the basis never contains the gradient it rotates. 1-D parameters and axes longer than
    ``max_precond_dim`` keep the identity basis (Adam's coordinates).

    Note:
        Defaults and argument names are the authors' (nikhilvyas/SOAP, soap.py): their
        ``shampoo_beta=-1`` ("use β2") is ``None`` here; ``merge_dims`` and ``data_format``
        are not offered (axes are never merged). The authors compute the eigenbases in
        float32 whatever the parameter's dtype; gdlab computes them in the parameter's
        dtype, so a float64 run is float64 throughout. kozistr's pytorch-optimizer ``SOAP``
        (4.1) equals the authors' code except that it adds ε instead of 1e-30 to the rms
        when ``normalize_grads`` is on; gdlab follows the authors. Their m is stored in the
        eigenbasis and rotated at each basis change; gdlab keeps m in the parameter's
        coordinates, which is the same vector.

        Memory: a step works in four parameter-sized arrays and one matrix per axis kept in
        its state, so it allocates nothing for vectors and matrices (tensors of three or more
        axes: ``np.tensordot``'s copies); the basis refresh, every ``precondition_frequency``
        steps, allocates the power iteration's product, the reordered v and LAPACK's QR.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 3e-3).
        betas: (β1, β2) of Adam in the eigenbasis (default (0.95, 0.95)).
        shampoo_beta: β_s of L and R; None uses β2 (default None).
        eps: ε (default 1e-8).
        weight_decay: decoupled decay λ (default 0.01).
        precondition_frequency: steps between eigenbasis updates (default 10).
        max_precond_dim: longest axis given a preconditioner (default 10000).
        precondition_1d: precondition 1-D parameters too (default False).
        normalize_grads: divide the update by its rms (default False).
        correct_bias: Adam's bias correction (default True).
        maximize: maximize the objective (default False).

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([[1.0, 2.0], [3.0, 4.0]]))
        >>> opt = SOAP([w], lr=0.1, weight_decay=0.0)
        >>> w.grad = np.array([[1.0, 0.0], [0.0, 2.0]])
        >>> opt.step()  # the first gradient builds the basis only
        >>> w.data
        array([[1., 2.],
               [3., 4.]])

    Reference: Vyas et al., "SOAP: Improving and Stabilizing Shampoo using Adam",
    ICLR 2025, https://arxiv.org/abs/2409.11321
    """

    _rule = staticmethod(soap_)
    _param_shaped_keys = frozenset({"exp_avg", "exp_avg_sq"})
    _nonnegative = ("eps", "weight_decay")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 3e-3,
        betas: tuple[float, float] = (0.95, 0.95),
        shampoo_beta: float | None = None,
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        precondition_frequency: int = 10,
        max_precond_dim: int = 10000,
        precondition_1d: bool = False,
        normalize_grads: bool = False,
        correct_bias: bool = True,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        if group["shampoo_beta"] is not None and not 0.0 <= group["shampoo_beta"] < 1.0:
            raise ValueError(f"Invalid shampoo_beta value: {group['shampoo_beta']}")
        for key in ("precondition_frequency", "max_precond_dim"):
            value = group[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"SOAP: {key} must be a positive integer, got {value!r}")
