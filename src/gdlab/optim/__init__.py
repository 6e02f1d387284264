"""Optimizers with torch.optim's names, defaults and formulas, plus learning-rate schedules.

One file per algorithm: its formula and paper in the docstrings, a reference rule written as
the formula (``sgd_``, ``adam_``, ...: ``rule(param, grad, state, *, lr, ...)`` updating the
arrays in place) and the torch-shaped class (``SGD``, ``Adam``, ...). Batch GD, SGD and
mini-batch GD are all :class:`SGD`: they differ only in the batch the gradient comes from.
:data:`OPTIMIZERS` (``registry.py``) names every optimizer with its defaults and the
learning-rate range the lab searches.

Speed lives in the private ``_fast`` package, behind one seam: ``step`` runs the fast kernel
registered for a rule (SGD, Momentum, Adam/AdamW: NumPy in cache-sized chunks, or one numba
pass when numba is installed, ``pip install 'gdlab[fast]'``; ``fused=False`` keeps NumPy),
else the rule itself. Both give the same numbers.
"""

from gdlab.optim import lr_scheduler, schedules
from gdlab.optim._fast import get_num_threads, set_num_threads
from gdlab.optim._fast import table as _fast_table  # noqa: F401  (registers the fast kernels)
from gdlab.optim.adabelief import AdaBelief, adabelief_
from gdlab.optim.adadelta import Adadelta, adadelta_
from gdlab.optim.adafactor import Adafactor, adafactor_
from gdlab.optim.adagrad import Adagrad, adagrad_
from gdlab.optim.adahessian import AdaHessian, adahessian_
from gdlab.optim.adam import Adam, adam_
from gdlab.optim.adamax import Adamax, adamax_
from gdlab.optim.adamw import AdamW
from gdlab.optim.asgd import ASGD, asgd_
from gdlab.optim.heavy_ball import Momentum, momentum_
from gdlab.optim.lbfgs import LBFGS
from gdlab.optim.lion import Lion, lion_
from gdlab.optim.muon import Muon, muon_
from gdlab.optim.nadam import NAdam, nadam_
from gdlab.optim.newton import DampedNewton, GaussNewton, Newton
from gdlab.optim.optimizer import Optimizer
from gdlab.optim.radam import RAdam, radam_
from gdlab.optim.registry import OPTIMIZERS, OptimizerSpec, get_optimizer_spec
from gdlab.optim.rmsprop import RMSprop, rmsprop_
from gdlab.optim.rprop import Rprop, rprop_
from gdlab.optim.sgd import SGD, sgd_
from gdlab.optim.sophia import SophiaH, sophiah_

__all__ = [
    "ASGD", "AdaBelief", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "LBFGS",
    "Lion", "Momentum", "Muon", "NAdam", "OPTIMIZERS", "Optimizer", "OptimizerSpec", "RAdam",
    "RMSprop", "Rprop", "SGD", "adabelief_", "adadelta_", "adafactor_", "adagrad_", "adam_",
    "adamax_", "asgd_", "get_num_threads", "get_optimizer_spec", "lion_", "lr_scheduler",
    "momentum_", "muon_", "nadam_", "radam_", "rmsprop_", "rprop_", "schedules", "set_num_threads",
    "sgd_",
    "AdaHessian", "DampedNewton", "GaussNewton", "Newton", "SophiaH", "adahessian_",
    "sophiah_",  # second order (issue 16)
]  # fmt: skip
