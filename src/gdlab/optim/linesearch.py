"""Line searches for quasi-Newton methods: cubic interpolation and the strong Wolfe search.

Ported from torch.optim.lbfgs (itself from Lua torch's ``lswolfe.lua``/``polyinterp.lua``) so
that ``LBFGS(line_search_fn="strong_wolfe")`` takes the same steps as torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = ["cubic_interpolate", "strong_wolfe"]

ObjFunc = Callable[[list[np.ndarray], float, np.ndarray], tuple[float, np.ndarray]]


def cubic_interpolate(
    x1: float,
    f1: float,
    g1: float,
    x2: float,
    f2: float,
    g2: float,
    bounds: tuple[float, float] | None = None,
) -> float:
    """Minimiser of the cubic through (x1, f1, f1') and (x2, f2, f2'), clipped to ``bounds``.

    d1 = g1 + g2 − 3(f1 − f2)/(x1 − x2);  d2 = √(d1² − g1·g2);
    x* = x2 − (x2 − x1)·(g2 + d2 − d1)/(g2 − g1 + 2·d2); the bounds' midpoint if d2² < 0.
    """
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _bracket(obj_func, x, t, d, f, g, gtd, c1, c2, max_ls):  # arguments as strong_wolfe
    """Phase 1: expand t until an interval brackets a strong-Wolfe point (or t is one).

    Returns (steps, losses, gradients, directional derivatives, done, iterations, evals):
    one point if ``done``, else the two ends of the bracket.
    """
    f_new, g_new = obj_func(x, t, d)
    evals = 1
    gtd_new = float(g_new @ d)
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    ls_iter = 0
    while ls_iter < max_ls:
        no_decrease = f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev)
        if not no_decrease and abs(gtd_new) <= -c2 * gtd:
            return [t], [f_new], [g_new], [gtd_new], True, ls_iter, evals
        if no_decrease or gtd_new >= 0:  # the minimum lies between t_prev and t
            ends = [t_prev, t], [f_prev, f_new], [g_prev, g_new], [gtd_prev, gtd_new]
            return (*ends, False, ls_iter, evals)
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        t_prev, t = (
            t,
            cubic_interpolate(
                t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step)
            ),
        )
        f_prev, g_prev, gtd_prev = f_new, g_new, gtd_new
        f_new, g_new = obj_func(x, t, d)
        evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
    return [0.0, t], [f, f_new], [g, g_new], [gtd, gtd_new], False, ls_iter, evals


def _keep_inside(t: float, lo: float, hi: float, insuf_progress: bool) -> tuple[float, bool]:
    """Safeguard of the zoom phase: a trial step too close to an end of the bracket [lo, hi]
    twice in a row (or outside it) is moved 10% of the bracket's width inside.

    Returns the step and whether the next trial starts with insufficient progress.
    """
    eps = 0.1 * (hi - lo)
    if not min(hi - t, t - lo) < eps:  # (not >=: a NaN step stays as it is, as in torch)
        return t, False
    if not (insuf_progress or t >= hi or t <= lo):
        return t, True
    return (hi - eps if abs(t - hi) < abs(t - lo) else lo + eps), False


def strong_wolfe(
    obj_func: ObjFunc,
    x: list[np.ndarray],
    t: float,
    d: np.ndarray,
    f: float,
    g: np.ndarray,
    gtd: float,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[float, np.ndarray, float, int]:
    """Find a step t along d satisfying the strong Wolfe conditions (torch's algorithm).

    f(x + t·d) ≤ f(x) + c1·t·∇f·d  and  |∇f(x + t·d)·d| ≤ c2·|∇f·d|.

    Returns ``(f_new, g_new, t, function_evaluations)``.

    Reference: Nocedal & Wright, "Numerical Optimization", 2nd ed., algorithms 3.5 and 3.6.
    """
    d_norm = float(np.max(np.abs(d)))
    g = g.copy()
    bracket, bracket_f, bracket_g, bracket_gtd, done, ls_iter, evals = _bracket(
        obj_func, x, t, d, f, g, gtd, c1, c2, max_ls
    )
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = cubic_interpolate(
            bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1]
        )
        t, insuf_progress = _keep_inside(t, min(bracket), max(bracket), insuf_progress)
        f_new, g_new = obj_func(x, t, d)
        evals += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], evals
