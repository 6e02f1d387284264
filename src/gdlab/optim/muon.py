"""Muon: momentum whose update matrix is orthogonalised by a Newton–Schulz iteration."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gdlab.optim._fma import fused_add
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters

__all__ = ["Muon", "muon_", "zeropower_via_newtonschulz"]

DEFAULT_NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def _bf16(x: np.ndarray) -> np.ndarray:
    """Round float32 values to bfloat16 precision (nearest even), kept as float32."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    bits = x.view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    out = bits.astype(np.uint32).view(np.float32)
    return np.where(np.isnan(x), x, out)


def zeropower_via_newtonschulz(
    grad: np.ndarray,
    ns_coefficients: tuple[float, float, float] = DEFAULT_NS_COEFFICIENTS,
    ns_steps: int = 5,
    eps: float = 1e-7,
    ns_dtype: str = "bfloat16",
) -> np.ndarray:
    """Approximately orthogonalise a matrix (U S Vᵀ ↦ U S' Vᵀ, S' ≈ 1) by a quintic iteration.

    X ← G/‖G‖;  repeat: A = X Xᵀ; B = b·A + c·A²; X ← a·X + B X.  torch computes in bfloat16;
    ``ns_dtype="bfloat16"`` emulates that rounding after every operation.
    """
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    if ns_dtype == "bfloat16":
        rnd = _bf16
        x = _bf16(grad)
    else:
        dtype = np.dtype(ns_dtype)
        x = grad.astype(dtype)

        def rnd(v: np.ndarray) -> np.ndarray:
            return v.astype(dtype, copy=False)

    transposed = grad.shape[0] > grad.shape[1]
    if transposed:
        x = x.T
    norm = rnd(np.asarray(np.linalg.norm(x.astype(np.float64))))
    x = rnd(x / max(norm, rnd(np.asarray(eps))))

    def addmm(beta: float, m: np.ndarray, product: np.ndarray) -> np.ndarray:
        """beta·m + product, rounded once: torch's CPU bfloat16 addmm adds beta·m to the
        float32 product by a fused multiply-add before rounding to bfloat16."""
        if ns_dtype != "bfloat16":
            return rnd(beta * m + product)
        fused = np.float64(np.float32(beta)) * m.astype(np.float64) + product.astype(np.float64)
        return rnd(fused.astype(np.float32))

    for _ in range(ns_steps):
        gram = rnd(x @ x.T)
        update = addmm(b, gram, c * (gram @ gram))
        x = addmm(a, x, update @ x)
    return x.T if transposed else x


def _adjust_lr(lr: float, adjust_lr_fn: str | None, shape: tuple[int, ...]) -> float:
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * math.sqrt(max(1.0, rows / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, cols))
    return lr


def muon_(
    param: np.ndarray, grad: np.ndarray, state: dict, *, lr: float, weight_decay: float = 0.1,
    momentum: float = 0.95, nesterov: bool = True,
    ns_coefficients: tuple[float, float, float] = DEFAULT_NS_COEFFICIENTS, eps: float = 1e-7,
    ns_steps: int = 5, adjust_lr_fn: str | None = None, ns_dtype: str = "bfloat16",
) -> None:  # fmt: skip
    """One Muon step in place (see :class:`Muon`)."""
    if grad.ndim != 2:
        raise ValueError("Param gradient must be a 2D matrix")
    buf = state.get("momentum_buffer")
    if buf is None:
        buf = state["momentum_buffer"] = np.zeros_like(param)
    buf[...] = _lerp(buf, grad, 1.0 - momentum)
    update = _lerp(grad, buf, momentum) if nesterov else buf
    ortho = zeropower_via_newtonschulz(update, ns_coefficients, ns_steps, eps, ns_dtype)
    param *= 1.0 - lr * weight_decay
    step = -_adjust_lr(lr, adjust_lr_fn, param.shape)
    param[...] = fused_add(param, np.asarray(step, param.dtype), ortho.astype(param.dtype))


def _lerp(start: np.ndarray, end: np.ndarray, weight: float) -> np.ndarray:
    """torch.lerp: start + w·(end − start) for w < 0.5, else end − (1 − w)·(end − start),
    each rounded once (torch's FMA). Muon's bfloat16 iteration turns a last-bit difference of
    its input into a bfloat16 one (2⁻⁸ relative), so this follows torch to the bit."""
    w = np.asarray(weight, start.dtype)
    if w < 0.5:
        return fused_add(start, w, end - start)
    return fused_add(end, -(1 - w), end - start)


class Muon(Optimizer):
    """Muon: SGD-momentum on 2-D parameters with an orthogonalised update (torch 2.13).

    Update::

        B_t = μ·B_{t-1} + (1 − μ)·g_t                 (torch's lerp form; B_0 = 0)
        B̃_t = g_t + μ·(B_t − g_t) if nesterov else B_t
        O_t = NewtonSchulz_k(B̃_t)                      (≈ U Vᵀ of B̃_t's SVD)
        θ_t = θ_{t-1}·(1 − lr·λ) − lr'·O_t,  lr' = lr·√max(1, A/B) ("original")
                                              or 0.2·lr·√max(A, B) ("match_rms_adamw")

    Only 2-D parameters; optimise biases and embeddings with AdamW.

    Args:
        params: 2-D parameters or param groups.
        lr: learning rate (default 1e-3).
        weight_decay: decoupled decay λ (default 0.1).
        momentum: μ (default 0.95).
        nesterov: Nesterov form (default True).
        ns_coefficients: (a, b, c) of the quintic iteration (default (3.4445, −4.775, 2.0315)).
        eps: norm floor before the iteration (default 1e-7).
        ns_steps: iterations (default 5).
        adjust_lr_fn: None/"original" or "match_rms_adamw".
        ns_dtype: precision of the iteration: "bfloat16" (torch's, emulated), "float32",
            "float64" (gdlab extension).

    Example:
        >>> import numpy as np
        >>> from gdlab.nn import Parameter
        >>> w = Parameter(np.eye(2))
        >>> opt = Muon([w], lr=0.01, weight_decay=0.0)
        >>> w.grad = np.eye(2)
        >>> opt.step()
        >>> bool((np.diag(w.data) < 1).all())
        True

    Reference: Jordan et al., "Muon: An optimizer for hidden layers in neural networks", 2024,
    https://kellerjordan.github.io/posts/muon/; Liu et al., "Muon is Scalable for LLM
    Training", 2025.
    """

    _rule = staticmethod(muon_)
    _param_shaped_keys = frozenset({"momentum_buffer"})
    _lr_message = "Learning rate should be >= 0 but is: {}"

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        weight_decay: float = 0.1,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_coefficients: tuple[float, float, float] = DEFAULT_NS_COEFFICIENTS,
        eps: float = 1e-7,
        ns_steps: int = 5,
        adjust_lr_fn: str | None = None,
        *,
        ns_dtype: str = "bfloat16",
    ) -> None:
        super().__init__(params, hyperparameters(locals()))
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(
                        "Muon only supports 2D parameters whereas we found a parameter with "
                        f"size: {p.shape}"
                    )

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)  # lr, with torch's Muon wording
        if not 0.0 <= group["momentum"]:
            raise ValueError(f"momentum should be >= 0 but is: {group['momentum']}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"weight decay should be >= 0 but is: {group['weight_decay']}")
        fn = group["adjust_lr_fn"]
        if fn is not None and fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {fn} is not supported")
