"""Fused optimizer kernels compiled by numba: one pass over memory per step (``pip install
gdlab[fast]``).

Imported lazily by :mod:`gdlab.optim._fast.numba_loader` only; nothing else imports numba.
Each kernel walks the flat arrays once, element by element, doing exactly the arithmetic of the
rule in the same order and in the parameter's dtype (the hyper-parameters come as scalars of
that dtype in a NamedTuple, so float32 stays float32), which makes the two paths agree to the
last bit (``tests/optim/test_fast_kernels.py``).

Compiled with ``fastmath=False`` (no reassociation, no FMA contraction: the NumPy rule's
rounding) and ``error_model="numpy"`` (x/0 gives inf/nan as in NumPy instead of raising, and
the loop vectorises). ``nogil=True`` lets :func:`gdlab.optim.set_num_threads` run kernels on
several threads (parts of one long parameter, or different parameters); numba's own ``prange``
is not used because its default threading layer must not be entered from several threads at
once, which the optimizer's per-parameter tasks would do. ``cache=True`` stores the machine
code next to this file (or in numba's user cache), so only the first run ever compiles.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["adam_kernel", "momentum_kernel", "sgd_kernel"]

_JIT = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")


@njit(inline="always", **_JIT)
def _followed_grad(gi, pi, maximize, coupled, weight_decay):
    """One element of the gradient a rule follows: ±g, + θ·λ with coupled (L2) weight decay."""
    gi = -gi if maximize else gi
    if coupled:
        gi = gi + pi * weight_decay
    return gi


@njit(**_JIT)
def adam_kernel(p, g, m, v, vmax, s):
    """Adam in place over flat arrays (``s``: ``_fast.adam.AdamScalars``); ``vmax`` is ignored
    unless ``s.amsgrad``.

    Per element, as ``adam.adam_``: g ← ±g (+ λθ); θ ← θ·(1 − lr·λ) if decoupled;
    m ← m + (g − m)(1 − β1); v ← v·β2 + g²(1 − β2); v̂ ← max(v̂, v); θ ← θ + m/(√v̂ + e)·(−s).
    """
    for i in range(p.size):
        pi = p[i]
        gi = _followed_grad(g[i], pi, s.maximize, s.coupled, s.weight_decay)
        if s.decoupled:
            pi = pi * s.decay
        mi = m[i]
        mi = mi + (gi - mi) * s.one_minus_beta1
        m[i] = mi
        vi = v[i] * s.beta2 + (gi * gi) * s.one_minus_beta2
        v[i] = vi
        if s.amsgrad:
            vm = vmax[i]
            if vm < vi or vi != vi:  # np.maximum: the larger, NaN if either is NaN
                vm = vi
            vmax[i] = vm
            vi = vm
        p[i] = pi + (mi / (np.sqrt(vi) + s.e)) * s.neg_step_size


@njit(**_JIT)
def sgd_kernel(p, g, b, s):
    """SGD in place over flat arrays (``s``: ``_fast.sgd.SGDScalars``); ``b`` (the momentum
    buffer) is ignored without momentum.

    Per element, as ``sgd.sgd_``: d ← ±g (+ λθ); b ← d on the first step, else
    b ← b·μ + d(1 − τ); d ← b, or b·μ + d with Nesterov; θ ← θ − d·lr.
    """
    for i in range(p.size):
        pi = p[i]
        d = _followed_grad(g[i], pi, s.maximize, s.decay, s.weight_decay)
        if s.has_momentum:
            if s.first:
                bi = d
            elif s.dampened:
                bi = b[i] * s.momentum + d * s.one_minus_dampening
            else:
                bi = b[i] * s.momentum + d
            b[i] = bi
            d = bi * s.momentum + d if s.nesterov else bi
        p[i] = pi - d * s.lr


@njit(**_JIT)
def momentum_kernel(p, g, vel, s):
    """The articles' momentum in place over flat arrays, as ``heavy_ball.momentum_``
    (``s``: ``_fast.sgd.MomentumScalars``).

    Per element: v ← v·μ (+ θ·λ·lr) + g·(±lr); θ ← θ − v.
    """
    for i in range(p.size):
        pi = p[i]
        vi = vel[i] * s.momentum
        if s.decay:
            vi = vi + pi * s.weight_decay_lr
        vi = vi + g[i] * s.signed_lr
        vel[i] = vi
        p[i] = pi - vi
