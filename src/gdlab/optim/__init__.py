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

from gdlab.optim import lr_scheduler, schedules, swa_utils, transforms
from gdlab.optim._fast import get_num_threads, set_num_threads
from gdlab.optim._fast import table as _fast_table  # noqa: F401  (registers the fast kernels)
from gdlab.optim.adabelief import AdaBelief, adabelief_
from gdlab.optim.adabound import AdaBound, adabound_
from gdlab.optim.adadelta import Adadelta, adadelta_
from gdlab.optim.adafactor import Adafactor, adafactor_
from gdlab.optim.adagrad import Adagrad, adagrad_
from gdlab.optim.adahessian import AdaHessian, adahessian_
from gdlab.optim.adam import Adam, adam_
from gdlab.optim.adamax import Adamax, adamax_
from gdlab.optim.adamw import AdamW
from gdlab.optim.adamw_schedule_free import AdamWScheduleFree, adamw_schedule_free_
from gdlab.optim.adan import Adan, adan_
from gdlab.optim.ademamix import AdEMAMix, ademamix_
from gdlab.optim.adopt import ADOPT, adopt_
from gdlab.optim.asgd import ASGD, asgd_
from gdlab.optim.chain import Chain, chain
from gdlab.optim.dadapt_adam import DAdaptAdam, dadapt_adam_
from gdlab.optim.dadapt_sgd import DAdaptSGD, dadapt_sgd_
from gdlab.optim.from_rule import from_rule
from gdlab.optim.heavy_ball import Momentum, momentum_
from gdlab.optim.lamb import LAMB, lamb_
from gdlab.optim.lars import LARS, lars_
from gdlab.optim.lbfgs import LBFGS
from gdlab.optim.lion import Lion, lion_
from gdlab.optim.lookahead import Lookahead
from gdlab.optim.madgrad import MADGRAD, madgrad_
from gdlab.optim.muon import Muon, muon_
from gdlab.optim.nadam import NAdam, nadam_
from gdlab.optim.newton import DampedNewton, GaussNewton, Newton
from gdlab.optim.novograd import NovoGrad, novograd_
from gdlab.optim.optimizer import Optimizer
from gdlab.optim.prodigy import Prodigy, prodigy_
from gdlab.optim.radam import RAdam, radam_
from gdlab.optim.radam_schedule_free import RAdamScheduleFree, radam_schedule_free_
from gdlab.optim.registry import OPTIMIZERS, OptimizerSpec, get_optimizer_spec
from gdlab.optim.rmsprop import RMSprop, rmsprop_
from gdlab.optim.rprop import Rprop, rprop_
from gdlab.optim.sam import SAM
from gdlab.optim.sgd import SGD, sgd_
from gdlab.optim.sgd_schedule_free import SGDScheduleFree, sgd_schedule_free_
from gdlab.optim.shampoo import Shampoo, shampoo_
from gdlab.optim.soap import SOAP, soap_
from gdlab.optim.sophia import SophiaG, sophiag_, update_hessian_gnb
from gdlab.optim.sophia_h import SophiaH, sophiah_
from gdlab.optim.sparse_adam import SparseAdam, sparse_adam_
from gdlab.optim.yogi import Yogi, yogi_

__all__ = [
    "ADOPT",
    "ASGD",
    "AdEMAMix",
    "AdaBelief",
    "AdaBound",
    "AdaHessian",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "AdamWScheduleFree",
    "Adamax",
    "Adan",
    "Chain",
    "DAdaptAdam",
    "DAdaptSGD",
    "DampedNewton",
    "GaussNewton",
    "LAMB",
    "LARS",
    "LBFGS",
    "Lion",
    "Lookahead",
    "MADGRAD",
    "Momentum",
    "Muon",
    "NAdam",
    "Newton",
    "NovoGrad",
    "OPTIMIZERS",
    "Optimizer",
    "OptimizerSpec",
    "Prodigy",
    "RAdam",
    "RAdamScheduleFree",
    "RMSprop",
    "Rprop",
    "SAM",
    "SGD",
    "SGDScheduleFree",
    "SOAP",
    "Shampoo",
    "SophiaG",
    "SophiaH",
    "SparseAdam",
    "Yogi",
    "adabelief_",
    "adabound_",
    "adadelta_",
    "adafactor_",
    "adagrad_",
    "adahessian_",
    "adam_",
    "adamax_",
    "adamw_schedule_free_",
    "adan_",
    "ademamix_",
    "adopt_",
    "asgd_",
    "chain",
    "dadapt_adam_",
    "dadapt_sgd_",
    "from_rule",
    "get_num_threads",
    "get_optimizer_spec",
    "lamb_",
    "lars_",
    "lion_",
    "lr_scheduler",
    "madgrad_",
    "momentum_",
    "muon_",
    "nadam_",
    "novograd_",
    "prodigy_",
    "radam_",
    "radam_schedule_free_",
    "rmsprop_",
    "rprop_",
    "schedules",
    "set_num_threads",
    "sgd_",
    "sgd_schedule_free_",
    "shampoo_",
    "soap_",
    "sophiag_",
    "sophiah_",
    "sparse_adam_",
    "swa_utils",
    "transforms",
    "update_hessian_gnb",
    "yogi_",
]
