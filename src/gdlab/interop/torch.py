"""The bridge to PyTorch: weights both ways, and gdlab's optimizers inside torch loops.

* :func:`state_dict_to_torch`, :func:`state_dict_from_torch`: state dicts between the two
  (gdlab's modules use torch's parameter names, so the keys are the same); dtypes kept.
* :func:`load_from_torch`, :func:`load_into_torch`: copy a whole model's weights across.
* :class:`TorchOptimizer`: a real ``torch.optim.Optimizer`` that runs a gdlab update rule on
  CPU torch tensors in place (NumPy views, no copies), so it works with torch's training
  loops, LR schedulers, checkpoints and ``DistributedDataParallel``.

Importing this module imports torch; without it, an ImportError says to install
``gdlab[torch]``. Nothing else in gdlab imports torch.
"""

from __future__ import annotations

from gdlab.interop._torch_optim import TorchOptimizer
from gdlab.interop._torch_state import (
    load_from_torch,
    load_into_torch,
    state_dict_from_torch,
    state_dict_to_torch,
)

__all__ = [
    "TorchOptimizer",
    "load_from_torch",
    "load_into_torch",
    "state_dict_from_torch",
    "state_dict_to_torch",
]
