"""The Hessian's top eigenvalues (the sharpness) by power iteration and Lanczos on
Hessian-vector products, never forming the Hessian.

The sharpness λ_max of the training loss decides the stability of gradient descent: on a
quadratic, GD with step η diverges along a direction whose curvature exceeds 2/η (Cohen et
al., "Gradient Descent on Neural Networks Typically Occurs at the Edge of Stability",
ICLR 2021, arXiv:2103.00065). An HVP costs about two gradients, so the top eigenvalues of
a network with millions of weights cost a few dozen gradients.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gdlab.autograd.engine import grad
from gdlab.autograd.grad_mode import enable_grad
from gdlab.random import get_generator
from gdlab.tensor import Tensor

__all__ = ["hessian_eigenvalues", "hvp_operator", "lanczos", "power_iteration"]

MatVec = Callable[[np.ndarray], np.ndarray]


def hvp_operator(loss_fn: Callable[[], Tensor], params: Sequence[Tensor]) -> MatVec:
    """v ↦ H·v for the Hessian H of ``loss_fn()`` with respect to ``params``, on flat float64
    vectors. The loss and its gradient graph are built once; each product is one backward
    pass through the gradient (``create_graph=True``).

    Example:
        >>> hv = hvp_operator(lambda: loss(model(x), y), list(model.parameters()))
        >>> hv(np.ones(n_params))
    """
    params = list(params)
    with enable_grad():
        gs = grad(loss_fn(), params, create_graph=True, allow_unused=True)
    used = [i for i, g in enumerate(gs) if g is not None]
    sizes = [p.data.size for p in params]
    offsets = np.cumsum([0, *sizes])

    def matvec(v: np.ndarray) -> np.ndarray:
        out = grad(
            [gs[i] for i in used],
            params,
            [v[offsets[i] : offsets[i + 1]].reshape(gs[i].shape).astype(gs[i].dtype) for i in used],
            retain_graph=True,
            allow_unused=True,
        )
        return np.concatenate(
            [np.zeros(n) if h is None else h.reshape(-1) for h, n in zip(out, sizes, strict=True)]
        ).astype(np.float64)

    matvec.size = int(offsets[-1])  # type: ignore[attr-defined]
    return matvec


def power_iteration(
    matvec: MatVec,
    n: int,
    iters: int = 100,
    tol: float = 1e-6,
    generator: np.random.Generator | int | None = None,
) -> tuple[float, np.ndarray]:
    """The eigenvalue of largest magnitude of a symmetric operator and its unit eigenvector.

    v ← H·v / ‖H·v‖ until the Rayleigh quotient vᵀ·H·v changes by less than ``tol``
    (relative), at most ``iters`` products. Converges at the rate |λ₂/λ₁|.
    """
    rng = get_generator(0 if generator is None else generator)
    v = rng.standard_normal(n)
    v /= np.linalg.norm(v)
    value = 0.0
    for _ in range(iters):
        w = matvec(v)
        new = float(v @ w)
        norm = np.linalg.norm(w)
        if norm == 0:
            return 0.0, v
        v = w / norm
        if abs(new - value) <= tol * max(abs(new), 1e-30):
            return new, v
        value = new
    return value, v


def lanczos(
    matvec: MatVec,
    n: int,
    k: int = 1,
    iters: int = 20,
    generator: np.random.Generator | int | None = None,
) -> np.ndarray:
    """The ``k`` largest eigenvalues of a symmetric operator (descending), from ``iters``
    Lanczos steps with full reorthogonalisation: the eigenvalues of the tridiagonal matrix
    T = Qᵀ·H·Q of the Krylov basis Q (exact once ``iters`` reaches n).

    Reference: Golub & Van Loan, "Matrix Computations", §10.1; Ghorbani et al., "An
    Investigation into Neural Net Optimization via Hessian Eigenvalue Density" (2019).
    """
    if not 1 <= k <= n:
        raise ValueError(f"lanczos: k must be in [1, {n}], got {k}")
    m = min(max(iters, k), n)
    rng = get_generator(0 if generator is None else generator)
    q = np.zeros((m, n))
    alpha = np.zeros(m)
    beta = np.zeros(m)
    v = rng.standard_normal(n)
    q[0] = v / np.linalg.norm(v)
    steps = m
    for j in range(m):
        w = matvec(q[j])
        alpha[j] = q[j] @ w
        w -= q[: j + 1].T @ (q[: j + 1] @ w)  # full reorthogonalisation (twice is enough)
        w -= q[: j + 1].T @ (q[: j + 1] @ w)
        if j + 1 == m:
            break
        beta[j] = np.linalg.norm(w)
        if beta[j] < 1e-12:  # an invariant subspace: T is exact
            steps = j + 1
            break
        q[j + 1] = w / beta[j]
    t = np.diag(alpha[:steps]) + np.diag(beta[: steps - 1], 1) + np.diag(beta[: steps - 1], -1)
    return np.sort(np.linalg.eigvalsh(t))[::-1][:k]


def hessian_eigenvalues(
    loss_fn: Callable[[], Tensor],
    params: Sequence[Tensor],
    k: int = 1,
    method: str = "lanczos",
    iters: int = 20,
    generator: np.random.Generator | int | None = None,
) -> np.ndarray:
    """The ``k`` largest Hessian eigenvalues of ``loss_fn()`` in ``params`` (the sharpness is
    the first), by ``method`` "lanczos" (``iters`` steps) or "power" (k = 1, at most
    ``iters`` products).

    Example:
        >>> sharpness = hessian_eigenvalues(lambda: loss_fn(model(x), y), model.parameters())[0]
    """
    matvec: Any = hvp_operator(loss_fn, params)
    if method == "lanczos":
        return lanczos(matvec, matvec.size, k, iters, generator)
    if method == "power":
        if k != 1:
            raise ValueError(f"hessian_eigenvalues: method 'power' gives k=1 only, got k={k}")
        return np.array([power_iteration(matvec, matvec.size, iters, generator=generator)[0]])
    raise ValueError(f"hessian_eigenvalues: method must be 'lanczos' or 'power', got {method!r}")
