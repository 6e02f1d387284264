"""``WeightAveraging``: keep a weight average (SWA or EMA) of the trained model, and evaluate it."""

from __future__ import annotations

from typing import Any

from gdlab.optim.swa_utils import AveragedModel, update_bn
from gdlab.train._checks import check_count
from gdlab.train.callbacks import Callback

__all__ = ["WeightAveraging"]


class WeightAveraging(Callback):
    """Fold the model into an :class:`~gdlab.optim.swa_utils.AveragedModel` every ``every``
    steps or epochs from ``start`` on, and evaluate the average at each epoch end.

    With a validation loader the epoch logs (and the history) get ``avg_val_loss`` and
    ``avg_val_<metric>``: the averaged weights' numbers beside the trained weights'. The
    average is ``self.averaged`` (``averaged.module`` is the model with averaged weights); it
    is saved in checkpoints. Pair SWA with :class:`~gdlab.optim.swa_utils.SWALR` as the
    trainer's scheduler for the SWA recipe (Izmailov et al., 2018).

    Args:
        interval: ``"epoch"`` (default) or ``"step"``: what ``every`` and ``start`` count.
        every: update every this many intervals (default 1).
        start: the first interval (0-based) that is averaged (default 0).
        avg_fn, multi_avg_fn, use_buffers: as :class:`AveragedModel` (default: SWA, the
            equal-weight mean; ``multi_avg_fn=get_ema_multi_avg_fn(0.999)`` for an EMA).
        update_bn: recompute BatchNorm statistics of the average over the training loader
            before evaluating it (one extra pass; default False).

    Example:
        >>> from gdlab.optim.swa_utils import get_ema_multi_avg_fn
        >>> swa = WeightAveraging(start=10)                       # SWA of epochs 10, 11, ...
        >>> ema = WeightAveraging(interval="step", multi_avg_fn=get_ema_multi_avg_fn(0.99))
    """

    def __init__(
        self, interval: str = "epoch", every: int = 1, start: int = 0, avg_fn: Any = None,
        multi_avg_fn: Any = None, use_buffers: bool = False, update_bn: bool = False,
    ) -> None:  # fmt: skip
        if interval not in ("epoch", "step"):
            raise ValueError(
                f"WeightAveraging: interval must be 'epoch' or 'step', got {interval!r}"
            )
        check_count("WeightAveraging", "every", every)
        check_count("WeightAveraging", "start", start, positive=False)
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("WeightAveraging: only one of avg_fn and multi_avg_fn")
        self.interval, self.every, self.start = interval, every, start
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers
        self.update_bn = update_bn
        self.averaged: AveragedModel | None = None
        self._pending: dict[str, Any] | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if self.averaged is None:
            self.averaged = AveragedModel(
                self.trainer.model, avg_fn=self.avg_fn, multi_avg_fn=self.multi_avg_fn,
                use_buffers=self.use_buffers,
            )  # fmt: skip
        if self._pending is not None:
            self.averaged.load_state_dict(self._pending)
            self._pending = None

    def _due(self, count: int) -> bool:
        """Whether interval number ``count`` (0-based) is averaged."""
        return count >= self.start and (count - self.start) % self.every == 0

    def on_batch_end(self, step: int, logs: dict[str, Any] | None = None) -> None:
        if self.interval == "step" and self._due(self.trainer.global_step - 1):
            self.averaged.update_parameters(self.trainer.model)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.interval == "epoch" and self._due(epoch):
            self.averaged.update_parameters(self.trainer.model)
        trainer = self.trainer
        if trainer.val_loader is None or int(self.averaged.n_averaged.data) == 0:
            return
        if self.update_bn:
            update_bn(trainer.train_loader, self.averaged)
        val = trainer.evaluate(trainer.val_loader, trainer.val_metrics, model=self.averaged)
        values = {f"avg_val_{k}": v for k, v in val.items()}
        trainer.history.annotate_epoch(values)
        if logs is not None:
            logs.update(values)  # the callbacks after this one see them too

    def state_dict(self) -> dict[str, Any]:
        return {} if self.averaged is None else {"averaged": self.averaged.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if "averaged" in state:
            if self.averaged is None:
                self._pending = state["averaged"]  # applied when the model is known
            else:
                self.averaged.load_state_dict(state["averaged"])
