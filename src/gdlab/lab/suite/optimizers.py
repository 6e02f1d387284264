"""Optimizers the suite can run, and the search space each declares for external tuning.

Any name of the optimizer registry (``gdlab.optim.registry``, through ``gdlab.lab.optimizers``)
works, and so does a user's own class by import path (``"pkg.mod:MyOptimizer"``). Each
declares a search space: the learning rate log-uniform over the registry's ``lr_range`` (a
user's class: 1e-4 to 1), and, for the optimizers with decoupled weight decay (AdamW and the
NAdamW baseline), the weight decay log-uniform over [1e-5, 1] (up to 1: the modular-addition
workload generalises only with a decay near 1, as in Power et al.'s grokking runs). Trials are
drawn from it by a scrambled Halton sequence (``scipy.stats.qmc``), as AlgoPerf draws its
quasi-random trials.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable
from typing import Any, NamedTuple

from gdlab.lab.optimizers import get_optimizer_spec, make_optimizer
from gdlab.lab.sweeps import resolve
from gdlab.optim import NAdam

__all__ = ["NADAMW", "SearchSpace", "build_optimizer", "sample_trials", "search_space"]

#: The baseline's name in the suite: NAdam with decoupled weight decay (AlgoPerf's baseline).
NADAMW = "nadamw"
_WD_RANGE = (1e-5, 1.0)
_USER_LR_RANGE = (1e-4, 1.0)


class SearchSpace(NamedTuple):
    """Log-uniform ranges of the tuned hyper-parameters (``None``: not tuned)."""

    lr: tuple[float, float]
    weight_decay: tuple[float, float] | None = None


def _user_class(name: str) -> type:
    cls = resolve(name)
    if not inspect.isclass(cls):
        raise ValueError(f"suite: optimizer {name!r} is not a class")
    return cls


def check_optimizer(name: str) -> str:
    """``name`` if the suite can run it (registry name, ``nadamw`` or ``module:Class``)."""
    if ":" in name:
        _user_class(name)
        return name
    if name == NADAMW:
        return name
    if name == "lbfgs":
        raise ValueError("suite: lbfgs needs a closure and is not run by the suite")
    get_optimizer_spec(name)
    return name


def search_space(name: str) -> SearchSpace:
    """The space ``name`` is tuned over (see the module docstring)."""
    if name == NADAMW:
        return SearchSpace(get_optimizer_spec("nadam").lr_range, _WD_RANGE)
    if ":" in name:
        return SearchSpace(_USER_LR_RANGE)
    spec = get_optimizer_spec(name)
    return SearchSpace(spec.lr_range, _WD_RANGE if name == "adamw" else None)


def default_hparams(name: str) -> dict[str, float]:
    """The self-tuning ruleset's one setting: the optimizer's defaults."""
    if name == NADAMW:
        return {"lr": get_optimizer_spec("nadam").lr, "weight_decay": 1e-2}
    if ":" in name:
        return {}
    return {"lr": get_optimizer_spec(name).lr}


def sample_trials(name: str, n: int, seed: int) -> list[dict[str, float]]:
    """``n`` settings of ``name``'s search space from a scrambled Halton sequence (seeded)."""
    from scipy.stats import qmc

    space = search_space(name)
    ranges = [("lr", space.lr)] + ([("weight_decay", space.weight_decay)]
                                   if space.weight_decay else [])  # fmt: skip
    points = qmc.Halton(d=len(ranges), scramble=True, seed=seed).random(n)
    out = []
    for row in points:
        setting = {}
        for (key, (lo, hi)), u in zip(ranges, row, strict=True):
            value = math.exp(math.log(lo) + float(u) * (math.log(hi) - math.log(lo)))
            setting[key] = float(f"{value:.4g}")  # short, stable in file names and tables
        out.append(setting)
    return out


def build_optimizer(name: str, params: Iterable[Any], hparams: dict[str, float]) -> Any:
    """The optimizer ``name`` over ``params`` with ``hparams`` on top of its defaults."""
    params = list(params)
    if name == NADAMW:
        return NAdam(params, decoupled_weight_decay=True, **hparams)
    if ":" in name:
        return _user_class(name)(params, **hparams)
    return make_optimizer(name, params, **hparams)[0]
