"""Per-layer gradient norms and activation statistics, recorded through hooks.

The gradients come from ``Tensor.register_hook`` on each parameter, the activations from
``Module.register_forward_hook`` on each activation module: the trainer's loop is not
touched, and the handles are removed when training ends (or fails), so the model leaves
``fit`` without hooks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gdlab import nn
from gdlab.autograd import is_grad_enabled
from gdlab.train.callbacks import _HoldsUntilEnd

__all__ = [
    "ACTIVATION_MODULES",
    "SATURATION",
    "ActivationStats",
    "LayerStats",
    "activation_stats",
]

#: |tanh| above this is saturated (its derivative 1 − y² is below 0.06); a sigmoid is
#: saturated where |2y − 1| is (σ(x) = (1 + tanh(x/2))/2).
SATURATION = 0.97


@dataclass(frozen=True)
class ActivationStats:
    """One layer's outputs over one step: mean and std (unbiased, as ``Tensor.std``) of all
    entries, and the fraction ``inactive``: for ReLU the dead units (zero for every sample of
    the batch), for tanh/sigmoid the saturated entries; None for other activations."""

    mean: float
    std: float
    inactive: float | None


def activation_stats(module: Any, out: np.ndarray) -> ActivationStats:
    """``ActivationStats`` of ``module``'s output ``out`` (batch first)."""
    y = np.asarray(out, dtype=np.float64)
    inactive = None
    if isinstance(module, nn.ReLU):
        units = y.reshape(y.shape[0], -1) if y.ndim > 1 else y.reshape(-1, 1)
        inactive = float(np.mean(np.all(units == 0, axis=0)))
    elif isinstance(module, nn.Tanh):
        inactive = float(np.mean(np.abs(y) > SATURATION))
    elif isinstance(module, nn.Sigmoid):
        inactive = float(np.mean(np.abs(2 * y - 1) > SATURATION))
    return ActivationStats(float(y.mean()), float(y.std(ddof=1)), inactive)


#: the activation modules whose outputs are recorded
ACTIVATION_MODULES = (
    nn.ReLU, nn.Tanh, nn.Sigmoid, nn.ELU, nn.GELU, nn.SiLU, nn.LeakyReLU,
)  # fmt: skip


@dataclass
class _Step:
    """What the hooks saw since the step began: each parameter's gradient (summed over the
    step's micro-batches, as ``.grad``) and each activation's outputs."""

    grads: dict[str, np.ndarray] = field(default_factory=dict)
    outputs: dict[str, list[np.ndarray]] = field(default_factory=dict)


class LayerStats(_HoldsUntilEnd):
    """Record per-layer gradient norms and activation statistics through hooks.

    Each step adds to the step record ``grad_norm/<parameter>`` (the L2 norm of the
    parameter's gradient before clipping, as :class:`GradientHealth`), and for every
    activation module ``act_mean/<module>``, ``act_std/<module>`` and, for ReLU,
    ``act_dead/<module>`` (the fraction of dead units) or, for tanh and sigmoid,
    ``act_saturated/<module>`` (the fraction of saturated outputs, ``SATURATION``).

    A gradient hook sees each backward's contribution; like ``.grad`` it starts again after
    ``zero_grad`` (the parameter's gradient is None), so accumulated micro-batches add up and
    an optimizer that evaluates its closure several times (L-BFGS) keeps the last evaluation.
    Forward passes without grad mode (validation) are not recorded.

    Example:
        >>> trainer = Trainer(model, loss_fn, opt, loader, callbacks=[LayerStats()])
    """

    def __init__(self) -> None:
        self._handles: list[Any] = []
        self._step = _Step()
        self._activations: dict[str, Any] = {}  # module name -> activation module
        self._parameters: list[str] = []  # the trained parameters' names, in model order
        self._first: Any = None  # a trained parameter: its .grad is None after zero_grad

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._release()
        model = self.trainer.model
        trained = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
        for name, p in trained:
            self._handles.append(p.register_hook(self._grad_hook(name, p)))
        self._parameters = [name for name, _ in trained]
        self._first = trained[0][1] if trained else None
        self._activations = {
            name: m for name, m in model.named_modules() if isinstance(m, ACTIVATION_MODULES)
        }
        for name, module in self._activations.items():
            self._handles.append(module.register_forward_hook(self._forward_hook(name)))

    def _grad_hook(self, name: str, p: Any) -> Any:
        def hook(g: Any) -> None:
            g = np.asarray(g.data, dtype=np.float64)
            if p._grad is None or name not in self._step.grads:  # the first since zero_grad
                self._step.grads[name] = g.copy()
            else:
                self._step.grads[name] += g

        return hook

    def _forward_hook(self, name: str) -> Any:
        def hook(module: Any, args: Any, out: Any) -> None:
            if not is_grad_enabled():
                return
            y = np.array(out.data, copy=True)
            first = self._first is not None and self._first._grad is None  # new evaluation
            if first or name not in self._step.outputs:
                self._step.outputs[name] = [y]
            else:
                self._step.outputs[name].append(y)

        return hook

    def on_batch_begin(self, step: int, logs: dict[str, Any] | None = None) -> None:
        self._step = _Step()

    def on_before_optimizer_step(self, step: int, logs: dict[str, Any]) -> None:
        grads, outputs = self._step.grads, self._step.outputs
        for name in (n for n in self._parameters if n in grads):  # the model's order
            logs[f"grad_norm/{name}"] = float(np.linalg.norm(grads[name].reshape(-1)))
        for name, outs in ((n, outputs[n]) for n in self._activations if n in outputs):
            module = self._activations[name]
            s = activation_stats(module, np.concatenate(outs))
            logs[f"act_mean/{name}"], logs[f"act_std/{name}"] = s.mean, s.std
            if s.inactive is not None:
                kind = "dead" if isinstance(module, nn.ReLU) else "saturated"
                logs[f"act_{kind}/{name}"] = s.inactive

    def _release(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
