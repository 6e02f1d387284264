"""Reverse-mode autodiff (``backward``, ``grad``, grad mode) and numerical gradient checks."""

from gdlab.autograd.engine import (
    backward,
    enable_grad,
    grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from gdlab.autograd.gradcheck import (
    GradcheckError,
    gradcheck,
    gradcheck_direction,
    numerical_grad,
)

__all__ = [
    "GradcheckError",
    "backward",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradcheck_direction",
    "is_grad_enabled",
    "no_grad",
    "numerical_grad",
    "set_grad_enabled",
]
