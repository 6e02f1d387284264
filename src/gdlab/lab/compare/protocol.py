"""Compare optimizers and batch modes fairly: same model, same data, same tuning budget.

The protocol (``compare``):

1. Every *variant* (an optimizer at a batch mode: ``adam`` at mini-batch, plain SGD at the full
   batch, ...) gets the same budget of ``trials`` learning rates by the lab's one search
   protocol (``gdlab.lab.search``): a log-spaced grid over its family's documented range
   ``LR_RANGES`` (adaptive methods are searched lower than SGD, whose useful lrs are ~100x
   larger). Each trial trains ``tune_epochs`` epochs from the first seed and is scored by its
   final **validation** loss; a diverged trial scores +inf; ties go to the smaller lr.
2. At its best lr each variant is trained ``epochs`` epochs from ``seeds`` seeds (the seed
   fixes the initial weights and the shuffling; the data split is fixed by ``seed``).
3. Results: training and validation loss and accuracy at epoch 0 (the untrained model, step 0,
   0 samples, 0 s: the same point for every optimizer of a seed) and after every epoch, against
   epochs, samples seen and wall time (median over seeds with the 25-75% band); a table of
   final numbers, steps / samples / seconds to reach a validation-accuracy ``target`` (0 if
   the untrained model already reaches it), and divergences. A diverged run is kept and
   marked, never a crash.
4. With several data sets (tasks), Dolan-Moré performance profiles of samples-to-target.

Example:
    >>> res = compare("digits", optimizers=["sgd", "adam"], batch_modes=[], epochs=5)
    >>> [(v.label, v.lr) for v in res.variants]
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gdlab.lab.compare.config import CompareConfig
from gdlab.lab.compare.run import Run, Variant, make_variants
from gdlab.lab.compare.trials import spec_cost, task_of, trial_spec
from gdlab.lab.optimizers import DEFAULT_OPTIMIZERS, tunes_lr
from gdlab.lab.search import best_lr, lr_grid, trial_score
from gdlab.lab.sweeps import Executor, SweepProgress, TrialError, Trials, TrialSpec
from gdlab.lab.tasks import BATCH_MODES

__all__ = [
    "CompareResult",
    "Run",
    "Variant",
    "compare",
    "make_variants",
    "run_compare",
]

#: Hears of every trial finished: a message and the trial's expected cost
#: (``trials.trial_cost``), so a bar can advance by work done rather than by trials.
Progress = Callable[[str, float], None]


@dataclass
class CompareResult:
    """Everything ``compare`` measured; ``runs`` holds every final run of every variant."""

    datasets: list[str]
    variants: list[Variant]
    config: CompareConfig
    tuning: list[dict[str, Any]] = field(default_factory=list)
    best_lr: dict[tuple[str, str], float] = field(default_factory=dict)  # (dataset, label)
    runs: list[Run] = field(default_factory=list)
    interrupted: bool = False

    @property
    def settings(self) -> dict[str, Any]:
        """The settings as ``config.toml`` and the report show them."""
        return self.config.settings()

    def runs_of(self, dataset: str, label: str) -> list[Run]:
        return [r for r in self.runs if r.dataset == dataset and r.variant.label == label]


def _pairs(variants: Sequence[Variant]) -> dict[tuple[str, str], Variant]:
    """Each (optimizer, batch mode) once, with its first variant: ``sgd`` at mini-batch is
    also "MBGD (batch 32)", and is trained once."""
    out: dict[tuple[str, str], Variant] = {}
    for v in variants:
        out.setdefault((v.optimizer, v.batch_mode), v)
    return out


def _sweep(specs: list[TrialSpec], sweep: SweepContext) -> list[Run]:
    """Run ``specs`` (each once, finished ones reused) and return their runs in order;
    ``sweep.progress`` hears once of every trial finished (or found finished)."""

    def tick(p: SweepProgress) -> None:
        message = f"{p.done}/{p.total} trials, {p.running} running, {p.failed} failed"
        for spec in p.finished:
            sweep.progress(message, spec_cost(spec))

    trials = Trials(sweep.run_dir, sweep.executor, tick if sweep.progress else None)
    try:
        return [Run.from_json(r) for r in trials.map(specs)]
    except TrialError as e:
        raise RuntimeError(f"compare: {e}") from None


def _tune(
    dataset: str,
    pairs: dict[tuple[str, str], Variant],
    config: CompareConfig,
    result: CompareResult,
    sweep: SweepContext,
) -> dict[tuple[str, str], float]:
    """Each pair's best lr of ``config.trials`` by final validation loss (``lab.search``); an
    optimizer whose lr is not tuned (L-BFGS) keeps its own, without trials."""
    grids = {key: [float(lr) for lr in lr_grid(v.optimizer, config.trials, v.batch_mode)]
             for key, v in pairs.items()}  # fmt: skip
    fixed = {key: grid[0] for key, grid in grids.items() if not tunes_lr(pairs[key].optimizer)}
    grids = {key: grid for key, grid in grids.items() if key not in fixed}
    specs = [trial_spec(config, dataset, pairs[key], lr, config.tune_epochs, config.seed)
             for key, grid in grids.items() for lr in grid]  # fmt: skip
    runs = iter(_sweep(specs, sweep))
    best = {}
    for key, grid in grids.items():
        scores = {}
        for lr in grid:
            run = next(runs)
            score = trial_score(run.final("val_loss"), run.diverged)
            result.tuning.append({"dataset": dataset, "variant": pairs[key].label, "lr": lr,
                                  "val_loss": score, "diverged": run.diverged})  # fmt: skip
            scores[lr] = (score,)
        best[key] = best_lr(scores)
    return best | fixed


def compare(
    datasets: str | Sequence[str] = "digits",
    *,
    optimizers: Sequence[str] = tuple(DEFAULT_OPTIMIZERS),
    batch_modes: Sequence[str] = tuple(BATCH_MODES),
    batch_optimizer: str = "sgd",
    model: str = "mlp",
    hidden: Sequence[int] = (32,),
    activation: str = "relu",
    batch_size: int = 32,
    epochs: int = 15,
    trials: int = 5,
    tune_epochs: int = 3,
    seeds: int = 3,
    lr: float | None = None,
    target: float | None = None,
    val_fraction: float = 0.2,
    seed: int = 0,
    progress: Progress | None = None,
) -> CompareResult:
    """Tune every variant with the same budget, then train it from ``seeds`` seeds.

    The arguments are ``CompareConfig``'s fields (``datasets`` may be one name);
    ``run_compare(config)`` is the same with the config built.

    On Ctrl-C the runs finished so far are returned with ``interrupted=True`` instead of
    raising; ``gdlab compare`` writes them and then exits with code 130.

    Example:
        >>> res = compare("iris", optimizers=["sgd", "adam"], batch_modes=[], epochs=5, seeds=2)
        >>> {v.label: res.best_lr[("iris", v.label)] for v in res.variants}
    """
    config = CompareConfig(
        datasets=[datasets] if isinstance(datasets, str) else list(datasets),
        optimizers=list(optimizers),
        batch_modes=list(batch_modes),
        batch_optimizer=batch_optimizer,
        model=model,
        hidden=list(hidden),
        activation=activation,
        batch_size=batch_size,
        epochs=epochs,
        trials=trials,
        tune_epochs=tune_epochs,
        seeds=seeds,
        lr=lr,
        target=target,
        val_fraction=val_fraction,
        seed=seed,
    )
    return run_compare(config, progress)


def run_compare(
    config: CompareConfig,
    progress: Progress | None = None,
    run_dir: str | Path | None = None,
    executor: Executor | None = None,
) -> CompareResult:
    """``compare`` with its settings as a ``CompareConfig`` (what ``gdlab compare`` calls).

    Every training run is a trial of a sweep (``gdlab.lab.sweeps``): it runs on ``executor``
    (default: the one ``config.executor`` names) and is written to ``run_dir/trials`` the
    moment it ends, so a rerun with the same ``run_dir`` skips the finished ones. Without a
    ``run_dir`` the trials live in a temporary directory.
    """
    if problem := config.problem():
        raise ValueError(problem)
    variants = make_variants(
        config.optimizers, config.batch_modes, config.batch_optimizer, config.batch_size
    )
    result = CompareResult(list(config.datasets), variants, config)
    with contextlib.ExitStack() as stack:
        if run_dir is None:
            run_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="gdlab-compare-"))
        if executor is None:
            executor = stack.enter_context(config.make_executor())
        sweep = SweepContext(Path(run_dir), executor, progress)
        try:
            _compare_all(result, config, sweep)
        except KeyboardInterrupt:
            result.interrupted = True
    return result


@dataclass(frozen=True)
class SweepContext:
    """Where a comparison's trials run and land, and who hears of each one finished."""

    run_dir: Path
    executor: Executor
    progress: Progress | None


