"""The suite's workloads: a problem with a validation target, a step budget and a batch size.

A workload's ``target`` is stated in its validation metric (accuracy: reach at least it; a
loss: reach at most it). Targets were calibrated with the NAdamW baseline
(``gdlab suite --calibrate``, see :mod:`gdlab.lab.suite.calibrate` and docs/suite.md) and are
stored here with the baseline's hyper-parameters, so the calibration can be repeated.
``budget`` is the quick suite's step budget; the full suite multiplies it by ``FULL_SCALE``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gdlab.lab.suite.problems import PROBLEMS

__all__ = ["FULL_SCALE", "WORKLOADS", "Workload", "get_workload"]

#: The full suite's budgets are this many times the quick suite's.
FULL_SCALE = 4


@dataclass(frozen=True)
class Workload:
    """One benchmark task.

    Attributes:
        name: the problem's name (``gdlab.lab.suite.problems.PROBLEMS``).
        target: the validation metric to reach.
        budget: the quick suite's step budget (a trial that misses the target scores inf).
        batch_size: examples per step.
        eval_every: steps between two validation measurements (the target is checked there).
        baseline: NAdamW hyper-parameters the target was calibrated with.
    """

    name: str
    target: float
    budget: int
    batch_size: int
    eval_every: int
    baseline: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name not in PROBLEMS:
            raise ValueError(f"Workload: unknown problem {self.name!r}")

    @property
    def higher_is_better(self) -> bool:
        return self.name not in ("autoencoder", "noisy_quadratic")


#: Baseline NAdamW settings shared by the workloads (AlgoPerf's baseline is NAdamW).
_BASE = {"lr": 3e-3, "weight_decay": 1e-4}

WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in [
        Workload("logistic", 0.30, 600, 128, 25, _BASE),
        Workload("mlp", 0.55, 1200, 128, 50, _BASE),
        Workload("cnn", 0.70, 1200, 128, 50, _BASE),
        Workload("gru", 0.40, 600, 64, 25, _BASE),
        Workload("autoencoder", 0.030, 1200, 64, 50, _BASE),
        Workload("noisy_quadratic", 30.0, 400, 128, 10, {"lr": 3e-2, "weight_decay": 0.0}),
        # Generalising needs a strong weight decay (Power et al. use 1): at 1e-4 the baseline
        # memorises the training pairs and stays at 0.68 validation accuracy.
        Workload("modular_addition", 0.90, 2500, 128, 100, {"lr": 3e-3, "weight_decay": 1.0}),
    ]
}


def get_workload(name: str) -> Workload:
    """The workload ``name``; an unknown name lists the valid ones."""
    if name not in WORKLOADS:
        raise ValueError(f"invalid workload: {name!r} (choose from "
                         f"{', '.join(repr(k) for k in WORKLOADS)})")  # fmt: skip
    return WORKLOADS[name]
