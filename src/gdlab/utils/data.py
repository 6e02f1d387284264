"""``gdlab.utils.data`` is :mod:`gdlab.data` under torch's module path (``torch.utils.data``),
so ``from gdlab.utils.data import DataLoader, TensorDataset`` works in ported code."""

from gdlab.data import *  # noqa: F403
from gdlab.data import __all__  # noqa: F401