def _compare_all(result: CompareResult, config: CompareConfig, sweep: SweepContext) -> None:
    for name in config.datasets:  # a missing file or a bad column fails here, not in a trial
        task_of(config, name)
    for name in config.datasets:
        pairs = _pairs(result.variants)
        if config.lr:  # for all but an optimizer whose lr is not tuned (its own, L-BFGS)
            best = {key: config.lr if tunes_lr(v.optimizer) else float(lr_grid(v.optimizer, 1)[0])
                    for key, v in pairs.items()}  # fmt: skip
        else:
            best = _tune(name, pairs, config, result, sweep)
        specs = {key: [trial_spec(config, name, v, best[key], config.epochs, config.seed + k)
                       for k in range(config.seeds)] for key, v in pairs.items()}  # fmt: skip
        runs = iter(_sweep([s for group in specs.values() for s in group], sweep))
        cache = {key: [next(runs) for _ in group] for key, group in specs.items()}
        for v in result.variants:
            key = (v.optimizer, v.batch_mode)
            result.best_lr[(name, v.label)] = best[key]
            result.runs.extend(_relabel(r, v) for r in cache[key])


def _relabel(run: Run, v: Variant) -> Run:
    """The same run under another variant's label (``sgd`` at mini-batch is also "MBGD")."""
    return run if run.variant == v else dataclasses.replace(run, variant=v)
