"""Utilities for training networks: gradient clipping, regularisation penalties and
parameter/vector conversion."""

from gdlab.nn.utils.clip_grad import (
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from gdlab.nn.utils.penalties import (
    l1_penalty,
    l2_penalty,
    parameters_to_vector,
    vector_to_parameters,
)

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
    "l1_penalty",
    "l2_penalty",
    "parameters_to_vector",
    "vector_to_parameters",
]
