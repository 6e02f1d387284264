"""``gdlab train``: a run from a typed config (``lab.train_config``).

``train`` takes the resolved config (defaults < TOML file < ``--set``), builds the data, the
MLP, the optimizer and an optional schedule, and runs ``gdlab.train.fit`` with checkpoints in
``<run>/checkpoints`` and per-layer gradient norms recorded. ``--resume`` continues a run from
its newest valid checkpoint (a run directory or a checkpoint directory), bit for bit.

Files: ``config.toml``, ``metrics.csv``/``.jsonl`` (per epoch), ``steps.csv`` (per step: loss,
lr, gradient norms), ``timing.csv``, ``history.json`` and ``checkpoints/`` (from the trainer),
``summary.json``, ``curves.png``, ``grad-norms.png`` and ``activations.png`` (+ SVGs; per-layer
gradient norms and activation statistics, recorded through hooks by ``train.LayerStats``),
``report.html``. The metrics
files are rewritten (atomically) at the end of every epoch, so a run can be watched as it goes.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gdlab import train
from gdlab.lab.config import ConfigError, check_arguments
from gdlab.lab.optimizers import (
    full_batch_only,
    get_optimizer_spec,
    make_optimizer,
    set_optimizer_mode,
)
from gdlab.lab.output.plots import (
    Series,
    plot_activation_stats,
    plot_grad_norms,
    plot_loss_curves,
)
from gdlab.lab.output.report import Report
from gdlab.lab.output.rundir import RunDir
from gdlab.lab.tasks import Task, build_model, evaluate, load_task, make_loader
from gdlab.lab.train_config import TrainConfig
from gdlab.optim import lr_scheduler, schedules
from gdlab.train.layer_stats import SATURATION

__all__ = [
    "Terminated",
    "build_schedule",
    "config_for_resume",
    "run_train",
    "schedule_length_defaults",
    "train_from_config",
]


#: Arguments that set a schedule's length; default to the run's length (epochs, or steps).
LENGTH_ARGS = ("t_max", "total_steps")
#: one_cycle (torch's OneCycleLR) ends at step total_steps − 1; the others at the length itself.
_LENGTH_PAST_LAST_STEP = {"one_cycle": 1}


def schedule_length_defaults(name: str, fn: Any, length: int) -> dict[str, int]:
    """``{"t_max": length}`` or ``{"total_steps": ...}`` for the length arguments ``fn`` takes,
    so that the schedule ends exactly at the last step (``length``) of the run."""
    params = inspect.signature(fn).parameters
    extra = _LENGTH_PAST_LAST_STEP.get(name, 0)
    return {key: length + extra for key in LENGTH_ARGS if key in params}


def build_schedule(config: TrainConfig, optimizer: Any) -> Any:
    """An epoch-wise ``LambdaLR`` following ``optim.schedules.<name>(lr, **params)``, or None.

    ``t_max``/``total_steps`` default to ``train.epochs``; another missing argument is a
    ``ConfigError`` naming the ``schedule.<key>`` to set.
    """
    params = dict(config.schedule.options)
    name = config.schedule.name
    if name == "constant":
        return None
    if name not in schedules.__all__ or not name.islower():
        valid = ", ".join(repr(n) for n in schedules.__all__ if n.islower())
        raise ValueError(f"invalid schedule {name!r} (choose from {valid})")
    lr = float(config.optimizer.lr)
    make = getattr(schedules, name)
    params = schedule_length_defaults(name, make, int(config.train.epochs)) | params
    check_arguments(make, params, "schedule", [lr])
    fn = make(lr, **params)
    # LambdaLR multiplies the initial lr: with lr 0 every schedule's lr is 0 (no 0/0).
    return lr_scheduler.LambdaLR(optimizer, lambda epoch: fn(epoch) / lr if lr else 0.0)


def _setup(config: TrainConfig) -> tuple[Any, ...]:
    seed, data = int(config.seed), config.data
    task = load_task(
        data.name, seed=seed, val_fraction=data.val_fraction, standardize=data.standardize
    )
    m = config.model
    model = build_model(m.kind, task, m.hidden, activation=m.activation, seed=seed)
    # TOML arrays -> tuples (betas, etas)
    options = {
        k: tuple(v) if isinstance(v, list) else v for k, v in config.optimizer.options.items()
    }
    spec = get_optimizer_spec(config.optimizer.name)
    check_arguments(
        spec.cls, spec.defaults | options, "optimizer", [[]], {"lr": config.optimizer.lr}
    )
    optimizer, _, _ = make_optimizer(
        config.optimizer.name, list(model.parameters()), lr=config.optimizer.lr, **options
    )
    if full_batch_only(config.optimizer.name) and data.batch_size:
        raise ConfigError(
            f"optimizer {config.optimizer.name!r} trains on the full batch (its line search "
            f"compares losses across steps): set data.batch_size = 0, not {data.batch_size}"
        )
    bs = data.batch_size or None  # 0 = the full batch
    loader = make_loader(task.x_train, task.y_train, bs, seed=seed)
    val_loader = make_loader(task.x_val, task.y_val, None, shuffle=False)
    return task, model, optimizer, loader, val_loader


class _LiveFiles(train.Callback):
    """Rewrites the metrics files (atomically) at the end of every epoch, so a run can be
    watched (``tail metrics.csv``, a spreadsheet) while it goes, not only at its end."""

    def __init__(self, run_dir: RunDir, metric: str) -> None:
        self.run_dir, self.metric = run_dir, metric

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        _write_history(self.run_dir, self.trainer.history, self.metric)


def train_from_config(
    config: TrainConfig,
    run_dir: RunDir | Path,
    resume: Any = None,
    progress: bool = False,
    *,
    lines: bool = False,
    tensorboard: str | Path | None = None,
) -> tuple[Any, Any, str | None]:
    """Train as ``config`` says; returns (trainer, task, divergence message or None).

    ``progress`` draws a bar over epochs, ``lines`` writes one line per epoch on stderr
    (:class:`~gdlab.train.EpochProgress`); ``tensorboard`` is a directory for TensorBoard's
    event files (:class:`~gdlab.train.TensorBoardLogger`). Given a ``RunDir``, the metrics
    files are rewritten at the end of every epoch.
    """
    task, model, optimizer, loader, val_loader = _setup(config)
    clip = float(config.train.grad_clip_norm) or None
    every_steps = int(config.train.checkpoint_every_steps) or None
    stop = train.GracefulStop()  # SIGTERM: finish the step, checkpoint, report "terminated"
    callbacks = [
        train.LayerStats(),  # per-layer gradient norms and activations, through hooks
        train.GradientHealth(record=False),  # its warnings; the norms are LayerStats'
        stop,
        train.Checkpoint(
            every_n_epochs=int(config.train.checkpoint_every), every_n_steps=every_steps
        ),
    ]
    if isinstance(run_dir, RunDir):
        callbacks.append(_LiveFiles(run_dir, task.metric))
    if tensorboard is not None:
        callbacks.append(train.TensorBoardLogger(tensorboard))
    if progress or lines:
        callbacks.append(train.EpochProgress(disable=None if progress else True, lines=lines))
    run_path = run_dir.path if isinstance(run_dir, RunDir) else Path(run_dir)
    trainer = train.Trainer(
        model,
        task.loss(),
        optimizer,
        loader,
        val_loader=val_loader,
        metrics=[task.metric],
        scheduler=build_schedule(config, optimizer),
        callbacks=callbacks,
        grad_clip_norm=clip,
        run_dir=run_path,
        config=config.to_dict(),  # in every checkpoint: a resume is checked against it
    )
    try:
        trainer.fit(int(config.train.epochs), resume=resume)
    except train.DivergenceError as exc:
        return trainer, task, str(exc)
    except KeyboardInterrupt:
        return trainer, task, "interrupted"
    if stop.received is not None:
        return trainer, task, "terminated"
    return trainer, task, None


def _write_outputs(
    run_dir: RunDir,
    config: TrainConfig,
    trainer: Any,
    task: Task,
    diverged: str | None,
    interrupted: bool = False,
    command: str = "gdlab train",
) -> dict[str, Any]:
    h = trainer.history
    rows = _write_history(run_dir, h, task.metric)
    test = None
    if task.x_test is not None and not diverged:
        set_optimizer_mode(trainer.optimizer, train=False)  # schedule-free: the model at x
        test = evaluate(trainer.model, trainer.loss_fn, task.x_test, task.y_test, task)
    summary = {
        "final": rows[-1] if rows else {},
        "test_loss": test and test[0],
        f"test_{task.metric}": test and test[1],
        "steps": h.num_steps,
        "diverged": diverged,
        "interrupted": interrupted,
    }
    run_dir.write_json("summary.json", summary)
    rep = Report(
        f"Training run: {config.optimizer.name} on {task.name}",
        subtitle=command,
        seed=config.seed,
        settings=config.to_dict(),
    )
    if test is not None:
        rep.add_text(
            f"{h.num_steps} steps. On the held-out test split, evaluated once at the end: "
            f"loss {test[0]:.4g}, {task.metric} {test[1]:.4g}."
        )
    if diverged:
        rep.add_text(f"Diverged: {diverged}")
    if interrupted:
        rep.add_text(
            "Interrupted (Ctrl-C or SIGTERM): what was finished so far; resume with --resume."
        )
    for fig, stem, caption in _figures(rows, trainer, task, _run_title(config, task)):
        run_dir.save_figure(fig, stem)
        rep.add_figure(fig, caption=caption)
    rep.add_table(rows, caption="Per epoch")  # after the figures: the picture first
    return summary | {"report": str(rep.save(run_dir))}


def _write_history(run_dir: Any, h: Any, metric: str) -> list[dict[str, Any]]:
    """metrics.csv/.jsonl (per epoch, numbered from 1), steps.csv and timing.csv; returns
    the per-epoch rows."""
    ep = {k: v for k, v in h.epochs.items() if k != "wall_time"}
    n = len(ep.get("epoch", []))
    first = ["epoch", "loss", metric, "val_loss", f"val_{metric}", "lr"]
    order = [k for k in first if k in ep] + sorted(k for k in ep if k not in first)
    rows = [{k: ep[k][i] for k in order} | {"epoch": ep["epoch"][i] + 1} for i in range(n)]
    steps = [{k: v[i] for k, v in h.steps.items() if k != "wall_time"} for i in range(h.num_steps)]
    run_dir.write_metrics(rows)
    run_dir.write_csv("steps.csv", steps)
    times = zip(h.steps.get("step", []), h.steps.get("wall_time", []), strict=False)
    run_dir.write_csv("timing.csv", [{"step": s, "wall_time": t} for s, t in times])
    return rows


def _figures(rows: list, trainer: Any, task: Any, title: str) -> Iterator[tuple[Any, str, str]]:
    """(figure, file stem, caption): the per-epoch curves and the per-layer gradient norms."""
    if rows:
        yield (
            _curves_figure(rows, task.metric, title),
            "curves",
            f"Training and validation loss and {task.metric} per epoch",
        )
    # Weights only, input layer first: vanishing gradients show as the lower curves.
    h = trainer.history
    names = [n for n, _ in trainer.model.named_parameters() if n.endswith("weight")]
    norms = {n: h.steps[f"grad_norm/{n}"] for n in names if f"grad_norm/{n}" in h.steps}
    if norms:
        clean = {k: [math.nan if x is None else x for x in v] for k, v in norms.items()}
        yield (
            plot_grad_norms(clean, title=f"gradient norm per layer ({title})"),
            "grad-norms",
            "Gradient norm of each layer's weights, per step (smoothed: an exponential moving "
            "average of weight 0.9, the raw values faint behind): curves far below the others "
            "(usually the layers near the input) are vanishing gradients, curves climbing "
            "steadily are exploding ones.",
        )
    panels = _activation_panels(h.steps)
    if panels:
        yield (
            plot_activation_stats(panels, title=f"activations per layer ({title})"),
            "activations",
            "Each activation layer's outputs per training step (recorded by forward hooks; "
            "smoothed as the gradient norms): their mean and standard deviation, and the "
            "fraction of dead ReLU units (zero for every sample of the batch) or of saturated "
            f"tanh/sigmoid outputs (|tanh| > {SATURATION}), where the "
            "gradient no longer passes.",
        )


def _activation_panels(steps: dict[str, list]) -> dict[str, dict[str, list]]:
    """The step records' ``act_<stat>/<layer>`` series, one panel per statistic."""
    labels = {"act_mean": "mean", "act_std": "std", "act_dead": "dead ReLU fraction",
              "act_saturated": "saturated fraction"}  # fmt: skip
    panels: dict[str, dict[str, list]] = {}
    for key, values in steps.items():
        stat, _, layer = key.partition("/")
        if stat in labels and layer:
            clean = [math.nan if v is None else v for v in values]
            panels.setdefault(labels[stat], {})[f"layer {layer}"] = clean
    return panels


