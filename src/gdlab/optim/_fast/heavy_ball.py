"""The articles' momentum's fast kernel: one numba pass, or NumPy into reused work buffers."""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import numpy as np

from gdlab.optim._fast.buffers import direct_work
from gdlab.optim._fast.chunked import for_chunks
from gdlab.optim._fast.numba_loader import flat_views, fused_module, run_kernel

__all__ = ["MomentumScalars", "momentum"]


class MomentumScalars(NamedTuple):
    """The articles' momentum's hyper-parameters as the kernels take them."""

    momentum: Any
    weight_decay_lr: Any  # λ·lr
    signed_lr: Any  # −lr when maximizing
    decay: bool


def momentum(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float, momentum: float = 0.9,
    weight_decay: float = 0.0, maximize: bool = False, fused: bool | None = None,
) -> None:  # fmt: skip
    """``heavy_ball.momentum_`` in place: numba if ``fused`` allows, else NumPy (chunked)."""
    v = state.get("velocity")
    if v is None:
        v = state["velocity"] = np.zeros_like(param)
    values = (momentum, weight_decay * lr, -lr if maximize else lr)
    kernels = fused_module(fused, "momentum_", param.size)
    views = None if kernels is None else flat_views([param, grad, v])
    if views is not None:
        scalars = MomentumScalars(*(param.dtype.type(x) for x in values), bool(weight_decay))
        run_kernel(kernels.momentum_kernel, views, scalars)
        return
    scalars = tuple.__new__(MomentumScalars, (*values, bool(weight_decay)))  # _make, no frame
    work = direct_work(param, grad, 1)
    if work is None:
        for_chunks([param, grad, v], partial(_momentum_chunk, s=scalars), work=1)
    else:
        _momentum_chunk(param, grad, v, *work, s=scalars)


def _momentum_chunk(
    p: np.ndarray, g: np.ndarray, vel: np.ndarray, w: np.ndarray, *, s: MomentumScalars
) -> None:
    """The articles' momentum update of θ, g, velocity; ``w`` is scratch."""
    if s.decay:
        np.multiply(p, s.weight_decay_lr, out=w)
        vel *= s.momentum
        vel += w
        np.multiply(g, s.signed_lr, out=w)
    else:
        np.multiply(g, s.signed_lr, out=w)
        vel *= s.momentum
    vel += w
    p -= vel
