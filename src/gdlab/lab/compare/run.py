"""One training run of a comparison: the variant, the model, the data, and what it recorded."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gdlab import train
from gdlab.lab.compare.config import CompareConfig
from gdlab.lab.optimizers import full_batch_only, make_optimizer, set_optimizer_mode, tunes_lr
from gdlab.lab.tasks import Task, batch_size_for, build_model, evaluate, make_loader
from gdlab.optim import lr_scheduler

__all__ = ["DIVERGED_LOSS_FACTOR", "Run", "Variant", "make_variants", "train_run"]

#: A run whose validation loss exceeds this multiple of the untrained model's has diverged,
#: even while the numbers stay finite (a loss of 5e12 is a blow-up, not a result).
DIVERGED_LOSS_FACTOR = 100.0


@dataclass(frozen=True)
class Variant:
    """An optimizer at a batch mode; ``label`` names it in tables and legends."""

    label: str
    optimizer: str
    batch_mode: str  # "bgd" | "sgd" | "mbgd"
    group: str  # "optimizers" or "batch modes": which figure it belongs to


def make_variants(
    optimizers: Sequence[str], batch_modes: Sequence[str], batch_optimizer: str, batch_size: int
) -> list[Variant]:
    """The optimizers at mini-batch size (the full batch for one the registry marks
    ``full_batch``, L-BFGS), then ``batch_optimizer`` at each batch mode."""
    out = [Variant(o, o, "bgd" if full_batch_only(o) else "mbgd", "optimizers") for o in optimizers]
    names = {
        "bgd": "BGD (full batch)",
        "sgd": "SGD (batch 1)",
        "mbgd": f"MBGD (batch {batch_size})",
    }
    out += [Variant(names[m], batch_optimizer, m, "batch modes") for m in batch_modes]
    return out


@dataclass
class Run:
    """One training run: per-epoch records, per-step losses, and how it ended."""

    variant: Variant
    dataset: str
    lr: float
    seed: int
    # epoch (0 = before training), step, samples_seen, train/val loss and metric
    epochs: dict[str, list[Any]]
    wall_time: list[float]  # seconds at the end of each epoch (0.0 at epoch 0)
    step_loss: list[float] = field(default_factory=list)
    step_samples: list[int] = field(default_factory=list)
    test_metric: float = float("nan")
    diverged: bool = False
    diverged_at: int | None = None  # optimizer step at which it diverged

    def final(self, key: str) -> float:
        col = self.epochs.get(key) or [float("nan")]
        v = col[-1]
        return float("nan") if v is None else float(v)

    def to_target(self, metric: str, target: float) -> tuple[float, float, float]:
        """(steps, samples, seconds) at the first epoch whose validation metric >= target."""
        for i, v in enumerate(self.epochs.get(f"val_{metric}", [])):
            if v is not None and v >= target:
                e = self.epochs
                return float(e["step"][i]), float(e["samples_seen"][i]), self.wall_time[i]
        return float("inf"), float("inf"), float("inf")

    def to_json(self) -> dict[str, Any]:
        """The run as JSON-ready data (what a sweep's trial file holds)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Run:
        return cls(**(data | {"variant": Variant(**data["variant"])}))


def train_run(
    task: Task,
    v: Variant,
    lr: float,
    seed: int,
    epochs: int,
    config: CompareConfig,
    tensorboard: str | None = None,
) -> Run:
    """Train one variant at one lr from one seed; divergence ends the run, marked. With
    ``tensorboard`` (a directory), the run's scalars are logged there for TensorBoard."""
    model = build_model(config.model, task, config.hidden, activation=config.activation, seed=seed)
    optimizer, _, _ = make_optimizer(v.optimizer, list(model.parameters()), lr=lr)
    bs = batch_size_for(v.batch_mode, config.batch_size)
    loader = make_loader(task.x_train, task.y_train, bs, seed=seed)
    val_loader = make_loader(task.x_val, task.y_val, None, shuffle=False)
    loss_fn = task.loss()
    callbacks = [train.TensorBoardLogger(tensorboard)] if tensorboard else []
    trainer = train.Trainer(
        model, loss_fn, optimizer, loader, val_loader=val_loader, metrics=[task.metric],
        scheduler=_scheduler(config, v, optimizer, lr, epochs), callbacks=callbacks,
    )  # fmt: skip
    # Epoch 0: the untrained model on the whole training set and on the validation set.
    train_eval = make_loader(task.x_train, task.y_train, None, shuffle=False)
    initial = {
        "train": trainer.evaluate(train_eval, [task.metric]),
        "val": trainer.evaluate(val_loader, [task.metric]),
    }
    diverged_at = None
    try:
        trainer.fit(epochs)
    except train.DivergenceError as exc:  # a result, not a crash: keep the epochs before it
        diverged_at = int(exc.step)
    set_optimizer_mode(optimizer, train=False)  # schedule-free: the test split is seen at x
    history = trainer.history
    run = _run_from_history(task, v, lr, seed, history, diverged_at, model, loss_fn)
    return _mark_blow_up(_in_original_units(_with_epoch_zero(run, initial, task.metric), task))


def _scheduler(config: CompareConfig, v: Variant, optimizer: Any, lr: float, epochs: int) -> Any:
    """The config's schedule from ``lr`` over ``epochs`` as an epoch-wise ``LambdaLR``; None
    without one, or for an optimizer whose lr is not a step size (L-BFGS' line search)."""
    fn = config.lr_schedule().at(lr, epochs)
    if fn is None or not tunes_lr(v.optimizer):
        return None
    return lr_scheduler.LambdaLR(optimizer, lambda epoch: fn(epoch) / lr)


def _in_original_units(run: Run, task: Task) -> Run:
    """Losses of standardised regression targets as the MSE in the data's units (the trained
    MSE times ``target_scale²``); R² and accuracy do not change."""
    factor = task.target_scale**2
    if factor == 1.0:
        return run
    for key in ("train_loss", "val_loss"):
        run.epochs[key] = [None if x is None else x * factor for x in run.epochs[key]]
    run.step_loss = [x * factor for x in run.step_loss]
    return run


def _mark_blow_up(run: Run) -> Run:
    """Mark a finite blow-up as diverged: the first epoch whose validation loss is above
    ``DIVERGED_LOSS_FACTOR`` times epoch 0's (or not finite) ends the run's usefulness."""
    losses = run.epochs["val_loss"]
    if run.diverged or not losses or losses[0] is None:
        return run
    limit = DIVERGED_LOSS_FACTOR * losses[0]
    for i, loss in enumerate(losses[1:], start=1):
        if loss is not None and not loss <= limit:  # NaN fails too
            run.diverged, run.diverged_at = True, int(run.epochs["step"][i])
            run.test_metric = float("nan")
            break
    return run


def _with_epoch_zero(run: Run, initial: dict[str, dict[str, float]], m: str) -> Run:
    """Prepend epoch 0 (step 0, 0 samples, 0 s): the untrained model's evaluation. Its
    training loss is over the whole training set; later epochs' is the mean of their steps'."""
    zero = {
        "epoch": 0,
        "step": 0,
        "samples_seen": 0,
        "train_loss": initial["train"]["loss"],
        f"train_{m}": initial["train"][m],
        "val_loss": initial["val"]["loss"],
        f"val_{m}": initial["val"][m],
    }
    run.epochs = {k: [zero[k], *col] for k, col in run.epochs.items()}
    run.wall_time = [0.0, *run.wall_time]
    return run


def _run_from_history(
    task: Task,
    v: Variant,
    lr: float,
    seed: int,
    history: Any,
    diverged_at: int | None,
    model: Any,
    loss_fn: Any,
) -> Run:
    m = task.metric
    ep = history.epochs if history is not None else {}
    st = history.steps if history is not None else {}
    n = len(ep.get("epoch", []))
    # The last step of each epoch gives its step count, samples seen and wall time.
    step_epoch = np.array([-1 if e is None else e for e in st.get("epoch", [])], dtype=float)
    last = [int(np.searchsorted(step_epoch, e, side="right")) - 1 for e in ep.get("epoch", [])]
    steps_at_epoch = [st["step"][i] if i >= 0 else 0 for i in last]
    samples_at_epoch = [st["samples_seen"][i] if i >= 0 else 0 for i in last]
    time_at_epoch = [st["wall_time"][i] if i >= 0 else 0.0 for i in last]
    epochs = {
        "epoch": [int(e) + 1 for e in ep.get("epoch", [])],  # epochs completed
        "step": steps_at_epoch,
        "samples_seen": samples_at_epoch,
        "train_loss": list(ep.get("loss", [None] * n)),
        f"train_{m}": list(ep.get(m, [None] * n)),
        "val_loss": list(ep.get("val_loss", [None] * n)),
        f"val_{m}": list(ep.get(f"val_{m}", [None] * n)),
    }
    run = Run(
        v,
        task.name,
        float(lr),
        seed,
        epochs,
        [float(t) for t in time_at_epoch],
        [float(x) for x in st.get("loss", [])],
        [int(x) for x in st.get("samples_seen", [])],
    )
    if diverged_at is not None:
        run.diverged, run.diverged_at = True, diverged_at
    elif task.x_test is not None:
        run.test_metric = evaluate(model, loss_fn, task.x_test, task.y_test, task)[1]
    return run
