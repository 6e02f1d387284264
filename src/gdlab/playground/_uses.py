"""The parts of gdlab the playground uses, imported in this one place.

The rest of the tree moves (the optimizer registry, the lab's modules); when it does, this
file is the only one to follow it.
"""

from __future__ import annotations

from gdlab import Tensor, nn, no_grad, optim, stack
from gdlab.data import train_test_split
from gdlab.datasets.synthetic import circles, moons, spirals
from gdlab.lab.optimizers import OPTIMIZERS, at_evaluation_point, make_optimizer
from gdlab.lab.surface.functions import FUNCTIONS, TestFunction, get_function
from gdlab.lab.surface.trajectories import DIVERGENCE_BOX, run_trajectory
from gdlab.nn import Parameter
from gdlab.nn.utils import l1_penalty, l2_penalty
from gdlab.random import get_generator

__all__ = [
    "DIVERGENCE_BOX",
    "FUNCTIONS",
    "OPTIMIZERS",
    "Parameter",
    "Tensor",
    "TestFunction",
    "at_evaluation_point",
    "circles",
    "get_function",
    "get_generator",
    "l1_penalty",
    "l2_penalty",
    "make_optimizer",
    "moons",
    "nn",
    "no_grad",
    "optim",
    "run_trajectory",
    "spirals",
    "stack",
    "train_test_split",
]
