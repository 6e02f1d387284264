"""Reverse-mode autodiff (``backward``, ``grad``, grad mode) and numerical gradient checks.

The layers, bottom up: ``state`` (grad mode and the node counter), ``node`` (the graph node),
``engine`` (the backward pass), ``grad_mode`` (``no_grad`` and friends); ``gradcheck`` uses
Tensors and ops, so it is imported last.
"""

from gdlab.autograd.engine import backward, grad
from gdlab.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from gdlab.autograd.gradcheck import (
    GradcheckError,
    gradcheck,
    gradcheck_direction,
    gradgradcheck,
    numerical_grad,
)
from gdlab.autograd.sparse import RowSparseGrad

__all__ = [
    "GradcheckError",
    "RowSparseGrad",
    "backward",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradcheck_direction",
    "gradgradcheck",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "no_grad",
    "numerical_grad",
    "set_grad_enabled",
]
