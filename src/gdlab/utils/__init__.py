"""torch's ``torch.utils`` path for code ported from PyTorch: ``gdlab.utils.data``."""

from gdlab.utils import data

__all__ = ["data"]
