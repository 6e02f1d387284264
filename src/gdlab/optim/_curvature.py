"""Curvature for the second-order optimizers, read from the gradients' own graph.

As with torch's second-order optimizers (pytorch-optimizer's AdaHessian, SophiaH), the closure
calls ``loss.backward(create_graph=True)``: each ``p.grad`` is then a Tensor with a graph, and
a Hessian-vector product H·v is one more backward pass through it (Pearlmutter, "Fast exact
multiplication by the Hessian", Neural Computation 1994). The full Hessian is n such products
(small problems only); Hutchinson's estimate of its diagonal, E[z ⊙ H·z], is one per probe.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gdlab.autograd.engine import grad
from gdlab.autograd.grad_mode import enable_grad
from gdlab.tensor import Tensor

__all__ = ["graph_gradients", "hessian_matrix", "hvp", "hutchinson_diagonal"]


def graph_gradients(params: Sequence[Tensor], who: str) -> list[Tensor]:
    """The parameters' gradients as Tensors with a graph; a clear error when the closure did
    not call ``backward(create_graph=True)``."""
    grads = [p.grad for p in params]
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
