"""Work arrays kept in an optimizer's per-parameter state, so a rule's step allocates nothing.

The reference rules of the optimizers beyond torch.optim (no fast kernel) compute their
temporaries into these with ``out=`` ufuncs. They live under the key ``"_scratch"``, which
``state_dict()`` leaves out (keys starting with ``_``), and are remade after a reload.
"""

from __future__ import annotations

import numpy as np

__all__ = ["grad_into", "scratch"]


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