def _run_title(config: TrainConfig, task: Task) -> str:
    opt = config.optimizer
    return f"{task.name}: {opt.name}, lr {opt.lr:g}, batch {config.data.batch_size}"


def _curves_figure(rows: list[dict[str, Any]], metric: str, title: str) -> Any:
    """Loss (log axis) and ``metric`` against epochs, training and validation side by side."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(11, 4.2), layout="constrained")
    x = [r["epoch"] for r in rows]
    for ax, key, log in zip(fig.subplots(1, 2), ("loss", metric), (True, False), strict=True):
        series = [
            Series(name, x, [math.nan if r.get(k) is None else r[k] for r in rows])
            for name, k in (("training", key), ("validation", f"val_{key}"))
        ]
        plot_loss_curves(series, ax=ax, xlabel="epoch", ylabel=key, log=log)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(title)
    return fig


def config_for_resume(resume: str) -> Path | None:
    """The ``config.toml`` of the run that ``resume`` (a run or checkpoint path) belongs to."""
    p = Path(resume)
    for cand in (p / "config.toml", p.parent / "config.toml", p.parent.parent / "config.toml"):
        if cand.is_file():
            return cand
    return None


def run_train(
    config: TrainConfig,
    run_dir: RunDir,
    *,
    resume: str | None = None,
    progress: bool = False,
    lines: bool = False,
    tensorboard: str | Path | None = None,
    command: str = "gdlab train",
) -> dict[str, Any]:
    """Train as ``config`` says into ``run_dir``; returns the
    summary (``diverged`` is None or the message) with ``report``. A Ctrl-C writes what was done
    (``--resume`` continues from a checkpoint) and raises ``KeyboardInterrupt``. ``progress``,
    ``lines`` and ``tensorboard`` as :func:`train_from_config`."""
    run_dir.write_config(config.to_dict())
    trainer, task, diverged = train_from_config(
        config, run_dir, resume, progress, lines=lines, tensorboard=tensorboard
    )
    if diverged == "interrupted":
        _write_outputs(run_dir, config, trainer, task, None, True, command)
        raise KeyboardInterrupt
    if diverged == "terminated":
        _write_outputs(run_dir, config, trainer, task, None, True, command)
        raise Terminated(f"terminated (SIGTERM) after step {trainer.global_step}")
    return _write_outputs(run_dir, config, trainer, task, diverged, command=command)


class Terminated(KeyboardInterrupt):
    """The run stopped on SIGTERM after writing what was finished; exit code 143 (128 + 15)."""

    exit_code = 143
