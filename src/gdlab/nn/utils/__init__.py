"""Utilities for training networks: gradient clipping and regularisation penalties."""

from gdlab.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_, get_total_norm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm"]
