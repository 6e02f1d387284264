"""The learning-rate range test (Smith; fastai's ``lr_find``): sweep the lr, watch the loss.

Train for ``num_iter`` mini-batches while the learning rate grows exponentially from
``start_lr`` to ``end_lr``:

    lr_i = start_lr · (end_lr / start_lr)^(i / (num_iter − 1)),     i = 0 … num_iter − 1

record the loss, smooth it with a bias-corrected exponential moving average

    a_i = β·a_{i−1} + (1 − β)·loss_i,     smoothed_i = a_i / (1 − β^(i+1))      (a_{−1} = 0)

and stop as soon as the smoothed loss exceeds ``diverge_th`` × the best smoothed loss so far,
or a loss is NaN/inf. Three suggestions are read off the curve:

- ``lr_steepest``: where the smoothed loss falls fastest against log lr (the most negative
  slope), fastai's "steep";
- ``lr_min_div10``: the lr of the lowest smoothed loss divided by 10, fastai's "minimum"
  (the minimum itself is already too large; a tenth of it is a safe choice);
- ``lr_valley``: fastai's default, "valley" (ESRI's rule): in the longest decreasing run of
  the smoothed loss (a longest strictly decreasing subsequence, not necessarily contiguous),
  the point about 2/3 of the way from its start to its end, where the loss still falls
  steadily but well before the minimum.

The model and the optimizer are restored to their state before the test (parameters,
optimizer state and every group's lr), even when the test is interrupted: it only looks.

Defaults follow fastai (start 1e-7, end 10, 100 iterations, β = 0.98, stop at 4× the best).
The sweep ends exactly at ``end_lr`` as in ``torch-lr-finder`` (fastai stops one step short).

References:
    Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017,
    https://arxiv.org/abs/1506.01186; fastai ``LRFinder``; davidtvs/pytorch-lr-finder.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdlab.lab.config import Threads, option, positive_float, positive_int, seed_option
from gdlab.lab.optimizers import command_optimizer_names, make_optimizer, tunes_lr
from gdlab.lab.output.report import Report
from gdlab.lab.output.rundir import RunDir
from gdlab.lab.tasks import (
    activation_option,
    batch_size_option,
    build_mlp,
    csv_options,
    dataset_option,
    hidden_option,
    load_task,
    make_loader,
)

__all__ = [
    "LRFinderResult",
    "LrFindConfig",
    "lr_range_test",
    "plot_lr_finder",
    "run_lr_find",
    "suggest_lrs",
    "valley_lr",
]


@dataclass
class LRFinderResult:
    """The sweep: learning rates, raw and smoothed losses, and the three suggestions."""

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    lr_steepest: float | None
    lr_min_div10: float | None
    stop_reason: str
    lr_valley: float | None = None

    @property
    def best_loss(self) -> float:
        """The lowest smoothed loss seen."""
        finite = self.smoothed[np.isfinite(self.smoothed)]
        return float(finite.min()) if finite.size else math.nan

    def rows(self) -> list[dict[str, Any]]:
        """One dict per iteration (for a metrics file)."""
        return [
            {"iteration": i, "lr": float(lr), "loss": float(lo), "smoothed_loss": float(s)}
            for i, (lr, lo, s) in enumerate(zip(self.lrs, self.losses, self.smoothed, strict=True))
        ]


def _lr_at(i: int, start_lr: float, end_lr: float, num_iter: int, step_mode: str) -> float:
    frac = i / (num_iter - 1) if num_iter > 1 else 1.0
    if step_mode == "exp":
        return start_lr * (end_lr / start_lr) ** frac
    return start_lr + (end_lr - start_lr) * frac


def _validate(start_lr: float, end_lr: float, num_iter: int, step_mode: str, beta: float) -> None:
    if not (0.0 < start_lr < end_lr) or not math.isfinite(end_lr):
        raise ValueError(
            f"lr_range_test: need 0 < start_lr < end_lr < inf, got start_lr={start_lr}, "
            f"end_lr={end_lr}"
        )
    if isinstance(num_iter, bool) or not isinstance(num_iter, int) or num_iter < 2:
        raise ValueError(f"lr_range_test: num_iter must be an int >= 2, got {num_iter!r}")
    if step_mode not in ("exp", "linear"):
        raise ValueError(f"lr_range_test: step_mode must be 'exp' or 'linear', got {step_mode!r}")
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"lr_range_test: beta must be in [0, 1), got {beta}")


def _batches(data: Iterable[Any]) -> Iterable[Any]:
    """Cycle through a re-iterable loader; a one-shot iterator is used once."""
    while True:
        it = iter(data)
        empty = True
        for batch in it:
            empty = False
            yield batch
        if empty or it is data:
            return


def _set_lr(optimizer: Any, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def suggest_lrs(lrs: np.ndarray, smoothed: np.ndarray) -> tuple[float | None, float | None]:
    """(lr of the steepest descent of the smoothed loss against log lr, lr at the minimum / 10).

    Only finite points count; fewer than two of them give ``(None, None)``.
    """
    ok = np.isfinite(smoothed)
    lrs, smoothed = np.asarray(lrs)[ok], np.asarray(smoothed)[ok]
    if lrs.size < 2:
        return None, None
    slopes = np.diff(smoothed) / np.diff(np.log(lrs))
    steep = float(lrs[int(np.argmin(slopes))])
    return steep, float(lrs[int(np.argmin(smoothed))]) / 10.0


def _closure(model: Any, loss_fn: Any, optimizer: Any, x: Any, y: Any) -> Callable[[], Any]:
    def closure() -> Any:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss

    return closure


def valley_lr(lrs: np.ndarray, smoothed: np.ndarray) -> float | None:
    """fastai's "valley" suggestion: the lr 2/3 of the way into the longest valley.

    ``length[i]`` is the length of the longest strictly decreasing subsequence of the losses
    ending at point i (``length[i] = 1 + max length[j]`` over ``j < i`` with
    ``loss[i] < loss[j]``); the valley ends at the first point of the greatest length,
    ``end``, and starts at ``start = end − length[end]`` (fastai's bookkeeping, one point before
    the subsequence's first when it starts at a point of its own); with
    ``third = (end − start) / 3`` the suggestion is the lr at ``start + ⌊third⌋ + ⌊third / 2⌋``.
    Only finite points count; none gives ``None``. A curve that never falls gives the first lr
    (fastai's index −1 would pick the last, the largest).

    Example:
        >>> valley_lr(np.array([1e-4, 1e-3, 1e-2, 1e-1]), np.array([3.0, 2.0, 1.0, 5.0]))
        0.0001
    """
    ok = np.isfinite(smoothed)
    lrs, losses = np.asarray(lrs)[ok], np.asarray(smoothed)[ok]
    if lrs.size == 0:
        return None
    length = np.ones(len(losses), dtype=int)
    for i in range(1, len(losses)):
        higher = losses[:i] > losses[i]
        if higher.any():
            length[i] = 1 + int(length[:i][higher].max())
    end = int(np.argmax(length))  # the first point of the greatest length
    start = end - int(length[end])
    third = (end - start) / 3
    return float(lrs[max(0, start + int(third) + int(third / 2))])


def lr_range_test(
    model: Any,
    optimizer: Any,
    loss_fn: Callable[[Any, Any], Any],
    data: Iterable[Any],
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_iter: int = 100,
    step_mode: str = "exp",
    beta: float = 0.98,
    diverge_th: float = 4.0,
) -> LRFinderResult:
    """Run the LR range test and restore ``model`` and ``optimizer`` afterwards.

    Args:
        model: a module (``model(x)``, ``state_dict()``, ``load_state_dict()``).
        optimizer: a torch-shaped optimizer; every group's lr is driven by the sweep.
        loss_fn: ``loss_fn(model(x), y)`` returns a scalar Tensor.
        data: batches ``(x, y)``; a DataLoader is cycled until ``num_iter`` steps are done.
        start_lr, end_lr, num_iter, step_mode: the sweep (``"exp"`` or ``"linear"``).
        beta: smoothing factor of the moving average.
        diverge_th: stop when the smoothed loss exceeds this multiple of the best.

    Example:
        >>> res = lr_range_test(model, optim.SGD(model.parameters(), lr=0.1),
        ...                     nn.CrossEntropyLoss(), loader, num_iter=50)
        >>> res.lr_steepest, res.lr_min_div10
    """
    _validate(start_lr, end_lr, num_iter, step_mode, beta)
    saved_model = copy.deepcopy(model.state_dict())
    saved_opt = copy.deepcopy(optimizer.state_dict())
    lrs: list[float] = []
    losses: list[float] = []
    smoothed: list[float] = []
    reason = "completed"
    try:
        avg, best = 0.0, math.inf
        batches = _batches(data)
        for i in range(num_iter):
            batch = next(batches, None)
            if batch is None:
                reason = "data exhausted"
                break
            lr = _lr_at(i, start_lr, end_lr, num_iter, step_mode)
            _set_lr(optimizer, lr)
            x, y = batch
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            value = float(loss.item())
            lrs.append(lr)
            losses.append(value)
            if not math.isfinite(value):
                smoothed.append(math.nan)
                reason = f"loss is {value} at lr {lr:.3g}"
                break
            avg = beta * avg + (1.0 - beta) * value
            s = avg / (1.0 - beta ** (i + 1))
            smoothed.append(s)
            best = min(best, s)
            if s > diverge_th * best:
                reason = f"smoothed loss > {diverge_th:g}x best at lr {lr:.3g}"
                break
            loss.backward()
            if getattr(optimizer, "requires_closure", False):  # SAM (L-BFGS), at this batch
                optimizer.step(_closure(model, loss_fn, optimizer, x, y))
            else:
                optimizer.step()
    finally:
        optimizer.zero_grad()
        model.load_state_dict(saved_model)
        optimizer.load_state_dict(saved_opt)
    lrs_a, smoothed_a = np.asarray(lrs, dtype=np.float64), np.asarray(smoothed, dtype=np.float64)
    # The point that triggered the stop is past the useful range: leave it out of the advice.
    keep = len(lrs) - (1 if reason.startswith(("smoothed", "loss is")) else 0)
    # As fastai: ignore the first tenth (the average is still settling) and the last 5 points.
    lo, hi = len(lrs) // 10, keep - 5
    lo, hi = (lo, hi) if hi - lo >= 3 else (0, keep)
    steep, low = suggest_lrs(lrs_a[lo:hi], smoothed_a[lo:hi])
    valley = valley_lr(lrs_a[lo:hi], smoothed_a[lo:hi])
    return LRFinderResult(
        lrs_a, np.asarray(losses, dtype=np.float64), smoothed_a, steep, low, reason, valley
    )


def plot_lr_finder(result: LRFinderResult, title: str = "Learning-rate range test") -> Any:
    """Loss against lr (log axis): raw loss faint, smoothed loss bold, suggestions marked."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(result.lrs, result.losses, color="0.7", lw=1, label="loss")
    ax.plot(result.lrs, result.smoothed, color="C0", lw=2, label="smoothed loss")
    marks = [
        ("lr_valley", "valley", "C1", "D"),
        ("lr_steepest", "steepest", "C3", "o"),
        ("lr_min_div10", "min / 10", "C2", "s"),
    ]
    for attr, name, color, marker in marks:
        lr = getattr(result, attr)
        if lr is None:
            continue
        y = float(np.interp(np.log(lr), np.log(result.lrs), result.smoothed))
        ax.plot([lr], [y], marker=marker, color=color, ms=9, ls="none", label=f"{name}: {lr:.2g}")
    ax.set_xscale("log")
    finite = result.smoothed[np.isfinite(result.smoothed)]
    raw = result.losses[np.isfinite(result.losses)]
    if finite.size:
        lo, hi = float(min(finite.min(), raw.min())), float(finite.max())
        top = min(hi, 2 * float(finite[0]), 4 * float(finite.min()))
        pad = 0.05 * (top - lo or abs(top) or 1.0)
        ax.set_ylim(lo - pad, top + pad)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def _swept_optimizers() -> list[str]:
    """The optimizers with a learning rate to sweep (not L-BFGS, whose line search sets it)."""
    return [n for n in command_optimizer_names() if tunes_lr(n)]


@dataclass
class LrFindConfig(Threads):
    """The settings of ``gdlab lr-find``: the MLP, its data, the optimizer and the sweep."""

    dataset: str = dataset_option()
    target_column: str | None = csv_options()[0]
    csv_header: str = csv_options()[1]
    hidden: list[int] = hidden_option()
    activation: str = activation_option()
    batch_size: int = batch_size_option()
    optimizer: str = option("sgd", "--optimizer", choices=_swept_optimizers,
                            metavar="NAME", help="one of: {choices}")  # fmt: skip
    start_lr: float = option(1e-7, "--start-lr", type=positive_float)
    end_lr: float = option(10.0, "--end-lr", type=positive_float)
    num_iter: int = option(100, "--num-iter", type=positive_int)
    seed: int = seed_option()

    def problem(self) -> str | None:
        """What is wrong between the arguments (a usage error), or None."""
        if not self.start_lr < self.end_lr:
            return (
                f"lr-find: --start-lr ({self.start_lr:g}) must be smaller than --end-lr "
                f"({self.end_lr:g})"
            )
        return None

    def settings(self) -> dict[str, Any]:
        """The fields and the fixed smoothing and stopping constants (config.toml)."""
        return dataclasses.asdict(self) | {"beta": 0.98, "diverge_th": 4.0}


def run_lr_find(config: LrFindConfig, run_dir: RunDir) -> dict[str, Any]:
    """``gdlab lr-find``: the range test on an MLP for ``config.dataset``, into ``run_dir``."""
    c = config
    task = load_task(c.dataset, seed=c.seed, target_column=c.target_column, csv_header=c.csv_header)
    model = build_mlp(
        task.n_features, c.hidden, task.n_outputs, activation=c.activation, seed=c.seed
    )
    opt, _, _ = make_optimizer(c.optimizer, list(model.parameters()), lr=c.start_lr)
    loader = make_loader(task.x_train, task.y_train, c.batch_size, seed=c.seed)
    res = lr_range_test(
        model, opt, task.loss(), loader, start_lr=c.start_lr, end_lr=c.end_lr, num_iter=c.num_iter
    )
    settings = c.settings()
    run_dir.write_config(settings)
    run_dir.write_metrics(res.rows())
    summary = {
        "lr_valley": res.lr_valley,
        "lr_steepest": res.lr_steepest,
        "lr_min_div10": res.lr_min_div10,
        "best_loss": res.best_loss,
        "iterations": len(res.lrs),
        "stop_reason": res.stop_reason,
    }
    run_dir.write_json("summary.json", summary | {"settings": settings})
    fig = plot_lr_finder(res, title=f"LR range test: {c.optimizer} on {c.dataset}")
    run_dir.save_figure(fig, "lr-find")
    rep = Report(
        f"Learning-rate range test: {c.optimizer} on {c.dataset}", seed=c.seed, settings=settings
    )
    rep.add_text(
        f"The lr grew exponentially from {c.start_lr:g} to {c.end_lr:g} over {c.num_iter} "
        f"mini-batches of {c.batch_size}; the loss is smoothed (EMA, beta 0.98, bias-corrected) "
        f"and the test stops at 4x the best smoothed loss. Stopped: {res.stop_reason}. The "
        "model and the optimizer were restored afterwards."
    )
    rep.add_table([summary], caption="Suggestions")
    rep.add_figure(fig, caption="Loss against learning rate")
    return summary | {"report": str(rep.save(run_dir))}
