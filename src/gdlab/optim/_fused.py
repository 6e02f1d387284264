"""Fused optimizer kernels compiled by numba: one pass over memory per step (``pip install
gdlab[fast]``).

Imported lazily by :mod:`gdlab.optim._fusion` only; nothing else imports numba. Each kernel
walks the flat arrays once, element by element, doing exactly the arithmetic of the NumPy rule
in the same order and in the parameter's dtype (the hyper-parameters come in an array of that
dtype, so float32 stays float32), which makes the two paths agree to the last bit in practice.

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

__all__ = ["ADAM_HP", "MOMENTUM_HP", "SGD_HP", "adam_kernel", "momentum_kernel", "sgd_kernel"]

# positions in the hyper-parameter arrays
ADAM_HP = ("one_minus_beta1", "beta2", "one_minus_beta2", "e", "neg_scale", "decay", "coupled")
SGD_HP = ("weight_decay", "momentum", "one_minus_dampening", "lr")
MOMENTUM_HP = ("momentum", "weight_decay_times_lr", "signed_lr")

_JIT = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")


@njit(**_JIT)
def adam_kernel(p, g, m, v, vmax, hp, maximize, coupled, decoupled, amsgrad):
    """Adam in place over flat arrays; ``vmax`` is ignored unless ``amsgrad``.

    Per element, as ``adam._adam_chunk``: g ← ±g (+ λθ); θ ← θ·(1 − lr·λ) if decoupled;
    m ← m + (g − m)(1 − β1); v ← v·β2 + g²(1 − β2); v̂ ← max(v̂, v); θ ← θ + m/(√v̂ + e)·(−s).
    """
    omb1, b2, omb2, e, neg_scale, decay, lam = hp[0], hp[1], hp[2], hp[3], hp[4], hp[5], hp[6]
    for i in range(p.size):
        pi = p[i]
        gi = -g[i] if maximize else g[i]
        if coupled:
            gi = gi + pi * lam
        if decoupled:
            pi = pi * decay
        mi = m[i]
        mi = mi + (gi - mi) * omb1
        m[i] = mi
        vi = v[i] * b2 + (gi * gi) * omb2
        v[i] = vi
        if amsgrad:
            vm = vmax[i]
            if vm < vi or vi != vi:  # np.maximum: the larger, NaN if either is NaN
                vm = vi
            vmax[i] = vm
            vi = vm
        p[i] = pi + (mi / (np.sqrt(vi) + e)) * neg_scale


@njit(**_JIT)
def sgd_kernel(p, g, b, hp, maximize, decay, momentum, dampening, nesterov, first):
    """SGD in place over flat arrays; ``b`` (the momentum buffer) is ignored without momentum.

    Per element, as ``sgd.sgd_``: d ← ±g (+ λθ); b ← d on the first step, else
    b ← b·μ + d(1 − τ); d ← b, or b·μ + d with Nesterov; θ ← θ − d·lr.
    """
    lam, mu, omd, lr = hp[0], hp[1], hp[2], hp[3]
    for i in range(p.size):
        pi = p[i]
        d = -g[i] if maximize else g[i]
        if decay:
            d = d + pi * lam
        if momentum:
            if first:
                bi = d
            elif dampening:
                bi = b[i] * mu + d * omd
            else:
                bi = b[i] * mu + d
            b[i] = bi
            d = bi * mu + d if nesterov else bi
        p[i] = pi - d * lr


@njit(**_JIT)
def momentum_kernel(p, g, vel, hp, decay):
    """The articles' momentum in place over flat arrays, as ``sgd.momentum_``.

    Per element: v ← v·μ (+ θ·λ·lr) + g·(±lr); θ ← θ − v.
    """
    mu, wd_lr, signed_lr = hp[0], hp[1], hp[2]
    for i in range(p.size):
        pi = p[i]
        vi = vel[i] * mu
        if decay:
            vi = vi + pi * wd_lr
        vi = vi + g[i] * signed_lr
        vel[i] = vi
        p[i] = pi - vi
