"""Derivatives of functions, as ``torch.autograd.functional``: vjp, jvp, vhp, hvp, jacobian and
hessian of a function of Tensors.

All are built on ``autograd.grad``; the second-order ones differentiate the backward pass
(``create_graph=True``). ``inputs`` is a Tensor or a tuple of Tensors, and the results keep
that shape (a Tensor for a Tensor, a tuple for a tuple), as torch's. The inputs are detached
first, so the caller's graph is untouched; results are detached unless ``create_graph``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gdlab.autograd.engine import grad
from gdlab.autograd.grad_mode import enable_grad
from gdlab.ops.shape import reshape, stack
from gdlab.tensor import Tensor

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def _as_tuple(x: Any, name: str) -> tuple[bool, tuple]:
    """(was it a single Tensor, the tensors as a tuple)."""
    if isinstance(x, Tensor):
        return True, (x,)
    xs = tuple(x)
    for t in xs:
        if not isinstance(t, Tensor):
            raise TypeError(
                f"{name}: expected a Tensor or a tuple of Tensors, got {type(t).__name__}"
            )
    return False, xs


def _prepare(xs: tuple, create_graph: bool) -> tuple:
    """Leaves that require grad; with ``create_graph`` the caller's tensors themselves when
    they require grad (so the result stays connected to their graph, as torch's)."""
    return tuple(
        x if create_graph and x.requires_grad else x.detach().requires_grad_(True) for x in xs
    )


def _finish(gs: Sequence[Any], like: tuple, create_graph: bool) -> tuple:
    """Tensors, zeros for unused inputs, detached unless ``create_graph``."""
    out = []
    for g, x in zip(gs, like, strict=True):
        if g is None:
            out.append(Tensor._wrap(np.zeros(x.shape, dtype=x.dtype)))
        elif isinstance(g, Tensor):
            out.append(g if create_graph else g.detach())
        else:
            out.append(Tensor._wrap(np.asarray(g)))
    return tuple(out)


def _shape_like(single: bool, values: tuple) -> Any:
    return values[0] if single else values


def _vectors(v: Any, like: tuple, name: str) -> tuple:
    if v is None:
        if len(like) != 1 or like[0].data.size != 1:
            raise RuntimeError(f"{name}: v must be given unless the tensor has a single element")
        return (np.ones(like[0].shape, dtype=like[0].dtype),)
    _, vs = _as_tuple(v, name)
    if len(vs) != len(like):
        raise ValueError(f"{name}: v has {len(vs)} tensors but there are {len(like)}")
    for a, b in zip(vs, like, strict=True):
        if a.shape != b.shape:
            raise ValueError(f"{name}: v of shape {a.shape} does not match shape {b.shape}")
    return tuple(a.data for a in vs)


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False) -> tuple:
    """(func(inputs), vᵀ·J): the vector-Jacobian product, as ``torch.autograd.functional.vjp``.

    Example:
        >>> out, g = vjp(lambda x: x**2, x, v=gdlab.ones(3))      # g = 2x
    """
    single, xs = _as_tuple(inputs, "vjp")
    xs = _prepare(xs, create_graph)
    with enable_grad():
        out_single, outs = _as_tuple(func(*xs), "vjp")
        gs = grad(outs, xs, _vectors(v, outs, "vjp"), create_graph=create_graph, allow_unused=True)
    result = _finish(gs, xs, create_graph)
    return _shape_like(out_single, _detached(outs, create_graph)), _shape_like(single, result)


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False) -> tuple:
    """(func(inputs), J·v): the Jacobian-vector product, by the double-backward trick (the VJP
    is linear in its vector u, so differentiating uᵀ·J with respect to u along v gives J·v).

    Example:
        >>> out, t = jvp(lambda x: x**2, x, v=gdlab.ones(3))      # t = 2x
    """
    single, xs = _as_tuple(inputs, "jvp")
    xs = _prepare(xs, create_graph)
    vs = _vectors(v, xs, "jvp")
    with enable_grad():
        out_single, outs = _as_tuple(func(*xs), "jvp")
        us = tuple(Tensor(np.zeros(o.shape, dtype=o.dtype), requires_grad=True) for o in outs)
        gs = grad(outs, xs, us, create_graph=True, allow_unused=True)
        ts = _grad_along(gs, vs, us, create_graph)
    result = _finish(ts, outs, create_graph)
    return _shape_like(out_single, _detached(outs, create_graph)), _shape_like(out_single, result)


