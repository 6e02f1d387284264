"""What the three schedule-free optimizers share: the averaging weight and the train/eval switch.

Schedule-free methods keep two sequences per parameter: z (the base steps) and x (their
weighted average, where the model is evaluated). The parameter itself holds
y = (1 − β)·z + β·x, where gradients are taken. Only y and z are stored (as the
``schedulefree`` package does): ``eval()`` moves the parameter from y to
x = (y − (1 − β)·z)/β, ``train()`` back from x to y.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from gdlab.optim.optimizer import Optimizer

__all__ = [
    "ScheduleFreeOptimizer", "adam_direction", "averaging_weight", "interpolate", "new_state",
    "step_y_and_z", "warmup_lr",
]  # fmt: skip


def warmup_lr(lr: float, state: dict, warmup_steps: int) -> float:
    """γ_t = lr·min(1, t/warmup_steps) for the step about to be taken (t = state's step + 1)."""
    k = state["step"]
    return lr * ((k + 1) / warmup_steps if k < warmup_steps else 1.0)


def averaging_weight(state: dict, lr: float, r: float, weight_lr_power: float) -> float:
    """c_{t+1} = w_t / Σ_{i≤t} w_i with w_t = t^r · max_{i≤t}(lr_i)^p; updates the running
    ``lr_max``, ``weight_sum`` and ``step`` in ``state`` (the weight of x's new point)."""
    k = state["step"]
    lr_max = state["lr_max"] = max(lr, state["lr_max"])
    weight = (k + 1) ** r * lr_max**weight_lr_power
    weight_sum = state["weight_sum"] = state["weight_sum"] + weight
    state["step"] = k + 1
    return weight / weight_sum if weight_sum else 0.0  # lr = 0 throughout: no weight yet


def new_state(param: np.ndarray) -> dict[str, Any]:
    """A parameter's first state: z = y = x = the parameter, no step, no weight."""
    return {"step": 0.0, "weight_sum": 0.0, "lr_max": -1.0, "z": param.copy()}


def adam_direction(
    u: np.ndarray, grad: np.ndarray, v: np.ndarray, bias_correction2: float, eps: float
) -> None:
    """u = g/(√(v/(1 − β2^t)) + ε) in place: Adam's direction without momentum (the
    schedule-free average plays momentum's part); ``bias_correction2`` is 1 − β2^t."""
    np.divide(v, bias_correction2, out=u)
    np.sqrt(u, out=u)
    u += eps
    np.divide(grad, u, out=u)


def interpolate(y: np.ndarray, z: np.ndarray, c: float, work: np.ndarray | None = None) -> None:
    """y ← y + c·(z − y) in place, rounded as torch's ``lerp_`` (exact at c = 1)."""
    w = np.empty_like(y) if work is None else work
    np.subtract(z, y, out=w)
    if c < 0.5:
        w *= c
        y += w
    else:
        w *= 1.0 - c
        np.subtract(z, w, out=y)


def step_y_and_z(
    y: np.ndarray, z: np.ndarray, u: np.ndarray, c: float, lr: float, beta: float,
    work: np.ndarray,
) -> None:  # fmt: skip
    """The schedule-free move for a direction u, in place: x's new average point folded into
    y = (1 − β)·z + β·x, then z ← z − lr·u:
    y ← (1 − c)·y + c·z + lr·(β·(1 − c) − 1)·u."""
    interpolate(y, z, c, work)
    np.multiply(u, lr * (beta * (1.0 - c) - 1.0), out=work)
    y += work
    np.multiply(u, lr, out=work)
    z -= work


class ScheduleFreeOptimizer(Optimizer):
    """Base of the schedule-free optimizers: the ``train()``/``eval()`` switch.

    Each param group remembers its mode in ``group["train_mode"]`` (saved in the state dict,
    as the reference does). A new optimizer is in train mode (the parameters are y; before
    the first step x = y = z, so both modes agree); ``step`` in eval mode raises. Loops that
    evaluate call ``eval()`` first and ``train()`` after (gdlab's Trainer, compare and the
    surface runs do: an optimizer with ``train``/``eval`` methods is switched).
    """

    _scalar_state_keys = frozenset({"step", "weight_sum", "lr_max"})
    _param_shaped_keys = frozenset({"z", "exp_avg_sq"})

    def _beta(self, group: dict[str, Any]) -> float:
        return group["betas"][0]

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        name = type(self).__name__
        warmup = group.get("warmup_steps", 0)
        if isinstance(warmup, bool) or not isinstance(warmup, numbers.Integral) or warmup < 0:
            raise ValueError(f"{name}: warmup_steps must be an integer >= 0, got {warmup!r}")
        if not 0.0 <= group["r"]:
            raise ValueError(f"Invalid r value: {group['r']}")
        if not 0.0 <= group["weight_lr_power"]:
            raise ValueError(f"Invalid weight_lr_power value: {group['weight_lr_power']}")
        if "betas" in group and not group["betas"][0] > 0.0:
            raise ValueError(
                f"Invalid beta parameter at index 0: {group['betas'][0]} ({name} needs "
                "β1 > 0: x = (y − (1 − β1)·z)/β1)"
            )

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group (in train mode)."""
        group = dict(param_group)
        mode = group.pop("train_mode", True)  # a saved group (load_state_dict) keeps its mode
        super().add_param_group(group)
        self.param_groups[-1]["train_mode"] = bool(mode)

    def _switch(self, to_train: bool) -> None:
        for group in self.param_groups:
            if group["train_mode"] == to_train:
                continue
            beta = self._beta(group)
            weight = 1.0 - beta if to_train else 1.0 - 1.0 / beta
            for p in group["params"]:
                z = self.state[p].get("z") if p in self.state else None
                if z is not None:
                    p._version += 1
                    interpolate(p.data, z, weight)
            group["train_mode"] = to_train

    def train(self) -> None:
        """Parameters to y = (1 − β)·z + β·x, where gradients are taken (no-op if there)."""
        self._switch(True)

    def eval(self) -> None:
        """Parameters to x, the average the method converges to (evaluate and save here)."""
        self._switch(False)

    def step(self, closure: Any = None) -> Any:
        """One step (see the class); raises in eval mode, where the parameters are x."""
        if not all(g["train_mode"] for g in self.param_groups):
            raise RuntimeError(
                f"{type(self).__name__}.step: the optimizer is in eval mode (the parameters "
                "hold x, not y); call optimizer.train() before training steps"
            )
        return super().step(closure)
