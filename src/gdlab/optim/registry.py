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
from gdlab.optim.adabound import AdaBound
from gdlab.optim.adadelta import Adadelta
from gdlab.optim.adagrad import Adagrad
from gdlab.optim.adahessian import AdaHessian
from gdlab.optim.adam import Adam
from gdlab.optim.adamax import Adamax
from gdlab.optim.adamw import AdamW
from gdlab.optim.adamw_schedule_free import AdamWScheduleFree
from gdlab.optim.adan import Adan
from gdlab.optim.ademamix import AdEMAMix
from gdlab.optim.adopt import ADOPT
from gdlab.optim.asgd import ASGD
from gdlab.optim.dadapt_adam import DAdaptAdam
from gdlab.optim.dadapt_sgd import DAdaptSGD
from gdlab.optim.lamb import LAMB
from gdlab.optim.lars import LARS
from gdlab.optim.lbfgs import LBFGS
from gdlab.optim.lion import Lion
from gdlab.optim.lookahead import Lookahead
from gdlab.optim.madgrad import MADGRAD
from gdlab.optim.nadam import NAdam
from gdlab.optim.newton import DampedNewton, Newton
from gdlab.optim.novograd import NovoGrad
from gdlab.optim.optimizer import Optimizer
from gdlab.optim.prodigy import Prodigy
from gdlab.optim.radam import RAdam
from gdlab.optim.radam_schedule_free import RAdamScheduleFree
from gdlab.optim.resolve import default_lr, import_object, is_import_spec, optimizer_from_object
from gdlab.optim.rmsprop import RMSprop
from gdlab.optim.rprop import Rprop
from gdlab.optim.sam import SAM
from gdlab.optim.sgd import SGD
from gdlab.optim.sgd_schedule_free import SGDScheduleFree
from gdlab.optim.shampoo import Shampoo
from gdlab.optim.soap import SOAP
from gdlab.optim.sophia import SophiaG
from gdlab.optim.sophia_h import SophiaH
from gdlab.optim.yogi import Yogi

__all__ = ["OPTIMIZERS", "TORCH_OPTIMIZERS", "OptimizerSpec", "get_optimizer_spec"]


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


_ASAM = {"base_optimizer": "momentum", "rho": 0.5, "adaptive": True}

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
        # schedule-free (train()/eval(): the lab evaluates at x); SGD's lr is γ on z, searched
        # as plain SGD's, the Adam forms' as Adam's
        OptimizerSpec("sgd_schedule_free", SGDScheduleFree, 1.0, lr_range=(1e-2, 10.0)),
        OptimizerSpec("adamw_schedule_free", AdamWScheduleFree, 2.5e-3, lr_range=(1e-4, 1e-1)),
        OptimizerSpec("radam_schedule_free", RAdamScheduleFree, 2.5e-3, lr_range=(1e-4, 1e-1)),
        # no lr to tune: lr multiplies the estimated step d, and 1 is the method's whole point
        # (as L-BFGS's lr = 1); the lab's search only brackets it by a decade each side
        OptimizerSpec("prodigy", Prodigy, 1.0, lr_range=(0.1, 10.0)),
        OptimizerSpec("dadapt_sgd", DAdaptSGD, 1.0, lr_range=(0.1, 10.0)),
        OptimizerSpec("dadapt_adam", DAdaptAdam, 1.0, lr_range=(0.1, 10.0)),
        # wrappers, with their base optimizer by name: Lookahead over Adam (the paper's
        # language-model and Transformer runs), SAM over SGD with momentum 0.9 (both papers'
        # image runs; ASAM's CIFAR-10 radius ρ = 0.5); lr is the base optimizer's
        OptimizerSpec("lookahead", Lookahead, 1e-3, {"base_optimizer": "adam"}, (1e-4, 1e-1)),
        OptimizerSpec("sam", SAM, 1e-3, {"base_optimizer": "momentum"}, (1e-3, 1.0)),
        OptimizerSpec("asam", SAM, 1e-3, _ASAM, (1e-3, 1.0)),
        OptimizerSpec("yogi", Yogi, 1e-2, lr_range=(1e-4, 1.0)),
        OptimizerSpec("adan", Adan, 1e-3, lr_range=(1e-4, 1e-1)),
        OptimizerSpec("lamb", LAMB, 1e-3, lr_range=(1e-4, 1e-1)),
        # LARS's steps are lr·trust_coefficient·‖θ‖ on matrices, but lr·g on vectors
        OptimizerSpec("lars", LARS, 1e-3, lr_range=(1e-4, 1.0)),
        OptimizerSpec("novograd", NovoGrad, 1e-3, lr_range=(1e-4, 1.0)),
        OptimizerSpec("madgrad", MADGRAD, 1e-2, lr_range=(1e-4, 1.0)),
        OptimizerSpec("adabound", AdaBound, 1e-3, lr_range=(1e-4, 1e-1)),
        OptimizerSpec("amsbound", AdaBound, 1e-3, {"amsbound": True}, (1e-4, 1e-1)),
        OptimizerSpec("adopt", ADOPT, 1e-3, lr_range=(1e-4, 1e-1)),
        OptimizerSpec("ademamix", AdEMAMix, 1e-3, lr_range=(1e-4, 1e-1)),
        # matrix preconditioners (optim3). The lab's 2-D surfaces optimize one vector, which
        # Shampoo leaves to its graft (SGD with Nesterov momentum) and SOAP to Adam unless it
        # preconditions 1-D parameters too: the lab's SOAP does (a 2x2 eigenbasis).
        OptimizerSpec("shampoo", Shampoo, 1e-3, lr_range=(1e-3, 1.0)),
        OptimizerSpec("soap", SOAP, 3e-3, {"precondition_1d": True}, (1e-4, 1e-1)),
        # SophiaG without update_hessian() calls (the trainer makes none) has h = 0 and takes
        # sign-momentum steps of size lr, as Lion does: the same range
        OptimizerSpec("sophia", SophiaG, 1e-4, lr_range=(1e-5, 1e-2)),
        # second order (issue 16): a closure with backward(create_graph=True), small problems
        OptimizerSpec("newton", Newton, 1.0, lr_range=(1e-2, 1.0)),
        OptimizerSpec("damped_newton", DampedNewton, 1.0, lr_range=(1e-2, 1.0)),
        OptimizerSpec("adahessian", AdaHessian, 0.1, lr_range=(1e-3, 1.0)),
        OptimizerSpec("sophiah", SophiaH, 6e-2, lr_range=(1e-3, 1.0)),
    ]
}


# the names of torch.optim's algorithms; every other name is an optimizer beyond torch.optim
# (issue 15: the gallery draws them, the convergence battery must have a row for each)
TORCH_OPTIMIZERS = frozenset({"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adadelta",
                              "adam", "adamw", "nadam", "radam", "adamax", "rprop", "asgd",
                              "lbfgs"})  # fmt: skip


def get_optimizer_spec(name: str) -> OptimizerSpec:
    """The registered optimizer ``name``, or the one ``pkg.module:Name`` imports (a class, a
    ``chain`` or a rule function: :mod:`gdlab.optim.resolve`; named by the spec, with the
    default ``lr_range``); an unknown name lists the valid ones."""
    if is_import_spec(name):
        obj = optimizer_from_object(import_object(name), name)
        return OptimizerSpec(name, obj, default_lr(obj))
    try:
        return OPTIMIZERS[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(k) for k in OPTIMIZERS)
        raise ValueError(
            f"invalid optimizer: {name!r} (choose from {valid}, or give pkg.module:Name)"
        ) from None