def vhp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False) -> tuple:
    """(func(inputs), vᵀ·H) for a scalar function, as ``torch.autograd.functional.vhp``.

    Example:
        >>> out, hv = vhp(lambda x: (x**3).sum(), x, v=gdlab.ones(3))     # 6x
    """
    single, xs = _as_tuple(inputs, "vhp")
    xs = _prepare(xs, create_graph)
    vs = _vectors(v, xs, "vhp")
    with enable_grad():
        out = func(*xs)
        if not isinstance(out, Tensor) or out.data.size != 1:
            raise RuntimeError("vhp: the function must return a single-element Tensor")
        gs = grad(out, xs, create_graph=True, allow_unused=True)
        hs = _grad_along(gs, vs, xs, create_graph)
    return _detached((out,), create_graph)[0], _shape_like(single, _finish(hs, xs, create_graph))


def hvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False) -> tuple:
    """(func(inputs), H·v) for a scalar function. For a twice continuously differentiable
    function the Hessian is symmetric, so H·v = (vᵀ·H)ᵀ and this is ``vhp`` (torch computes
    it by the double-backward trick, which costs one more backward pass).

    Example:
        >>> out, hv = hvp(lambda x: (x**3).sum(), x, v=gdlab.ones(3))     # 6x
    """
    return vhp(func, inputs, v, create_graph)


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False) -> Any:
    """The Jacobian of ``func`` at ``inputs``: for an output of shape S and an input of shape
    I, a Tensor of shape S + I, one backward pass per output element (reverse mode).

    Nesting follows torch: a Tensor for one output and one input, a tuple over inputs for a
    tuple of inputs, a tuple over outputs (of those) for a tuple of outputs.

    Example:
        >>> jacobian(lambda x: x**2, gdlab.tensor([1.0, 2.0]))     # diag(2x)
    """
    single, xs = _as_tuple(inputs, "jacobian")
    xs = _prepare(xs, create_graph)
    with enable_grad():
        out_single, outs = _as_tuple(func(*xs), "jacobian")
        per_output = tuple(_jacobian_rows(o, xs, create_graph) for o in outs)
    per_output = tuple(_shape_like(single, blocks) for blocks in per_output)
    return _shape_like(out_single, per_output)


def _jacobian_rows(out: Tensor, xs: tuple, create_graph: bool) -> tuple:
    """d out / d x for each x: stacked rows, one backward pass per element of ``out``."""
    n = out.data.size
    rows: list[list[Tensor]] = [[] for _ in xs]
    for k in range(n):
        onehot = np.zeros(n, dtype=out.dtype)
        onehot[k] = 1
        gs = grad(
            out,
            xs,
            onehot.reshape(out.shape),
            retain_graph=True,
            create_graph=create_graph,
            allow_unused=True,
        )
        for row, g in zip(rows, _finish(gs, xs, create_graph), strict=True):
            row.append(g)
    blocks = []
    for row, x in zip(rows, xs, strict=True):
        if n == 0:
            blocks.append(Tensor._wrap(np.zeros((*out.shape, *x.shape), dtype=x.dtype)))
        else:
            blocks.append(reshape(stack(row), (*out.shape, *x.shape)))
    return tuple(blocks)


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False) -> Any:
    """The Hessian of a scalar ``func`` at ``inputs``: the Jacobian of its gradient (shape
    I + I for one input; a tuple of tuples of blocks for a tuple of inputs, as torch's).

    Example:
        >>> hessian(lambda x: (x**3).sum(), gdlab.tensor([1.0, 2.0]))     # diag(6x)
    """
    single, xs = _as_tuple(inputs, "hessian")

    def gradient(*args: Tensor) -> tuple:
        out = func(*args)
        if not isinstance(out, Tensor) or out.data.size != 1:
            raise RuntimeError("hessian: the function must return a single-element Tensor")
        gs = grad(out, args, create_graph=True, allow_unused=True)
        return _finish(gs, args, True)

    blocks = jacobian(gradient, xs, create_graph=create_graph)
    return blocks[0][0] if single else blocks


def _grad_along(gs: Sequence[Any], vs: Sequence[Any], wrt: tuple, create_graph: bool) -> tuple:
    """d⟨gs, vs⟩ / d wrt: the second backward pass of jvp and vhp (None where unused)."""
    used = [(g, vk) for g, vk in zip(gs, vs, strict=True) if g is not None]
    if not used:
        return (None,) * len(wrt)
    outs, weights = [g for g, _ in used], [vk for _, vk in used]
    return grad(outs, wrt, weights, create_graph=create_graph, allow_unused=True)


def _detached(outs: tuple, create_graph: bool) -> tuple:
    return outs if create_graph else tuple(o.detach() for o in outs)
