"""The optimizer registry: short name -> class, the lab's default settings, and the learning-rate
range the lab searches. The lab, the CLI, the sklearn estimator and the interop bridge take an
optimizer by these names.

A new optimizer is one row (after its own file): ``OptimizerSpec("lion", Lion, 1e-4,
lr_range=(1e-5, 1e-2))``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gdlab.optim.adabelief import AdaBelief
from gdlab.optim.adadelta import Adadelta
from gdlab.optim.adagrad import Adagrad
from gdlab.optim.adam import Adam
from gdlab.optim.adamax import Adamax
from gdlab.optim.adamw import AdamW
from gdlab.optim.asgd import ASGD
from gdlab.optim.lbfgs import LBFGS
from gdlab.optim.lion import Lion
from gdlab.optim.nadam import NAdam
from gdlab.optim.optimizer import Optimizer
from gdlab.optim.radam import RAdam
from gdlab.optim.rmsprop import RMSprop
from gdlab.optim.rprop import Rprop
from gdlab.optim.sgd import SGD

__all__ = ["OPTIMIZERS", "OptimizerSpec", "get_optimizer_spec"]


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer under a short name, with the lab's settings.

    Attributes:
        name: the short name (``"momentum"``).
        cls: the ``gdlab.optim`` class.
        lr: the class's own (torch's) default learning rate, used when a run gives none.
        defaults: hyper-parameters set on top of the class's defaults (``momentum=0.9``).
        lr_range: (low, high) of the lab's learning-rate search (log-spaced).
        tune_lr: False when ``lr`` is not a step size to tune (L-BFGS: its line search
            chooses the step, lr 1 is its first trial step): the lab's searches run it once at
            ``lr`` and its tables and legends name no lr.
        full_batch: the method assumes the same function at every step (L-BFGS: its curvature
            pairs and line search compare losses across steps), so the lab trains it on the
            full batch only.
    """

    name: str
    cls: type[Optimizer]
    lr: float
    defaults: dict[str, Any] = field(default_factory=dict)
    lr_range: tuple[float, float] = (1e-4, 1.0)
    tune_lr: bool = True
    full_batch: bool = False


# Plain SGD is searched 10x higher than momentum and Nesterov: a momentum of 0.9 multiplies the
# effective step by 1 / (1 - 0.9) = 10, so the two ranges cover the same steps.
# "momentum" is torch's SGD(momentum=0.9): for a constant lr it equals the articles' form
# v ← μv + lr·g; θ ← θ − v (gdlab.optim.Momentum, usable in the lab as a factory).
OPTIMIZERS: dict[str, OptimizerSpec] = {
    s.name: s
    for s in [
        OptimizerSpec("sgd", SGD, 1e-3, lr_range=(1e-2, 10.0)),
        OptimizerSpec("momentum", SGD, 1e-3, {"momentum": 0.9}, (1e-3, 1.0)),
        OptimizerSpec("nesterov", SGD, 1e-3, {"momentum": 0.9, "nesterov": True}, (1e-3, 1.0)),
        OptimizerSpec("adagrad", Adagrad, 1e-2, lr_range=(1e-3, 1.0)),
        OptimizerSpec("rmsprop", RMSprop, 1e-2, lr_range=(1e-4, 1e-1)),
        OptimizerSpec("adadelta", Adadelta, 1.0, lr_range=(1e-2, 10.0)),
        OptimizerSpec("adam", Adam, 1e-3, lr_range=(1e-4, 1e-1)),
        OptimizerSpec("adamw", AdamW, 1e-3, lr_range=(1e-4, 1e-1)),
        OptimizerSpec("nadam", NAdam, 2e-3, lr_range=(1e-4, 1e-1)),
        OptimizerSpec("radam", RAdam, 1e-3, lr_range=(1e-4, 1e-1)),
        OptimizerSpec("adamax", Adamax, 2e-3, lr_range=(1e-4, 1e-1)),
        OptimizerSpec("rprop", Rprop, 1e-2),
        OptimizerSpec("asgd", ASGD, 1e-2),
        OptimizerSpec(
            "lbfgs", LBFGS, 1.0, {"line_search_fn": "strong_wolfe"}, tune_lr=False, full_batch=True
        ),  # fmt: skip
        # beyond torch.optim (issue 15), each equal to its reference implementation
        OptimizerSpec("lion", Lion, 1e-4, lr_range=(1e-5, 1e-2)),
        OptimizerSpec("adabelief", AdaBelief, 1e-3, lr_range=(1e-4, 1e-1)),
    ]
}


def get_optimizer_spec(name: str) -> OptimizerSpec:
    """The registered optimizer ``name``; an unknown name lists the valid ones."""
    try:
        return OPTIMIZERS[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(k) for k in OPTIMIZERS)
        raise ValueError(f"invalid optimizer: {name!r} (choose from {valid})") from None
