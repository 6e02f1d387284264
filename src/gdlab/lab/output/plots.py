"""The lab's pictures: paths on contour plots, loss curves, schedules, gradient norms.

Every function builds a ``matplotlib.figure.Figure`` with the object API (no pyplot state, no
``plt.show``, safe under the Agg backend on a headless machine) and returns it; the caller
saves it (``gdlab.lab.output.fileio.save_figure`` writes atomically). matplotlib is imported inside
the functions, so the rest of gdlab works without it.

Example:
    >>> from gdlab.lab import run_trajectory, plot_trajectories, save_figure
    >>> runs = [run_trajectory("ravine", "sgd", steps=30, lr=0.4),
    ...         run_trajectory("ravine", "adam", steps=30, lr=0.5)]
    >>> save_figure(plot_trajectories("ravine", runs), "ravine.png")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdlab.lab.surface.functions import Function1D, TestFunction, get_function, get_function_1d
from gdlab.lab.surface.trajectories import Trajectory

__all__ = [
    "Series",
    "plot_activation_stats",
    "plot_function_1d",
    "plot_grad_norms",
    "plot_loss_curves",
    "plot_schedules",
    "plot_surface",
    "plot_trajectories",
    "smooth_ema",
]

GAP_FLOOR = 1e-16  # f − f* below this is drawn at the floor (log scales cannot show 0)
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#7f7f7f", "#bcbd22"]  # fmt: skip


def _figure(figsize: tuple[float, float]) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("plotting requires matplotlib: pip install 'gdlab[plot]'") from None
    return Figure(figsize=figsize, layout="constrained")


def _fn(function: TestFunction | str) -> TestFunction:
    return get_function(function) if isinstance(function, str) else function


def _log_levels(gap: np.ndarray, n: int) -> np.ndarray | None:
    """n log-spaced contour levels spanning the positive gap values (None if too flat)."""
    pos = gap[np.isfinite(gap) & (gap > 0)]
    if pos.size == 0:
        return None
    lo, hi = np.quantile(pos, 0.002), np.quantile(pos, 0.995)
    lo = max(lo, hi * 1e-9)
    return np.geomspace(lo, hi, n) if hi > lo else None


def plot_surface(
    function: TestFunction | str,
    ax: Any,
    levels: int = 25,
    resolution: int = 160,
    view: tuple | None = None,
) -> Any:
    """Contours of f on ``ax`` over ``view`` (default: the function's domain): log-spaced
    levels of f − f* when f* is known (detail near the minimum and on the walls), linear
    levels otherwise; minima marked with red stars."""
    fn = _fn(function)
    (x0, x1), (y0, y1) = view or fn.domain
    X, Y = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    Z = fn.grid(X, Y)
    lv = _log_levels(Z - fn.f_star, levels) if fn.f_star is not None else None
    if lv is not None:
        from matplotlib.colors import LogNorm

        ax.contour(X, Y, Z - fn.f_star, levels=lv, norm=LogNorm(lv[0], lv[-1]),
                   cmap="viridis", linewidths=0.7, alpha=0.8)  # fmt: skip
    else:
        ax.contour(X, Y, Z, levels=levels, cmap="viridis", linewidths=0.7, alpha=0.8)
    if fn.minima:
        mx, my = np.array(fn.minima).T
        ax.plot(mx, my, "*", color="red", ms=13, mec="black", mew=0.6, ls="none",
                label="minimum" if len(fn.minima) == 1 else "minima", zorder=5)  # fmt: skip
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    return ax


def path_view(
    domain: tuple, trajectories: Sequence[Trajectory], grow: float = 0.25, reach: float = 2.0
) -> tuple:
    """The domain widened to show the paths: a path that stays finite whole up to ``reach`` ×
    the domain's size per side (momentum's overshoot is the point of its picture; one that
    leaves for good, as from a saddle, is cut there), a diverged one at most ``grow`` × the
    size (it is cut at the edge instead of shrinking the surface to a dot)."""
    (x0, x1), (y0, y1) = domain

    def stack(paths: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(paths) if paths else np.empty((0, 2))

    kept = stack([t.valid_points for t in trajectories if not t.diverged])
    cut = stack([t.valid_points for t in trajectories if t.diverged])
    out = []
    for (lo, hi), c in (((x0, x1), 0), ((y0, y1), 1)):
        w = hi - lo
        lo2 = min(max(cut[:, c].min(initial=lo), lo - grow * w),
                  max(kept[:, c].min(initial=lo), lo - reach * w), lo)  # fmt: skip
        hi2 = max(min(cut[:, c].max(initial=hi), hi + grow * w),
                  min(kept[:, c].max(initial=hi), hi + reach * w), hi)  # fmt: skip
        pad = 0.03 * (hi2 - lo2) if (lo2, hi2) != (lo, hi) else 0.0
        out.append((lo2 - pad * (lo2 < lo), hi2 + pad * (hi2 > hi)))
    return tuple(out)


def _inside(pts: np.ndarray, domain: tuple) -> np.ndarray:
    (x0, x1), (y0, y1) = domain
    return (pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1)


def _draw_path(ax: Any, t: Trajectory, color: str, domain: tuple, label: str) -> None:
    pts = t.valid_points
    ax.plot(pts[:, 0], pts[:, 1], "-o", color=color, lw=1.3, ms=2.5, label=label)
    inside = np.flatnonzero(_inside(pts, domain))
    # A diverged path leaves the picture: mark the last point that is still in view.
    end = pts[inside[-1]] if t.diverged and inside.size else pts[-1]
    marker = "X" if t.diverged else "s"
    ax.plot(end[0], end[1], marker, color=color, ms=10, mec="black", mew=0.8, zorder=6)


def _gap_limits(trajectories: Sequence[Trajectory]) -> tuple[float, float]:
    """y limits of the f − f* panel: from the smallest gap reached to the largest, but at most
    1e4 × the largest start gap, so a diverging run does not squash the others into a line."""
    starts = [t.gap[0] for t in trajectories if np.isfinite(t.gap[0]) and t.gap[0] > 0]
    gaps = np.concatenate([t.gap[np.isfinite(t.gap)] for t in trajectories] or [np.ones(1)])
    pos = gaps[gaps > 0]
    if not pos.size:
        return GAP_FLOOR, 1.0
    top = min(pos.max(), 1e4 * max(starts)) if starts else pos.max()
    bottom = max(pos.min(), GAP_FLOOR)
    return bottom / 3, max(top * 3, bottom * 10)


def _draw_gap(ax: Any, t: Trajectory, color: str, top: float | None, label: str) -> None:
    steps = np.arange(len(t.values))
    ok = np.isfinite(t.values)
    y = t.gap[ok]
    if t.f_star is not None:
        y = np.clip(y, GAP_FLOOR, top)
    ax.plot(steps[ok], y, color=color, lw=1.5, label=label)
    if t.diverged and ok.any():
        ax.plot(steps[ok][-1], y[-1], "X", color=color, ms=10, mec="black", mew=0.8, zorder=6)


def plot_trajectories(
    function: TestFunction | str,
    trajectories: Sequence[Trajectory],
    *,
    title: str | None = None,
    gap_panel: bool = True,
    levels: int = 25,
    labels: Sequence[str] | None = None,
    figsize: tuple[float, float] | None = None,
) -> Any:
    """Several optimizer paths on ONE contour plot, next to f − f* against steps (log y).

    The start is a black circle, each end point a square in the path's colour (an X when the
    run diverged), the known minima red stars; the legend carries each run's lr. Without a
    known f* (saddles) the right panel shows f on a symmetric-log scale.

    Args:
        function: the function the runs were made on (or its name).
        trajectories: the runs (``run_trajectory`` results), usually from the same start.
        title: figure title (default: the function's description).
        gap_panel: draw the right panel.
        levels: number of contour levels.
        labels: legend entries instead of the runs' own labels (name, lr, settings).

    Returns:
        a matplotlib Figure (save it with ``save_figure``).

    Example:
        >>> runs = [run_trajectory("ravine", o, steps=30, lr=0.3) for o in ("sgd", "adam")]
        >>> save_figure(plot_trajectories("ravine", runs), "ravine.png")
    """
    fn = _fn(function)
    fig = _figure(figsize or ((12.5, 5.2) if gap_panel else (7, 5.5)))
    axes = fig.subplots(1, 2, width_ratios=[1.25, 1]) if gap_panel else [fig.subplots()]
    names = list(labels) if labels is not None else [t.label for t in trajectories]
    if len(names) != len(trajectories):
        raise ValueError(
            f"plot_trajectories: got {len(names)} labels for {len(trajectories)} trajectories"
        )
    view = path_view(fn.domain, trajectories)
    ax = plot_surface(fn, axes[0], levels=levels, view=view)
    for i, t in enumerate(trajectories):
        _draw_path(ax, t, COLORS[i % len(COLORS)], view, names[i])
    starts = {tuple(t.points[0]) for t in trajectories}
    for s in starts:
        ax.plot(*s, "o", color="black", ms=9, mfc="white", mew=2, zorder=7,
                label="start" if s == next(iter(starts)) else None)  # fmt: skip
    ax.legend(loc="best", fontsize=8, framealpha=0.85)
    if gap_panel:
        from matplotlib.ticker import MaxNLocator

        gax = axes[1]
        limits = _gap_limits(trajectories) if fn.f_star is not None else (None, None)
        for i, t in enumerate(trajectories):
            _draw_gap(gax, t, COLORS[i % len(COLORS)], limits[1], names[i])
        if fn.f_star is not None:
            gax.set_yscale("log")
            gax.set_ylim(*limits)
        else:
            gax.set_yscale("symlog", linthresh=1e-2)
        gax.set_xlabel("step")
        gax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no "step 2.5" on short runs
        gax.set_ylabel("f − f*" if fn.f_star is not None else "f")
        gax.grid(True, which="major", alpha=0.3)
        gax.legend(loc="best", fontsize=8)
    fig.suptitle(title or fn.description)
    return fig


def plot_function_1d(
    function: Function1D | str,
    paths: Mapping[str, Sequence[float]] | None = None,
    *,
    separate: bool = False,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
) -> Any:
    """A 1-D function with gradient-descent iterates on it (d2l's ``show_trace``).

    Args:
        function: a ``Function1D`` or its name (``"square"``, ``"xcos"``).
        paths: label -> the iterates x_0, x_1, ... (drawn as connected dots on the curve).
        separate: one panel per path, each scaled to its own iterates (a diverging run
            would otherwise flatten the others).
    """
    fn = get_function_1d(function) if isinstance(function, str) else function
    items = list((paths or {}).items())
    groups = [[item] for item in items] if separate and items else [items]
    fig = _figure(figsize or (4.2 * len(groups) + 1.2, 4.2))
    axes = np.atleast_1d(fig.subplots(1, len(groups)))
    for k, (ax, group) in enumerate(zip(axes, groups, strict=True)):
        _draw_1d(ax, fn, group, first_color=k if separate else 0)
    if title:
        fig.suptitle(title)
    return fig


def _draw_1d(ax: Any, fn: Function1D, items: list, first_color: int = 0) -> None:
    lo, hi = fn.domain
    finite = [(label, np.asarray(xs, float)) for label, xs in items]
    finite = [(label, xs[np.isfinite(xs)]) for label, xs in finite]
    for _, xs in finite:
        lo, hi = min(lo, xs.min(initial=lo)), max(hi, xs.max(initial=hi))
    grid = np.linspace(lo, hi, 400)
    ax.plot(grid, fn.grid(grid), color="black", lw=1.2, label=fn.description)
    for i, (label, xs) in enumerate(finite):
        color = COLORS[(first_color + i) % len(COLORS)]
        ax.plot(xs, fn.grid(xs), "-o", color=color, ms=4, label=label)
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)


@dataclass
class Series:
    """One curve: a label, x and y, and optionally a spread band (lower, upper).

    For results over several seeds pass the median as ``y`` and e.g. the 25th/75th
    percentiles as ``lower``/``upper``.
    """

    label: str
    x: Sequence[float]
    y: Sequence[float]
    lower: Sequence[float] | None = None
    upper: Sequence[float] | None = None


def _finite(*arrays: np.ndarray) -> np.ndarray:
    ok = np.ones(len(arrays[0]), bool)
    for a in arrays:
        ok &= np.isfinite(a)
    return ok


def plot_loss_curves(
    series: Sequence[Series],
    *,
    xlabel: str = "epoch",
    ylabel: str = "loss",
    log: bool = True,
    title: str | None = None,
    ax: Any = None,
    figsize: tuple[float, float] = (7, 4.5),
) -> Any:
    """Loss (or accuracy) curves with optional median/spread bands.

    Args:
        series: the curves (``Series``); x may be epochs, samples seen or wall time.
        xlabel, ylabel: axis labels.
        log: log-scale y axis (non-positive values are dropped from the drawing).
        ax: draw into this Axes instead of a new figure (returns its figure).

    Returns:
        the Figure.

    Example:
        >>> med, lo, hi = np.percentile(losses, [50, 25, 75], axis=0)  # losses: (seeds, epochs)
        >>> fig = plot_loss_curves([Series("adam", range(1, 11), med, lo, hi)])
    """
    if ax is None:
        fig = _figure(figsize)
        ax = fig.subplots()
    else:
        fig = ax.figure
    for i, s in enumerate(series):
        color = COLORS[i % len(COLORS)]
        x, y = np.asarray(s.x, float), np.asarray(s.y, float)
        ok = _finite(x, y) & ((y > 0) if log else True)
        ax.plot(x[ok], y[ok], color=color, lw=1.5, label=s.label)
        if s.lower is not None and s.upper is not None:
            lo, hi = np.asarray(s.lower, float), np.asarray(s.upper, float)
            band = _finite(x, lo, hi) & ((lo > 0) if log else True)
            ax.fill_between(x[band], lo[band], hi[band], color=color, alpha=0.2, lw=0)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="major", alpha=0.3)
    if series:
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def plot_schedules(
    schedules: Mapping[str, Callable[[int], float] | Sequence[float]],
    steps: int = 100,
    *,
    log: bool = False,
    title: str = "learning-rate schedules",
    figsize: tuple[float, float] = (7, 4.5),
) -> Any:
    """Learning rate against step for schedules (``step -> lr`` functions, or lr sequences).

    Example:
        >>> from gdlab.optim import schedules
        >>> fig = plot_schedules({"cosine": schedules.cosine(0.1, t_max=100)}, steps=100)
    """
    fig = _figure(figsize)
    ax = fig.subplots()
    for i, (label, sched) in enumerate(schedules.items()):
        if callable(sched):
            t = np.arange(steps + 1)
            lr = np.array([float(sched(int(k))) for k in t])
        else:
            lr = np.asarray(sched, float)
            t = np.arange(len(lr))
        ax.plot(t, lr, color=COLORS[i % len(COLORS)], lw=1.6, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title)
    return fig


def smooth_ema(values: Sequence[float], weight: float = 0.9, log: bool = True) -> np.ndarray:
    """TensorBoard's smoothing: a debiased exponential moving average of ``values``.

    s_t = w·s_{t−1} + (1 − w)·y_t, shown as s_t / (1 − w^k) after k finite values (so the
    curve starts at the first value, not at 0). With ``log`` the average is taken over
    log(y) (a geometric mean: right for norms on a log axis). Non-finite values (and, with
    ``log``, non-positive ones) are skipped and come out as NaN.

    Example:
        >>> smooth_ema([1.0, 100.0], weight=0.5).round(3).tolist()   # 10^(2·0.5/0.75)
        [1.0, 21.544]
    """
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smooth_ema: weight must be in [0, 1), got {weight}")
    y = np.asarray(values, dtype=float)
    out = np.full(y.shape, np.nan)
    acc, k = 0.0, 0
    for i, v in enumerate(y):
        if not np.isfinite(v) or (log and v <= 0):
            continue
        acc = weight * acc + (1.0 - weight) * (np.log(v) if log else v)
        k += 1
        mean = acc / (1.0 - weight**k)
        out[i] = np.exp(mean) if log else mean
    return out


def plot_grad_norms(
    norms: Mapping[str, Sequence[float]],
    x: Sequence[float] | None = None,
    *,
    xlabel: str = "step",
    log: bool = True,
    smoothing: float = 0.9,
    title: str = "gradient norm per layer",
    figsize: tuple[float, float] = (7, 4.5),
) -> Any:
    """Gradient-norm curves per layer (name -> series): vanishing and exploding gradients show
    as curves sliding down or up the log axis.

    Per-step norms are noisy (each batch differs), so each layer is drawn smoothed
    (:func:`smooth_ema` with weight ``smoothing``; 0 draws the raw values only) over its raw
    values, drawn faint in the same colour behind it.

    Example:
        >>> fig = plot_grad_norms({"0.weight": [1e-3, 8e-4], "2.weight": [0.5, 0.4]})
    """
    xs = {
        name: np.arange(len(v)) if x is None else np.asarray(x, float) for name, v in norms.items()
    }
    fig = _figure(figsize)
    ax = fig.subplots()
    if smoothing:
        for i, (name, v) in enumerate(norms.items()):
            y = np.asarray(v, float)
            ok = _finite(xs[name], y) & ((y > 0) if log else True)
            ax.plot(xs[name][ok], y[ok], color=COLORS[i % len(COLORS)], lw=0.7, alpha=0.25)
    series = [
        Series(name, xs[name], smooth_ema(v, smoothing, log) if smoothing else v)
        for name, v in norms.items()
    ]
    return plot_loss_curves(series, xlabel=xlabel, ylabel="‖∇‖ (L2 norm)", log=log,
                            title=title, ax=ax)  # fmt: skip


def plot_activation_stats(
    panels: Mapping[str, Mapping[str, Sequence[float]]],
    x: Sequence[float] | None = None,
    *,
    xlabel: str = "step",
    smoothing: float = 0.9,
    title: str = "activations per layer",
    figsize: tuple[float, float] = (13, 4.2),
) -> Any:
    """One panel per statistic (title -> {layer -> per-step values}), side by side: e.g. the
    activations' mean, std and fraction of dead ReLUs or saturated tanh units. Each layer is
    drawn smoothed (:func:`smooth_ema`) over its raw values, faint behind it.

    Example:
        >>> fig = plot_activation_stats({"mean": {"1": [0.2, 0.3]}, "std": {"1": [1.0, 0.9]}})
    """
    fig = _figure(figsize)
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    for ax, (label, layers) in zip(axes, panels.items(), strict=True):
        for i, v in enumerate(layers.values()):
            xs = np.arange(len(v)) if x is None else np.asarray(x, float)
            y = np.asarray(v, float)
            ok = _finite(xs, y)
            ax.plot(xs[ok], y[ok], color=COLORS[i % len(COLORS)], lw=0.7, alpha=0.25)
        series = [
            Series(name, np.arange(len(v)) if x is None else x,
                   smooth_ema(v, smoothing, False) if smoothing else v)
            for name, v in layers.items()
        ]  # fmt: skip
        plot_loss_curves(series, xlabel=xlabel, ylabel=label, log=False, title=label, ax=ax)
    fig.suptitle(title)
    return fig
