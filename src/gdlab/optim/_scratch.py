"""Work arrays kept in an optimizer's per-parameter state, so a rule's step allocates nothing.

The reference rules of the optimizers beyond torch.optim (no fast kernel) compute their
temporaries into these with ``out=`` ufuncs. They live under the key ``"_scratch"``, which
``state_dict()`` leaves out (keys starting with ``_``), and are remade after a reload.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "decayed_grad_into", "ema_", "ema_moments_", "ema_sq_", "grad_into", "lerp_adam_moments_",
    "scratch",
]  # fmt: skip


def scratch(state: dict, param: np.ndarray, count: int) -> list[np.ndarray]:
    """``count`` arrays shaped like ``param`` (made on the first step, then reused)."""
    bufs = state.get("_scratch")
    if bufs is None or len(bufs) < count or bufs[0].shape != param.shape or \
            bufs[0].dtype != param.dtype:  # fmt: skip
        bufs = state["_scratch"] = [np.empty_like(param) for _ in range(count)]
    return bufs


def grad_into(
    param: np.ndarray, grad: np.ndarray, weight_decay: float, maximize: bool, out: np.ndarray,
    work: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """The gradient the rule follows, ±g + λ·θ (coupled L2), in ``out`` (``work`` clobbered);
    ``grad`` itself when there is nothing to change."""
    if not maximize and not weight_decay:
        return grad
    if maximize:
        np.negative(grad, out=out)
    else:
        np.copyto(out, grad)
    if weight_decay:
        np.multiply(param, weight_decay, out=work)
        out += work
    return out


def decayed_grad_into(
    param: np.ndarray, grad: np.ndarray, lr: float, weight_decay: float, decoupled: bool,
    maximize: bool, out: np.ndarray, work: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """``grad_into`` with the weight decay decoupled (AdamW's: θ ← θ·(1 − lr·λ) in place, the
    gradient left as it is) or coupled (±g + λ·θ)."""
    if decoupled and weight_decay:  # (θ·1 would change nothing: no pass for it)
        param *= 1.0 - lr * weight_decay
        return grad_into(param, grad, 0.0, maximize, out, work)
    return grad_into(param, grad, weight_decay, maximize, out, work)


def ema_(avg: np.ndarray, x: np.ndarray, beta: float, work: np.ndarray) -> None:
    """avg ← β·avg + (1 − β)·x in place (``work`` clobbered): a first moment's update."""
    avg *= beta
    avg += np.multiply(x, 1.0 - beta, out=work)


def ema_sq_(avg: np.ndarray, x: np.ndarray, beta: float, work: np.ndarray) -> None:
    """avg ← β·avg + (1 − β)·x² in place (``work`` clobbered): a second moment's update, the
    product formed as torch's ((1 − β)·x)·x."""
    avg *= beta
    np.multiply(x, 1.0 - beta, out=work)
    work *= x
    avg += work


def ema_moments_(
    m: np.ndarray, v: np.ndarray, g: np.ndarray, betas: tuple[float, float], work: np.ndarray
) -> None:
    """Adam's moments in place (``work`` clobbered): m ← β1·m + (1 − β1)·g and
    v ← β2·v + (1 − β2)·g², the product formed as torch's ((1 − β2)·g)·g."""
    beta1, beta2 = betas
    ema_(m, g, beta1, work)
    ema_sq_(v, g, beta2, work)


def lerp_adam_moments_(
    g: np.ndarray, m: np.ndarray, v: np.ndarray, beta1: float, beta2: float, work: np.ndarray
) -> None:
    """Adam's moments rounded as torch.optim.Adam's, in place (``work`` clobbered):
    m ← m + (1 − β1)·(g − m) (torch's lerp), v ← β2·v + (1 − β2)·g² with g² formed first."""
    np.subtract(g, m, out=work)
    work *= 1.0 - beta1
    m += work
    v *= beta2
    np.multiply(g, g, out=work)
    work *= 1.0 - beta2
    v += work
