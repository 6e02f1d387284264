"""Curvature for the second-order optimizers, read from the gradients' own graph.

As with torch's second-order optimizers (pytorch-optimizer's AdaHessian, SophiaH), the closure
calls ``loss.backward(create_graph=True)``: each ``p.grad`` is then a Tensor with a graph, and
a Hessian-vector product H·v is one more backward pass through it (Pearlmutter, "Fast exact
multiplication by the Hessian", Neural Computation 1994). The full Hessian is n such products
(small problems only); Hutchinson's estimate of its diagonal, E[z ⊙ H·z], is one per probe.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gdlab.autograd.engine import grad
from gdlab.autograd.grad_mode import enable_grad
from gdlab.optim.optimizer import Optimizer, ParamsT, hyperparameters
from gdlab.random import get_generator
from gdlab.tensor import Tensor

__all__ = [
    "HutchinsonOptimizer",
    "decayed_grad",
    "graph_gradients",
    "hessian_matrix",
    "hutchinson_diagonal",
    "hvp",
    "probes",
]


def graph_gradients(params: Sequence[Tensor], who: str) -> list[Tensor]:
    """The parameters' gradients as Tensors with a graph; a clear error when the closure did
    not call ``backward(create_graph=True)``."""
    grads = [p._grad for p in params]
    for g in grads:
        if not isinstance(g, Tensor) or g.grad_fn is None:
            raise RuntimeError(
                f"{who}: the closure must call loss.backward(create_graph=True) so that the "
                "Hessian can be differentiated from the gradients"
            )
    return grads


def hvp(grads: Sequence[Tensor], params: Sequence[Tensor], vectors: Sequence[np.ndarray]) -> list:
    """[H·v] per parameter (arrays, zeros where a gradient does not depend on a parameter)."""
    with enable_grad():
        out = grad(list(grads), list(params), list(vectors), retain_graph=True, allow_unused=True)
    pairs = zip(out, params, strict=True)
    return [np.zeros(p.shape, p.dtype) if h is None else h for h, p in pairs]


def hessian_matrix(grads: Sequence[Tensor], params: Sequence[Tensor]) -> np.ndarray:
    """The full Hessian (n × n, float64) over the flattened parameters: n HVPs with the unit
    vectors, symmetrised (the products agree with Hᵀ up to rounding)."""
    sizes = [p.data.size for p in params]
    offsets = np.cumsum([0, *sizes])
    n = int(offsets[-1])
    h = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = 1.0
        vs = [e[offsets[k] : offsets[k + 1]].reshape(p.shape).astype(p.dtype)
              for k, p in enumerate(params)]  # fmt: skip
        h[i] = np.concatenate([x.reshape(-1) for x in hvp(grads, params, vs)])
    return (h + h.T) / 2


def probes(
    params: Sequence[Tensor], rng: np.random.Generator, distribution: str
) -> list[np.ndarray]:
    """One random probe per parameter: Rademacher (±1) or standard Gaussian, drawn in
    parameter order (so a test can draw the same ones for a reference)."""
    if distribution == "rademacher":
        return [rng.integers(0, 2, size=p.shape).astype(p.dtype) * 2 - 1 for p in params]
    return [rng.standard_normal(p.shape).astype(p.dtype) for p in params]


def hutchinson_diagonal(
    grads: Sequence[Tensor],
    params: Sequence[Tensor],
    rng: np.random.Generator,
    num_samples: int = 1,
    distribution: str = "rademacher",
) -> list[np.ndarray]:
    """Hutchinson's estimate of diag(H): the mean over probes z of z ⊙ (H·z) (unbiased when
    E[z zᵀ] = I). Reference: Bekas, Kokiopoulou & Saad, "An estimator for the diagonal of a
    matrix", Applied Numerical Mathematics 2007."""
    diag = [np.zeros(p.shape, p.dtype) for p in params]
    for _ in range(num_samples):
        zs = probes(params, rng, distribution)
        for d, hz, z in zip(diag, hvp(grads, params, zs), zs, strict=True):
            d += hz * z / num_samples
    return diag


# the estimator's settings: read by ``step``, not passed to the rules
_ESTIMATOR_KEYS = frozenset({"update_period", "num_samples", "hessian_distribution"})


