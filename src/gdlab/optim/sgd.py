"""(Stochastic) gradient descent with momentum (torch's formula).

Batch gradient descent, stochastic gradient descent and mini-batch gradient descent are the
same update; they differ only in how many samples the gradient is averaged over (the data
loader's ``batch_size``: None = the whole set, 1, or b). ``SGD`` is all three.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlab.autograd.sparse import RowSparseGrad
from gdlab.optim.optimizer import Optimizer, ParamsT, check_sparse_weight_decay, hyperparameters

__all__ = ["SGD", "sgd_"]


def sgd_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float, momentum: float = 0.0,
    dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
    maximize: bool = False,
) -> None:  # fmt: skip
    """One SGD step on ``param`` in place (the reference rule; see :class:`SGD`)."""
    if type(grad) is RowSparseGrad:  # sparse=True
        if not momentum:  # the rows present move (torch)
            param[grad.indices] -= lr * (-grad.values if maximize else grad.values)
            return
        grad = grad.to_dense()  # torch's buffer decays every row it holds: the dense update
    g = -grad if maximize else grad
    if weight_decay:
        g = g + weight_decay * param
    if momentum:
        buf = state.get("momentum_buffer")
        if buf is None:  # torch: the buffer starts as the first gradient, undampened
            buf = state["momentum_buffer"] = g.astype(param.dtype)
        else:
            buf *= momentum
            buf += (1.0 - dampening) * g if dampening else g
        g = g + momentum * buf if nesterov else buf
    param -= lr * g


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    Update (PyTorch convention; the momentum buffer starts as the first gradient)::

        g_t = ±∇f(θ_{t-1}) + λ·θ_{t-1}          # − if maximize; λ = weight_decay
        b_t = μ·b_{t-1} + (1 − τ)·g_t           # b_1 = g_1; μ = momentum, τ = dampening
        θ_t = θ_{t-1} − lr·b_t                  # nesterov: θ_t = θ_{t-1} − lr·(g_t + μ·b_t)

    Note:
        Sutskever et al. and many tutorials (Deep Learning from Scratch, cs231n) write
        v_t = γ·v_{t-1} + lr·g_t; θ_t = θ_{t-1} − v_t. It equals this update while lr is
        constant and differs once lr is scheduled: use :class:`Momentum` for that form.
        d2l's momentum (v ← βv + g; x ← x − ηv) *is* this update with ``momentum=β``.
        Batch GD, SGD and mini-batch GD are all this class: only the batch differs.

    Args:
        params: parameters or param groups.
        lr: learning rate (default 1e-3, as torch 2.13).
        momentum: momentum factor μ (default 0).
        dampening: dampening τ of the momentum (default 0).
        weight_decay: L2 penalty λ added to the gradient (default 0).
        nesterov: Nesterov momentum (default False); needs momentum > 0 and dampening 0.
        maximize: maximize the objective instead (default False).
        foreach: accepted for torch compatibility and ignored.
        fused: None (default) runs the numba kernel when numba is installed
            (``gdlab[fast]``), True requires it, False forces the NumPy rule; same results.
        differentiable: must be False.

    Example:
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.array([1.0]))
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> w.grad = np.array([2.0])
        >>> opt.step()
        >>> w.data
        array([0.8])

    Reference: Sutskever, Martens, Dahl & Hinton, "On the importance of initialization and
    momentum in deep learning", ICML 2013.
    """

    _rule = staticmethod(sgd_)
    _param_shaped_keys = frozenset({"momentum_buffer"})
    _nonnegative = ("momentum", "weight_decay")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, hyperparameters(locals()))

    def _sparse_grad(self, group: dict[str, Any], grad: Any) -> Any:
        """Torch's SGD takes sparse gradients. Without momentum only their rows move; with it
        torch's buffer holds every row ever touched and decays them all, which is the dense
        update (the rows never touched have a zero buffer either way): ``sgd_`` takes both."""
        return check_sparse_weight_decay("SGD", group, grad)

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
