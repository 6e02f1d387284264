"""The speed machinery of the optimizers, behind one seam: :func:`apply_rule`.

An optimizer's file holds its reference rule, ``rule(param, grad, state, **hyper)``, the
formula updating the arrays in place. :func:`apply_rule` runs a step of a param group: with
the fast kernel registered for the rule in :data:`KERNELS` if there is one, else with the rule
itself. A fast kernel takes the rule's arguments plus ``fused`` and leaves the same state keys
and the same numbers (bit for bit or within one ulp: ``tests/optim/test_fast_kernels.py``).
A new optimizer needs nothing here.

What lives in this package:

- ``table.py``: the registrations (rule -> kernel), imported last by ``gdlab.optim``;
- one kernel per file, named as the rule's file (``sgd.py``, ``adam.py``, ...): NumPy in
  cache-sized chunks into reused work buffers, no allocation per step; SGD, Momentum and
  Adam/AdamW also run one numba pass;
- ``chunked.py``, ``buffers.py``: chunking and the work buffers and cached 0-d scalars;
- ``threads.py``: the process-wide thread pool of :func:`set_num_threads`;
- ``numba_loader.py``, ``numba_kernels.py``: the optional numba kernels (``gdlab[fast]``).

Global state lives in ``threads.POOL``, ``buffers`` (per-thread buffers, the scalar cache),
``numba_loader`` (the numba import attempt) and :data:`KERNELS`; each is documented there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from gdlab.optim._fast import numba_loader
from gdlab.optim._fast.numba_loader import RENT, check_fused_args, rent_or_buy
from gdlab.optim._fast.threads import POOL, get_num_threads, is_long, run_tasks, set_num_threads

__all__ = ["KERNELS", "FastKernel", "apply_rule", "check_fused_args", "get_num_threads",
           "has_fused_kernel", "register", "set_num_threads"]  # fmt: skip


class FastKernel(NamedTuple):
    """A rule's fast replacement: ``update(param, grad, state, fused=..., **hyper)``.

    ``fused``: whether it has a numba path (then the optimizer takes torch's ``fused`` flag).
    """

    update: Callable[..., None]
    fused: bool
    numpy_ns: float = 0.0  # the NumPy path's time per element: the break-even rule's rent


# Global: rule function -> its fast kernel; filled once by ``table.py`` when gdlab.optim loads.
KERNELS: dict[Callable[..., None], FastKernel] = {}


def register(
    rule: Callable[..., None], update: Callable[..., None], fused: bool, numpy_ns: float = 0.0
) -> None:
    """Make ``update`` run in place of ``rule`` (same arguments plus ``fused``, same numbers).

    ``numpy_ns``: for a kernel with a numba path, its NumPy path's nanoseconds per element,
    which the break-even rule of ``fused=None`` charges (``numba_loader.rent_or_buy``); a
    fused kernel without it would never pay off its load.
    """
    if fused and not numpy_ns > 0:
        raise ValueError(f"register: a fused kernel needs numpy_ns > 0, got {numpy_ns!r}")
    KERNELS[rule] = FastKernel(update, fused, numpy_ns)


def has_fused_kernel(rule: Callable[..., None] | None) -> bool:
    """Whether ``rule`` has a numba kernel (its optimizer honours ``fused``)."""
    kernel = KERNELS.get(rule)
    return kernel is not None and kernel.fused


Item = tuple[np.ndarray, np.ndarray, dict]  # (param, grad, state) of one parameter


def apply_rule(
    rule: Callable[..., None], items: Sequence[Item], hyper: dict[str, Any], fused: bool | None
) -> None:
    """One step of ``rule`` on every (param, grad, state) of a group, in place.

    The registered fast kernel runs if there is one, else the rule. With several threads
    (``set_num_threads``), small parameters are shared out one per task while a long one is
    split by the kernel itself. With ``fused=None``, whether this step may load and use numba
    is decided once for the group, before any thread runs (``numba_loader.rent_or_buy``; once
    the rent is paid, one comparison).

    ``hyper`` is the caller's dict, kept between steps (``Optimizer._rule_kwargs`` gives its
    last one again while the group's values are equal): a kernel's ``fused`` is written into
    it, a key that dict never compares, rather than into a copy, which would cost about 2% of
    a small model's step.
    """
    kernel = KERNELS.get(rule)
    if kernel is None:
        update = rule
    else:
        update = kernel.update
        if fused is None and kernel.fused and RENT.spent_s < numba_loader.NUMBA_LOAD_S:
            fused = rent_or_buy(items, kernel.numpy_ns)
        hyper["fused"] = fused  # once per group, into the caller's dict (see above)
    if POOL.threads == 1:  # the common case, with no per-step objects
        for param, grad, state in items:
            update(param, grad, state, **hyper)
        return
    tasks = []
    for param, grad, state in items:
        if is_long(param.size):
            update(param, grad, state, **hyper)
        else:
            tasks.append(partial(update, param, grad, state, **hyper))
    run_tasks(tasks)
