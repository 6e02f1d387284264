"""One optimizer step of the training loop (a mixin of ``Trainer``): gradient accumulation,
the total gradient norm, clipping, the divergence checks around ``optimizer.step()``, and the
step's bookkeeping (counters, running loss, metrics, history, per-step scheduler).

Each micro-batch loss (a mean over its samples) is weighted by ``count / total count`` before
``backward``, so k micro-batches give exactly the gradient of one batch of all their samples.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gdlab.nn.utils.clip_grad import clip_grads_with_norm_
from gdlab.tensor import Tensor
from gdlab.train.divergence import _all_finite, _Diverged

__all__: list[str] = []


def _grad_norm(grads: list[np.ndarray], scratch: list[Any]) -> float:
    """The total L2 norm of ``grads``, equal bit for bit to ``get_total_norm(grads)``.

    The same float64 dot products (``linalg.norm``'s 1-D rule) without its per-call overhead
    and without a new float64 copy of every float32 gradient per step: ``scratch[i]`` is a
    reused float64 buffer for the i-th gradient.
    """
    norms = np.empty(len(grads))
    scratch.extend(None for _ in range(len(grads) - len(scratch)))
    for i, g in enumerate(grads):
        if g.dtype != np.float64:
            buf = scratch[i]
            if buf is None or buf.shape != g.shape:
                buf = scratch[i] = np.empty(g.shape)
            np.copyto(buf, g)
            g = buf
        v = g.reshape(-1)
        norms[i] = math.sqrt(v.dot(v))
    return math.sqrt(norms.dot(norms))


def _split(batch: Any) -> tuple[tuple[Any, ...], Any]:
    if isinstance(batch, tuple | list) and len(batch) >= 2:
        return tuple(batch[:-1]), batch[-1]
    raise TypeError(
        "fit: each batch must be a tuple (inputs..., target), got "
        f"{type(batch).__name__}{'' if not isinstance(batch, tuple | list) else ' of length 1'}"
    )


def _count(batch: Any) -> int:
    return len(_split(batch)[0][0])


def _array(x: Any) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, Tensor) else x)


class StepMixin:
    """``Trainer._step``: one optimizer step over a group of ``accumulate`` batches, with
    rollback retries (the snapshot/restore/check methods come from ``DivergenceMixin``)."""

    def _step(self, group: list[Any]) -> None:
        step = self.global_step + 1
        counts = [_count(b) for b in group]
        total = sum(counts)
        params = self.params()
        self._call("on_batch_begin", step, {"step": step, "epoch": self.epoch})
        for retry in range(self.max_rollbacks + 1):
            logs: dict[str, Any] = {"step": step, "epoch": self.epoch, "lr": self.lr}
            snapshot = self._snapshot(params, push=retry == 0)
            # with detection on, a NaN/inf is reported by DivergenceError, not NumPy warnings
            quiet = np.errstate(all="ignore" if self.divergence != "ignore" else "warn")
            try:
                with quiet:
                    outputs, loss, grad_norm = self._attempt(group, counts, total, params, logs)
                break
            except _Diverged as d:
                if self.divergence != "rollback" or retry == self.max_rollbacks:
                    self._restore(snapshot)
                    raise self._divergence_error(d, step, logs["lr"]) from None
                self._rollback(step, d)
        self.global_step, self.batch_in_epoch = step, self.batch_in_epoch + len(group)
        self.samples_seen += total
        self.running_loss.update(loss, total)
        for out, target in outputs:
            for m in self.metrics:
                m.update(out, target)
        logs.update(loss=loss, grad_norm=grad_norm, samples_seen=self.samples_seen)
        logs["wall_time"] = self.wall_time()
        self.history.log_step(logs)
        if self.scheduler is not None and self.scheduler_interval == "step":
            self._scheduler_step(None)
        self._call("on_batch_end", step, logs)

    def _attempt(
        self,
        group: list[Any],
        counts: list[int],
        total: int,
        params: list[Any],
        logs: dict[str, Any],
    ) -> tuple[list[tuple[np.ndarray, np.ndarray]], float, float]:
        """Gradients, checks and one optimizer step; raises ``_Diverged`` instead of stepping.

        Returns the (output, target) pairs for the metrics, the loss and the gradient norm of
        the step's first evaluation (L-BFGS evaluates its closure several times).
        """
        outputs: list[tuple[np.ndarray, np.ndarray]] = []
        first: dict[str, float] = {}
        summed = getattr(self.loss_fn, "reduction", "mean") == "sum"

        def closure() -> float:
            self.optimizer.zero_grad()
            value = 0.0
            for batch, n in zip(group, counts, strict=True):
                inputs, target = _split(batch)
                out = self.model(*inputs)
                loss = self.loss_fn(out, target)
                w = 1.0 if summed else n / total  # mean losses: weight by count, not 1/k
                (loss if w == 1.0 else loss * w).backward()
                value += float(loss.item()) * w
                if not first and self.metrics:
                    outputs.append((_array(out).copy(), _array(target)))
            norm = _grad_norm([p.grad for p in params if p.grad is not None], self._scratch)
            if not first:
                first.update(loss=value, grad_norm=norm)
            if self.grad_clip_norm is not None and math.isfinite(norm):
                clip_grads_with_norm_(params, self.grad_clip_norm, norm)  # norm computed once
            return value

        check = self.divergence != "ignore"
        step = logs["step"]
        if self._uses_closure:
            self.optimizer.step(closure)
            self._call("on_before_optimizer_step", step, logs)
            if check:
                self._check_loss_and_gradient(first["loss"], first["grad_norm"])
        else:
            closure()
            if check:  # before the update: a NaN gradient never reaches the parameters
                self._check_loss_and_gradient(first["loss"], first["grad_norm"])
            self._call("on_before_optimizer_step", step, logs)
            self.optimizer.step()
        if check and not _all_finite(p.data for p in params):
            raise _Diverged("parameter after the update", self._first_bad("data"), first["loss"])
        return outputs, first["loss"], first["grad_norm"]
