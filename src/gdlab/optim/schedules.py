"""Learning-rate schedules as pure functions of the step: ``Schedule = Callable[[int], float]``.

Nothing here touches an optimizer: a schedule maps a step t = 0, 1, 2, ... to a learning rate,
so the lab can plot it and the scheduler classes of :mod:`gdlab.optim.lr_scheduler` can write
it into ``group["lr"]``. ``join`` chains schedules at boundaries (warm-up, then decay).

Example:
    >>> s = join([linear_warmup(0.0, 0.1, 5), cosine(0.1, 95)], boundaries=[5])
    >>> [round(s(t), 4) for t in (0, 5, 100)]
    [0.0, 0.1, 0.0]
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence

__all__ = [
    "Schedule", "constant", "cosine", "cyclic", "exponential", "inverse_time",
    "join", "linear_warmup", "multistep", "one_cycle", "polynomial", "step", "warmup_cosine",
]  # fmt: skip

Schedule = Callable[[int], float]


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"Invalid {name}: {value} (must be positive)")


def constant(lr: float) -> Schedule:
    """lr_t = lr.

    Example:
        >>> constant(0.1)(7)
        0.1
    """
    return lambda t: lr


def step(lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    """lr_t = lr·γ^⌊t/step_size⌋ (torch's StepLR closed form).

    Example:
        >>> [round(step(1.0, 2, 0.5)(t), 3) for t in range(5)]
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    _positive("step_size", step_size)
    _positive("gamma", gamma)
    return lambda t: lr * gamma ** (t // step_size)


def multistep(lr: float, milestones: Sequence[int], gamma: float = 0.1) -> Schedule:
    """lr_t = lr·γ^(number of milestones ≤ t) (torch's MultiStepLR closed form).

    Example:
        >>> [multistep(1.0, [1, 3], 0.5)(t) for t in range(4)]
        [1.0, 0.5, 0.5, 0.25]
    """
    ms = sorted(milestones)
    return lambda t: lr * gamma ** bisect_right(ms, t)


def exponential(lr: float, gamma: float) -> Schedule:
    """lr_t = lr·γ^t.

    Example:
        >>> exponential(1.0, 0.5)(3)
        0.125
    """
    _positive("gamma", gamma)
    return lambda t: lr * gamma**t


def inverse_time(lr: float, decay: float, power: float = 1.0) -> Schedule:
    """lr_t = lr / (1 + decay·t)^power (Adagrad's lr_decay, scikit-learn's 'invscaling').

    Example:
        >>> inverse_time(1.0, 0.5)(2)
        0.5
    """
    if decay < 0:
        raise ValueError(f"Invalid decay: {decay} (must be >= 0)")
    return lambda t: lr / (1.0 + decay * t) ** power


def polynomial(lr: float, total_steps: int, power: float = 1.0, end_lr: float = 0.0) -> Schedule:
    """lr_t = end_lr + (lr − end_lr)·(1 − min(t, T)/T)^power (torch's PolynomialLR, end 0).

    Example:
        >>> polynomial(1.0, 4)(2)
        0.5
    """
    _positive("total_steps", total_steps)
    return lambda t: end_lr + (lr - end_lr) * (1.0 - min(total_steps, t) / total_steps) ** power


def cosine(lr: float, t_max: int, eta_min: float = 0.0) -> Schedule:
    """Cosine annealing: lr_t = η_min + (lr − η_min)·(1 + cos(π·t/t_max))/2.

    For t > t_max the cosine keeps going (back up), as torch's closed form.

    Example:
        >>> s = cosine(0.1, t_max=100)
        >>> round(s(0), 4), round(s(100), 4)
        (0.1, 0.0)

    Reference: Loshchilov & Hutter, "SGDR", https://arxiv.org/abs/1608.03983
    """
    _positive("t_max", t_max)
    return lambda t: eta_min + (lr - eta_min) * (1 + math.cos(math.pi * t / t_max)) / 2


def linear_warmup(start_lr: float, end_lr: float, warmup_steps: int) -> Schedule:
    """Linear ramp from ``start_lr`` at t=0 to ``end_lr`` at t=warmup_steps, then constant.

    Example:
        >>> [linear_warmup(0.0, 1.0, 4)(t) for t in (0, 2, 4, 9)]
        [0.0, 0.5, 1.0, 1.0]
    """
    _positive("warmup_steps", warmup_steps)
    return lambda t: start_lr + (end_lr - start_lr) * min(t, warmup_steps) / warmup_steps


def warmup_cosine(
    lr: float, warmup_steps: int, total_steps: int, start_lr: float = 0.0, eta_min: float = 0.0
) -> Schedule:
    """Linear warm-up to ``lr`` over ``warmup_steps``, then cosine to ``eta_min`` at total_steps.

    Example:
        >>> s = warmup_cosine(1.0, 10, 110)
        >>> s(0), s(10), round(s(110), 6)
        (0.0, 1.0, 0.0)
    """
    if not 0 <= warmup_steps < total_steps:
        raise ValueError(f"Invalid warmup_steps {warmup_steps} for total_steps {total_steps}")
    if warmup_steps == 0:
        return cosine(lr, total_steps, eta_min)
    return join(
        [
            linear_warmup(start_lr, lr, warmup_steps),
            cosine(lr, total_steps - warmup_steps, eta_min),
        ],
        [warmup_steps],
    )


def _anneal(start: float, end: float, pct: float, strategy: str) -> float:
    if strategy == "cos":
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
    return (end - start) * pct + start


def one_cycle(
    max_lr: float,
    total_steps: int,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> Schedule:
    """The 1cycle policy (torch's OneCycleLR formula, same arithmetic).

    Up from max_lr/div_factor to max_lr over pct_start·T steps, then down to
    max_lr/(div_factor·final_div_factor) (three_phase: back to the initial lr first).

    Example:
        >>> s = one_cycle(1.0, 10)
        >>> round(s(0), 4), round(s(2), 4), round(s(9), 8)
        (0.04, 1.0, 4e-06)

    Reference: Smith & Topin, "Super-Convergence", https://arxiv.org/abs/1708.07120
    """
    _positive("total_steps", total_steps)
    if anneal_strategy not in ("cos", "linear"):
        raise ValueError(
            f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
        )
    initial = max_lr / div_factor
    final = initial / final_div_factor
    values = [initial, max_lr, initial, final] if three_phase else [initial, max_lr, final]
    ends = one_cycle_phase_ends(total_steps, pct_start, three_phase)
    return anneal_phases(list(zip(ends, values, values[1:], strict=False)), anneal_strategy)


def one_cycle_phase_ends(total_steps: int, pct_start: float, three_phase: bool) -> list[float]:
    """The last step of each 1cycle phase, as torch's OneCycleLR computes them (floats).

    Not a schedule, so not in ``__all__``: OneCycleLR's momentum cycle uses it too.
    """
    up = float(pct_start * total_steps) - 1
    if three_phase:
        return [up, float(2 * pct_start * total_steps) - 2, total_steps - 1]
    return [up, total_steps - 1]


def anneal_phases(phases: Sequence[tuple[float, float, float]], strategy: str) -> Schedule:
    """Piecewise annealing: phase i goes from ``start_i`` to ``end_i`` until step ``last_i``.

    ``phases`` holds ``(last_i, start_i, end_i)``; each phase anneals by ``strategy``
    ("cos" or "linear") from the previous phase's last step, and the last phase extends past
    its end (torch's OneCycleLR arithmetic). Not in ``__all__``: the building block of
    :func:`one_cycle` and of OneCycleLR's momentum.
    """

    def schedule(t: int) -> float:
        start_step = 0.0
        for i, (end_step, a, b) in enumerate(phases):
            if t <= end_step or i == len(phases) - 1:
                return _anneal(a, b, (t - start_step) / (end_step - start_step), strategy)
            start_step = end_step
        raise AssertionError("unreachable")

    return schedule


def cyclic(
    base_lr: float,
    max_lr: float,
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
    scale_fn: Callable[[float], float] | None = None,
    scale_mode: str = "cycle",
) -> Schedule:
    """Cyclical learning rates (torch's CyclicLR formula): triangular, triangular2, exp_range.

    Example:
        >>> s = cyclic(0.0, 1.0, step_size_up=2)
        >>> [s(t) for t in range(5)]
        [0.0, 0.5, 1.0, 0.5, 0.0]

    Reference: Smith, "Cyclical Learning Rates for Training Neural Networks",
    https://arxiv.org/abs/1506.01186
    """
    total, ratio = cyclic_period(step_size_up, step_size_down)
    scale_mode = cyclic_scale_mode(mode, scale_fn, scale_mode)
    if scale_fn is None:

        def scale_fn(x: float) -> float:
            return cyclic_scale(mode, gamma, x)

    def schedule(t: int) -> float:
        factor, cycle = cyclic_position(t, total, ratio)
        scale = scale_fn(cycle if scale_mode == "cycle" else t)
        return base_lr + (max_lr - base_lr) * factor * scale  # torch's association

    return schedule


# CyclicLR's built-in modes and the argument their amplitude is a function of
CYCLIC_MODES = {"triangular": "cycle", "triangular2": "cycle", "exp_range": "iterations"}


def cyclic_period(step_size_up: int, step_size_down: int | None) -> tuple[float, float]:
    """(steps in a cycle, the fraction of them going up) of ``cyclic`` and CyclicLR."""
    up = float(step_size_up)
    down = float(step_size_down) if step_size_down is not None else up
    total = up + down
    return total, up / total


def cyclic_scale_mode(mode: str, scale_fn: Callable[[float], float] | None, scale_mode: str) -> str:
    """What the amplitude is a function of ("cycle" or "iterations"): ``scale_mode`` for a
    custom ``scale_fn``, else the built-in mode's."""
    if scale_fn is not None:
        return scale_mode
    if mode not in CYCLIC_MODES:
        raise ValueError("mode is invalid and scale_fn is None")
    return CYCLIC_MODES[mode]


def cyclic_scale(mode: str, gamma: float, x: float) -> float:
    """The amplitude of a built-in CyclicLR mode at cycle (or step) ``x``."""
    if mode == "triangular":
        return 1.0
    if mode == "triangular2":
        return 1 / (2.0 ** (x - 1))
    return gamma**x


def cyclic_position(t: int, total_size: float, step_ratio: float) -> tuple[float, int]:
    """(triangle height in [0, 1], cycle number from 1) at step t (torch's arithmetic)."""
    cycle = math.floor(1 + t / total_size)
    x = 1.0 + t / total_size - cycle
    factor = x / step_ratio if x <= step_ratio else (x - 1) / (step_ratio - 1)
    return factor, cycle


def join(schedules: Sequence[Schedule], boundaries: Sequence[int]) -> Schedule:
    """Run ``schedules[i]`` between ``boundaries[i-1]`` and ``boundaries[i]``, each restarted at 0.

    Example:
        >>> s = join([constant(0.1), exponential(1.0, 0.5)], boundaries=[3])
        >>> [s(t) for t in (0, 2, 3, 4)]
        [0.1, 0.1, 1.0, 0.5]
    """
    if len(boundaries) != len(schedules) - 1:
        raise ValueError(
            f"join: expected {len(schedules) - 1} boundaries for {len(schedules)} schedules, "
            f"got {len(boundaries)}"
        )
    if list(boundaries) != sorted(boundaries):
        raise ValueError(f"join: boundaries must be increasing, got {list(boundaries)}")
    starts = [0, *boundaries]

    def schedule(t: int) -> float:
        i = bisect_right(boundaries, t)
        return schedules[i](t - starts[i])

    return schedule
