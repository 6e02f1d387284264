"""The MLP estimators' objective, as scikit-learn's: a data loss on the output logits plus
the L2 penalty (alpha / 2)·Σ‖W‖² / Σw on the weights only (Σw = the batch's weight sum, its
size without ``sample_weight``).

The data loss is built from autograd primitives (the log-loss is the one fused
``cross_entropy`` primitive, sample weights folded into its target rows); the penalty is
not: its gradient alpha·W / Σw is added to the weights' gradients in place
(``DenseNet.add_penalty``), which is what a graph of ``w * w`` sums would compute, at a
fraction of the cost.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import gdlab
from gdlab.ops import nn_ops
from gdlab.ops.dispatch import apply

__all__ = ["LOSS_KINDS", "data_loss", "poisson_constant"]

# kind -> output activation (what predict applies to the logits)
LOSS_KINDS = {"squared_error": "identity", "poisson": "exp", "binary": "logistic", "log": "softmax"}


def data_loss(
    kind: str, z: Any, target: Any, weight: Any, sw_sum: float, labels: Any = None
) -> Any:
    """The (weighted) average loss of logits ``z`` (n, k) against ``target`` (n, k).

    squared_error: ½·mean_k of the mean squared error (``squared_loss``);
    poisson: Σ_k of the mean half Poisson deviance with ŷ = exp(z) (``poisson_loss``);
    binary: Σ_k of the mean logistic loss, softplus(z) − y·z (one unit or multilabel);
    log: the mean softmax cross-entropy −Σ_k y·log_softmax(z); given the class ``labels``
    (indices) and no weights, the gather form of the same primitive (bit for bit equal).
    """
    if kind == "squared_error":
        diff = z - target
        per, scale = diff * diff, 0.5 / z.shape[1]
    elif kind == "poisson":
        per, scale = gdlab.exp(z) - target * z, 1.0
    elif kind == "binary":  # stable: −[y log σ(z) + (1−y) log(1−σ(z))] = softplus(z) − y·z
        per, scale = gdlab.softplus(z) - target * z, 1.0
    elif labels is not None and weight is None:
        return apply(nn_ops.CROSS_ENTROPY_INDEX, z, target=labels, denom=sw_sum, ws={})
    else:  # −Σ_i w_i Σ_k y_ik log_softmax(z)_ik / Σw: weighted rows as targets
        q = target.data if weight is None else target.data * weight.data
        return apply(nn_ops.CROSS_ENTROPY, z, q=q, denom=sw_sum)
    if weight is not None:
        per = per * weight
    return per.sum() * (scale / sw_sum)


def poisson_constant(target: np.ndarray, weight: np.ndarray | None, sw_sum: float) -> float:
    """The part of the half Poisson deviance without z, Σ w·(y log y − y) / Σw."""
    positive = target > 0
    per = np.where(positive, target * np.log(np.where(positive, target, 1.0)), 0.0) - target
    if weight is not None:
        per = per * weight
    return float(per.sum() / sw_sum)
