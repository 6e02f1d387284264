"""Neural networks: modules, layers, activations, losses and initialisers (torch.nn's names)."""

from gdlab.nn import utils
from gdlab.nn.parameter import Parameter

__all__ = ["Parameter", "utils"]