class HutchinsonOptimizer(Optimizer):
    """The step the diagonal-Hessian optimizers share (AdaHessian, Sophia-H), as
    pytorch-optimizer's: every ``update_period`` steps (the first included) a fresh Hutchinson
    estimate of diag(H) from the closure's ``backward(create_graph=True)`` gradients, then the
    class's rule per parameter with ``hessian`` (None between estimates).

    ``generator`` (a seed or ``np.random.Generator``) draws the probes, in parameter order;
    ``step(closure, hessian=[...])`` takes an external estimate instead (one per parameter).
    """

    requires_create_graph = True  # the lab's closures keep the gradient's graph for it
    _distributions = ("gaussian", "rademacher")

    def __init__(self, params: ParamsT, arguments: dict[str, Any]) -> None:
        """``arguments`` is the subclass constructor's ``locals()``: its hyper-parameters, and
        the ``generator`` of the probes (not a hyper-parameter: it is not in ``defaults``)."""
        defaults = hyperparameters(arguments)
        generator = defaults.pop("generator")
        super().__init__(params, defaults)
        self._setup(generator)

    def _setup(self, generator: np.random.Generator | int | None) -> None:
        options = self.defaults
        if isinstance(options["update_period"], bool) or options["update_period"] < 1:
            raise ValueError(f"Invalid update_period value: {options['update_period']}")
        if isinstance(options["num_samples"], bool) or options["num_samples"] < 1:
            raise ValueError(f"Invalid num_samples value: {options['num_samples']}")
        if options["hessian_distribution"] not in self._distributions:
            raise ValueError(
                f"Invalid hessian_distribution: {options['hessian_distribution']!r} "
                f"(choose from {', '.join(self._distributions)})"
            )
        self._rng = get_generator(generator)

    def _rule_kwargs(self, group: dict[str, Any]) -> dict[str, Any]:
        kwargs = super()._rule_kwargs(group)
        return {k: v for k, v in kwargs.items() if k not in _ESTIMATOR_KEYS}

    def _estimate(self, step: int, hessian: Sequence[Any] | None) -> dict[int, np.ndarray] | None:
        """diag(H) per parameter index, or None between estimates."""
        params = [p for g in self.param_groups for p in g["params"] if p._grad is not None]
        if hessian is not None:
            every = [p for g in self.param_groups for p in g["params"]]
            if len(hessian) != len(every):
                raise ValueError(
                    f"{type(self).__name__}.step: hessian has {len(hessian)} tensors for "
                    f"{len(every)} parameters"
                )
            return {id(p): np.asarray(h, p.dtype) for p, h in zip(every, hessian, strict=True)}
        if (step - 1) % self.defaults["update_period"] != 0 or not params:
            return None
        grads = graph_gradients(params, type(self).__name__)
        diag = hutchinson_diagonal(
            grads, params, self._rng, self.defaults["num_samples"],
            self.defaults["hessian_distribution"],
        )  # fmt: skip
        return {id(p): d for p, d in zip(params, diag, strict=True)}

    def step(
        self, closure: Callable[[], Any] | None = None, hessian: Sequence[Any] | None = None
    ) -> Any:
        """One step of every parameter with a gradient; returns the closure's loss."""
        loss = self._closure_loss(closure)
        self._opt_called = True
        # the step count lives in the groups, as pytorch-optimizer's (and in the state_dict)
        diag = self._estimate(self.param_groups[0].get("step", 0) + 1, hessian)
        rule = type(self)._rule
        for group in self.param_groups:
            group["step"] = group.get("step", 0) + 1
            kwargs = self._rule_kwargs(group) | {"step": group["step"]}
            for p in group["params"]:
                if p._grad is None:
                    continue
                p._version += 1
                g = p._grad.data if isinstance(p._grad, Tensor) else p._grad
                h = None if diag is None else diag.get(id(p))
                rule(p.data, g, self.state[p], hessian=h, **kwargs)
        return loss


def decayed_grad(
    param: np.ndarray, grad: np.ndarray, lr: float, weight_decay: float, weight_decouple: bool,
    fixed_decay: bool, maximize: bool,
) -> np.ndarray:  # fmt: skip
    """The gradient a Hutchinson rule follows, ±g, with pytorch-optimizer's weight decay
    (``apply_weight_decay``): decoupled, θ ← θ·(1 − lr·λ) in place (1 − λ with
    ``fixed_decay``), or coupled, g + λ·θ."""
    g = -grad if maximize else grad
    if weight_decay:
        if weight_decouple:
            param *= 1.0 - weight_decay * (1.0 if fixed_decay else lr)
        else:
            g = g + weight_decay * param
    return g
