"""Running a NumPy kernel chunk by chunk, with work buffers, on one or several threads."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gdlab.optim._fast.buffers import CHUNK, chunks, direct_work, flat, work_buffers
from gdlab.optim._fast.threads import run_chunked
from gdlab.optim._scratch import decayed_grad_into, grad_into

__all__ = ["chunk_grad", "decayed_grad", "denominator", "for_chunks"]


def for_chunks(
    arrays: list[np.ndarray | None], kernel: Callable[..., None], work: int = 0, masks: int = 0
) -> None:
    """``kernel(*pieces, *buffers)`` on matching CHUNK-sized pieces of same-shaped arrays.

    The kernel updates its pieces in place. ``None`` entries (not the first) are passed as
    None: an optional state array the rule does not use this time. After the pieces come
    ``work`` scratch buffers of the first array's dtype and ``masks`` boolean ones, as long as
    the piece: the kernel's temporaries, reused across chunks, steps and parameters.

    Non-contiguous arrays are processed as contiguous copies and written back afterwards.
    Long arrays are shared out over the threads (``set_num_threads``), each with its buffers.
    A small parameter (one chunk, same-shaped arrays) runs the kernel on the arrays themselves.
    """
    first = arrays[0]
    if first.size <= CHUNK and all(a is None or a.shape == first.shape for a in arrays):
        kernel(*arrays, *direct_work(first, first, work, masks))
        return
    dtype, n = first.dtype, first.size
    views: list[np.ndarray | None] = []
    copies = []
    for a in arrays:
        v = None if a is None else flat(a)
        if v is None and a is not None:
            v = np.ascontiguousarray(a).reshape(-1)
            copies.append((a, v))
        views.append(v)

    def body(lo: int, hi: int) -> None:
        buffers = work_buffers(dtype, work) + work_buffers(np.bool_, masks)
        if n <= CHUNK:  # a small parameter is one piece: no slicing
            kernel(*views, *(b[:n] for b in buffers))
            return
        for sl in chunks(hi - lo, lo):
            size = sl.stop - sl.start
            pieces = [None if v is None else v[sl] for v in views]
            kernel(*pieces, *(b[:size] for b in buffers))

    run_chunked(n, body)
    for a, v in copies:
        a[...] = v.reshape(a.shape)


# The gradient a rule follows (±g, coupled L2, or AdamW's decoupled decay applied to θ): the
# reference rules' helpers, which serve a chunk as they serve a whole array.
chunk_grad = grad_into
decayed_grad = decayed_grad_into


def denominator(acc: np.ndarray, eps: float, eps_in_sqrt: bool, out: np.ndarray) -> np.ndarray:
    """√acc + ε (torch) or √(acc + ε) (d2l) into ``out``."""
    if eps_in_sqrt:
        np.add(acc, eps, out=out)
        return np.sqrt(out, out=out)
    np.sqrt(acc, out=out)
    out += eps
    return out
