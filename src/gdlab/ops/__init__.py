"""The primitives of gdlab's autodiff: one table (``OPS``), forward and VJP per row."""

from gdlab.ops.registry import OPS, Op, apply, defop

__all__ = ["OPS", "Op", "apply", "defop"]
