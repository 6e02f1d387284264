"""Optimizers with torch.optim's names, defaults and formulas, plus learning-rate schedules.

Every algorithm is a small in-place rule (``sgd_``, ``adam_``, ...) behind a torch-shaped
class (``SGD``, ``Adam``, ...). Batch GD, SGD and mini-batch GD are all :class:`SGD`: they
differ only in the batch the gradient comes from.

SGD, Adam, AdamW and Momentum also have a fused kernel (one pass over memory, about torch's
fused speed) used automatically when numba is installed (``pip install 'gdlab[fast]'``);
``fused=False`` forces the NumPy rules, which give the same numbers.
"""

from gdlab.optim import lr_scheduler, schedules
from gdlab.optim._work import get_num_threads, set_num_threads
from gdlab.optim.adafactor import Adafactor, adafactor_
from gdlab.optim.adagrad import Adadelta, Adagrad, RMSprop, adadelta_, adagrad_, rmsprop_
from gdlab.optim.adam import Adam, AdamW, adam_
from gdlab.optim.adam_variants import Adamax, NAdam, RAdam, adamax_, nadam_, radam_
from gdlab.optim.asgd_rprop import ASGD, Rprop, asgd_, rprop_
from gdlab.optim.lbfgs import LBFGS
from gdlab.optim.muon import Muon, muon_
from gdlab.optim.optimizer import Optimizer
from gdlab.optim.sgd import SGD, Momentum, momentum_, sgd_

__all__ = [
    "ASGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "LBFGS", "Momentum",
    "Muon", "NAdam", "Optimizer", "RAdam", "RMSprop", "Rprop", "SGD", "adadelta_", "adafactor_",
    "adagrad_", "adam_", "adamax_", "asgd_", "get_num_threads", "lr_scheduler", "momentum_",
    "muon_", "nadam_", "radam_", "rmsprop_", "rprop_", "schedules", "set_num_threads", "sgd_",
]  # fmt: skip
