"""SGD's fast kernel: one numba pass, or NumPy ufuncs into reused work buffers (chunked)."""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import numpy as np

from gdlab.autograd.sparse import RowSparseGrad
from gdlab.optim._fast.buffers import direct_work, dtype_scalars
from gdlab.optim._fast.chunked import chunk_grad, for_chunks
from gdlab.optim._fast.numba_loader import flat_views, fused_module, run_kernel
from gdlab.optim._fast.sparse_rows import compiled_sgd_momentum_rows, compiled_sgd_rows, on_rows

__all__ = ["SGDScalars", "sgd"]


class SGDScalars(NamedTuple):
    """SGD's hyper-parameters as the kernels take them (scalars of θ's dtype, then flags)."""

    lr: Any
    weight_decay: Any
    momentum: Any
    one_minus_dampening: Any
    decay: bool
    has_momentum: bool
    dampened: bool
    nesterov: bool
    maximize: bool
    first: bool  # the buffer starts as the first gradient


def sgd(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float, momentum: float = 0.0,
    dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
    maximize: bool = False, fused: bool | None = None,
) -> None:  # fmt: skip
    """``sgd.sgd_`` in place: numba if ``fused`` allows and the arrays can be flat, else NumPy
    on the whole arrays for a parameter of one chunk, else over cache-sized chunks; a
    row-sparse gradient updates its rows only without momentum, and every row with it (as
    the dense gradient would, but compiled without making it where numba runs)."""
    sparse = type(grad) is RowSparseGrad
    if sparse and not momentum:
        if not compiled_sgd_rows(param, grad, lr=lr, maximize=maximize, fused=fused):
            on_rows(sgd, param, grad, state, (), lr=lr, maximize=maximize, fused=False)
        return
    buf = state.get("momentum_buffer") if momentum else None
    first = bool(momentum) and buf is None
    if first:
        buf = np.empty_like(param)  # the kernel writes the first gradient into it
    flags = (bool(weight_decay), bool(momentum), bool(dampening), nesterov, maximize, first)
    values = (lr, weight_decay, momentum, 1.0 - dampening)
    if sparse:
        scalars = _kernel_scalars(param, values, flags)
        if compiled_sgd_momentum_rows(param, grad, buf, scalars, fused):
            if first:
                state["momentum_buffer"] = buf
            return
        grad = grad.to_dense()
    kernels = fused_module(fused, "sgd_", param.size)
    views = None if kernels is None else flat_views([param, grad, param if buf is None else buf])
    if views is not None:
        run_kernel(kernels.sgd_kernel, views, _kernel_scalars(param, values, flags))
    else:
        # SGDScalars' fields as a plain tuple: a NamedTuple costs ~0.2 µs more to build and
        # unpack, per parameter per step (the whole step of a small parameter is ~1.5 µs)
        scalars = dtype_scalars(param, grad, values) + flags
        work = direct_work(param, grad, 2)
        if work is None:
            for_chunks([param, grad, buf], partial(_sgd_chunk, s=scalars), work=2)
        else:  # one chunk: no closure, no slicing (same arithmetic)
            _sgd_chunk(param, grad, buf, *work, s=scalars)
    if first:
        state["momentum_buffer"] = buf


def _kernel_scalars(param: np.ndarray, values: tuple[float, ...], flags: tuple) -> SGDScalars:
    """The compiled kernels' scalars: ``values`` in the parameter's dtype, then the flags."""
    return SGDScalars._make((*(param.dtype.type(v) for v in values), *flags))


def _sgd_chunk(
    p: np.ndarray, g: np.ndarray, b: np.ndarray | None, w: np.ndarray, d: np.ndarray, *,
    s: tuple,
) -> None:  # fmt: skip
    """The SGD update of θ, g, buffer (one chunk or a whole small parameter); w, d: scratch;
    ``s``: the fields of ``SGDScalars`` in order."""
    lr, weight_decay, momentum, keep, decay, has_momentum, dampened, nesterov, maximize, first = s
    g = chunk_grad(p, g, weight_decay if decay else 0.0, maximize, d, w)
    if has_momentum:
        if first:
            np.copyto(b, g)
        else:
            b *= momentum
            if dampened:
                np.multiply(g, keep, out=w)
                b += w
            else:
                b += g
        if nesterov:  # θ ← θ − lr·(g + μ·b)
            np.multiply(b, momentum, out=w)
            w += g
            g = w
        else:
            g = b
    np.multiply(g, lr, out=w)
    p -= w
