"""Weight decay as a transformation: add λ·θ to the update."""

from __future__ import annotations

from typing import Any

from gdlab.optim.transforms.base import Arrays, GradientTransformation, Updates, init_empty

__all__ = ["add_decayed_weights"]


def add_decayed_weights(weight_decay: float = 0.0) -> GradientTransformation:
    """u ← u + λ·θ (Optax's ``add_decayed_weights``).

    Before the adaptive scaling it is L2 regularisation (torch's Adam ``weight_decay``);
    after it, followed by :func:`scale_by_lr`, decoupled decay (AdamW). Wrap it in
    :func:`masked` to leave biases and norms undecayed. The term is kept apart from the
    update's array (its coefficient of θ) until the update is applied, as θ·(1 − lr·λ) after
    a ``scale_by_lr``: AdamW's arithmetic.

    Reference: Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019,
    https://arxiv.org/abs/1711.05101
    """
    if not 0.0 <= weight_decay:
        raise ValueError(f"add_decayed_weights: weight_decay must be >= 0, got {weight_decay}")

    def update(updates: Updates, states: list[Any], params: Arrays, lr: float | None) -> Any:
        return [u._replace(decay=u.decay + weight_decay) for u in updates], states

    return GradientTransformation(init_empty, update)
