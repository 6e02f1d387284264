"""The primitives of gdlab's autodiff: one table (``OPS``), forward and VJP per row.

``registry`` holds the table, ``dispatch`` runs an op and records it, ``methods`` binds the
Tensor methods (``x.exp()``) from one table when this package is imported.
"""

from gdlab.ops import methods
from gdlab.ops.dispatch import apply
from gdlab.ops.registry import OPS, Op, defop

methods.install()

__all__ = ["OPS", "Op", "apply", "defop"]
