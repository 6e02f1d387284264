"""``gdlab.backends``: torch's backend queries for ported code (``torch.backends.mps``)."""

from gdlab.backends import mps

__all__ = ["mps"]
