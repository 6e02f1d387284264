"""The fast kernels, registered for their rules (imported by ``gdlab.optim``).

torch.optim's elementwise rules have one (no allocation per step, cache-sized chunks, threads);
SGD, Momentum and Adam/AdamW also a numba pass; SparseAdam a compiled pass over the rows
present once numba is loaded (``sparse_adam.py``). Every other optimizer (Adafactor, Muon, any
new one) runs its reference rule as written. ``numpy_ns`` is the NumPy path's time per element
at one thread (measured on the reference machine: SGD 0.8-1.0 ns at 64 Ki-1 Mi float32 elements,
SGD with momentum 1.1-1.2, Adam 4.1-5.0), which the break-even rule of ``fused=None`` charges.
"""

from __future__ import annotations

from gdlab.optim._fast import register
from gdlab.optim._fast.adadelta import adadelta
from gdlab.optim._fast.adagrad import adagrad
from gdlab.optim._fast.adam import adam
from gdlab.optim._fast.adamax import adamax
from gdlab.optim._fast.asgd import asgd
from gdlab.optim._fast.heavy_ball import momentum
from gdlab.optim._fast.nadam import nadam
from gdlab.optim._fast.radam import radam
from gdlab.optim._fast.rmsprop import rmsprop
from gdlab.optim._fast.rprop import rprop
from gdlab.optim._fast.sgd import sgd
from gdlab.optim._fast.sparse_adam import sparse_adam
from gdlab.optim.adadelta import adadelta_
from gdlab.optim.adagrad import adagrad_
from gdlab.optim.adam import adam_
from gdlab.optim.adamax import adamax_
from gdlab.optim.asgd import asgd_
from gdlab.optim.heavy_ball import momentum_
from gdlab.optim.nadam import nadam_
from gdlab.optim.radam import radam_
from gdlab.optim.rmsprop import rmsprop_
from gdlab.optim.rprop import rprop_
from gdlab.optim.sgd import sgd_
from gdlab.optim.sparse_adam import sparse_adam_

__all__: list[str] = []

register(adadelta_, adadelta, fused=False)
register(adagrad_, adagrad, fused=False)
register(adam_, adam, fused=True, numpy_ns=5.0)
register(adamax_, adamax, fused=False)
register(asgd_, asgd, fused=False)
register(momentum_, momentum, fused=True, numpy_ns=1.2)
register(nadam_, nadam, fused=False)
register(radam_, radam, fused=False)
register(rmsprop_, rmsprop, fused=False)
register(rprop_, rprop, fused=False)
register(sgd_, sgd, fused=True, numpy_ns=1.0)
register(sparse_adam_, sparse_adam, fused=False)  # compiled once numba is loaded (no fused arg)
