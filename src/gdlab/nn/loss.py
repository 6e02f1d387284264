"""Loss modules (torch.nn's names and arguments); each calls ``nn.functional``.

``reduction`` is 'mean' (default) | 'sum' | 'none' and is validated in the constructor.
A user's own loss needs no class: any function of tensors built from gdlab operations, e.g.
``lambda pred, y: ((pred - y) ** 4).mean()``, is differentiated automatically.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gdlab.nn import functional as F
from gdlab.nn._loss_functional import REDUCTIONS, _check_reduction, _legacy
from gdlab.nn.module import Module
from gdlab.tensor import Tensor

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss", "KLDivLoss", "L1Loss",
    "MSELoss", "NLLLoss", "SmoothL1Loss",
]  # fmt: skip


class _Loss(Module):
    """A loss module: its functional form called with the module's ``reduction`` and the
    attributes named in ``_keywords`` (by name, as the functional's arguments)."""

    _valid = REDUCTIONS
    _function: Callable[..., Tensor]
    _keywords: tuple[str, ...] = ()

    def __init__(
        self, size_average: Any = None, reduce: Any = None, reduction: str = "mean"
    ) -> None:
        super().__init__()
        reduction = _legacy(size_average, reduce, reduction)
        _check_reduction(reduction, type(self).__name__, self._valid)
        self.reduction = reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        keywords = {name: getattr(self, name) for name in self._keywords}
        return self._function(input, target, reduction=self.reduction, **keywords)

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    _keywords = ("weight",)

    def __init__(
        self,
        weight: Any = None,
        size_average: Any = None,
        reduce: Any = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _optional_tensor(weight))


class MSELoss(_Loss):
    """Mean squared error: mean((x − y)²); input and target must have the same shape.

    Example:
        >>> nn.MSELoss()(gdlab.tensor([1.0, 2.0]), gdlab.tensor([1.0, 4.0])).item()
        2.0
    """

    _function = staticmethod(F.mse_loss)


class L1Loss(_Loss):
    """Mean absolute error: mean(|x − y|) (its gradient sign(x − y) does not shrink near
    the optimum, unlike MSE's).

    Example:
        >>> nn.L1Loss()(gdlab.tensor([1.0, 2.0]), gdlab.tensor([1.0, 4.0])).item()
        1.0
    """

    _function = staticmethod(F.l1_loss)


class HuberLoss(_Loss):
    """½d² where |d| < delta, else delta·(|d| − ½delta), d = x − y: quadratic near zero,
    linear (robust to outliers) beyond ``delta`` (default 1.0, positive).

    Example:
        >>> nn.HuberLoss(delta=1.0)(gdlab.tensor([0.0, 0.0]), gdlab.tensor([0.5, 3.0])).item()
        1.3125

    Reference: Huber (1964), "Robust Estimation of a Location Parameter".
    """

    _function = staticmethod(F.huber_loss)
    _keywords = ("delta",)

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta


class SmoothL1Loss(_Loss):
    """½d²/beta where |d| < beta, else |d| − ½beta (= HuberLoss(delta=beta) / beta; L1
    when beta = 0).

    Example:
        >>> nn.SmoothL1Loss(beta=1.0)(gdlab.tensor([0.0, 0.0]), gdlab.tensor([0.5, 3.0])).item()
        1.3125

    Reference: Girshick (2015), "Fast R-CNN", https://arxiv.org/abs/1504.08083
    """

    _function = staticmethod(F.smooth_l1_loss)
    _keywords = ("beta",)

    def __init__(
        self,
        size_average: Any = None,
        reduce: Any = None,
        reduction: str = "mean",
        beta: float = 1.0,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta


class BCELoss(_WeightedLoss):
    """Binary cross-entropy on probabilities x in [0, 1]:
    −w·(y·log x + (1 − y)·log(1 − x)), each log clamped at −100 (as torch). Inputs outside
    [0, 1] raise ValueError; for logits use ``BCEWithLogitsLoss``, which is stable.

    Args:
        weight: per-element weights w, broadcast against the input (default None).
        reduction: 'mean' | 'sum' | 'none'.

    Example:
        >>> round(nn.BCELoss()(gdlab.tensor([0.9, 0.2]), gdlab.tensor([1.0, 0.0])).item(), 4)
        0.1643
    """

    _function = staticmethod(F.binary_cross_entropy)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one stable formula, finite for any logit:
    (1 − y)·x + (1 + (pos_weight − 1)·y)·log(1 + e^−x), times ``weight``.

    Args:
        weight: per-element weights, broadcast against the input (default None).
        reduction: 'mean' | 'sum' | 'none'.
        pos_weight: weight of the positive term, per class (last dimension) (default None).

    Example:
        >>> loss = nn.BCEWithLogitsLoss()(gdlab.tensor([800.0, -800.0]), gdlab.tensor([1.0, 0.0]))
        >>> loss.item()
        0.0
    """

    _function = staticmethod(F.binary_cross_entropy_with_logits)
    _keywords = ("weight", "pos_weight")

    def __init__(
        self,
        weight: Any = None,
        size_average: Any = None,
        reduce: Any = None,
        reduction: str = "mean",
        pos_weight: Any = None,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", _optional_tensor(weight))
        self.register_buffer("pos_weight", _optional_tensor(pos_weight))


class CrossEntropyLoss(_WeightedLoss):
    """log_softmax + negative log-likelihood in one stable primitive.

    Input (N, C) or (N, C, d1, ...) logits (or (C,)); target class indices (N, d1, ...) or
    class probabilities of the input's shape. ``weight`` per class, ``ignore_index``,
    ``label_smoothing`` ε mixes the target with the uniform distribution: (1 − ε)·y + ε/C.
    See ``nn.functional.cross_entropy`` for the arguments and the 'mean' denominator.

    Example:
        >>> loss = nn.CrossEntropyLoss()(gdlab.tensor([[2.0, 0.5, -1.0]]), np.array([0]))
        >>> round(loss.item(), 4)
        0.2413
    """

    _function = staticmethod(F.cross_entropy)
    _keywords = ("weight", "ignore_index", "label_smoothing")

    def __init__(
        self,
        weight: Any = None,
        size_average: Any = None,
        ignore_index: int = -100,
        reduce: Any = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (use after LogSoftmax): −w[y]·x[y], and
    'mean' divides by Σ w[y] over the targets not equal to ``ignore_index``.

    Example:
        >>> logp = nn.LogSoftmax(dim=1)(gdlab.tensor([[2.0, 0.5, -1.0]]))
        >>> round(nn.NLLLoss()(logp, np.array([0])).item(), 4)
        0.2413
    """

    _function = staticmethod(F.nll_loss)
    _keywords = ("weight", "ignore_index")

    def __init__(
        self,
        weight: Any = None,
        size_average: Any = None,
        ignore_index: int = -100,
        reduce: Any = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence KL(y ‖ p) = Σ y·(log y − x) for log-probabilities x and a
    target distribution y (given as log-probabilities with ``log_target``); reduction
    'batchmean' gives the mathematical KL (sum / batch size), 'mean' divides by every element.

    Example:
        >>> x = gdlab.tensor(np.log([[0.5, 0.5]]))
        >>> nn.KLDivLoss(reduction="batchmean")(x, np.array([[0.5, 0.5]])).item()
        0.0
    """

    _function = staticmethod(F.kl_div)
    _keywords = ("log_target",)
    _valid = (*REDUCTIONS, "batchmean")

    def __init__(
        self,
        size_average: Any = None,
        reduce: Any = None,
        reduction: str = "mean",
        log_target: bool = False,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target


def _optional_tensor(x: Any) -> Tensor | None:
    """A weight argument as a buffer: a copy of a tensor's or array's values, or None.
    (``ndarray.data`` is a memoryview, so only a Tensor's ``.data`` is taken.)"""
    if x is None:
        return None
    return Tensor(np.asarray(x.data if isinstance(x, Tensor) else x))
