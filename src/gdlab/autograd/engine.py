"""Reverse-mode automatic differentiation: the backward pass and ``grad``.

The engine is the only place that knows about broadcasting: every vector-Jacobian product
(VJP) in the op table is written as if shapes matched, and ``unbroadcast`` sums the result
back to the input's shape here. Graph nodes are ``gdlab.autograd.node.Node``'s fields as a
plain tuple (unpacked by name; ``SEQ`` names the heap key); grad mode is in
``gdlab.autograd.grad_mode``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any

import numpy as np

from gdlab.autograd.node import FREED, SEQ, Node, RawNode, passthrough
from gdlab.autograd.sparse import RowSparseGrad
from gdlab.autograd.state import STATE

if TYPE_CHECKING:
    from gdlab.tensor import Tensor

__all__ = ["backward", "grad", "iter_graph", "unbroadcast"]

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time."
)


def unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``g`` over the axes that broadcasting added or stretched, to get ``shape``.

    ``g`` is an array, or a Tensor under ``create_graph`` (its sums are then recorded ops).
    """
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    if isinstance(g, np.generic):  # a sum of an array down to 0-d is a NumPy scalar
        g = np.asarray(g)
    # The sums give ``shape`` exactly: no reshape view, so a leaf can take the array as it is.
    return g if g.shape == shape else g.reshape(shape)


def _topological_order(roots: Sequence[Tensor]) -> list[tuple[int, Tensor]]:
    """``(seq, tensor)`` for the non-leaf tensors reachable from ``roots``, each before every
    tensor it was computed from: collected by an iterative walk (no recursion limit), then
    sorted newest first (seq numbers are unique, so the tensors are never compared)."""
    found: dict[int, tuple[int, Tensor]] = {}
    stack = [r for r in roots if r._node is not None]
    for r in stack:
        found[id(r)] = (r._node[SEQ], r)
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()._node
        if node is FREED:
            raise RuntimeError(_FREED_MESSAGE)
        _, _, _, parents, _, _, _ = node
        for _, x, v in parents:
            if x._version != v:
                x = _at_version(x, v, node)
            xn = x._node
            if xn is not None:
                key = id(x)
                if key not in found:
                    found[key] = (xn[SEQ], x)
                    push(x)
    return sorted(found.values())


def _version_error(x: Tensor, node: RawNode, expected: int) -> RuntimeError:
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: a tensor of shape {x.shape} used by {Node.of(node).name()} is at "
        f"version {x._version}; expected version {expected} instead."
    )


def _at_version(x: Tensor, v: int, node: RawNode) -> Tensor:
    """The tensor that was ``x`` at version ``v``: what recorded in-place ops left of it
    (``Prior``: its value and node then, intact). When ``x`` was overwritten outside the graph
    instead (under no_grad, through ``.data``), the values ``node`` needs are gone: torch's
    version error."""
    y = x
    while y._version != v:
        prior = y._prior
        if prior is None or prior.tensor._version < v:
            raise _version_error(x, node, v)
        y = prior.tensor
    return y


def _check_saved(t: Tensor, node: RawNode) -> None:
    expected = 0 if t._prior is None else t._prior.node_version
    if t._version != expected:  # the output (some VJPs read it) was overwritten in place
        raise _version_error(t, node, expected)
    _, _, _, _, saved, _, _ = node
    for x, v in saved:
        if x._version != v:
            _at_version(x, v, node)


def _run(
    roots: Sequence[Tensor],
    root_grads: Sequence[np.ndarray],
    retain_graph: bool,
    wanted: dict[int, Tensor] | None,
) -> dict[int, np.ndarray]:
    """Propagate ``root_grads`` back through the graph.

    Leaf gradients accumulate into ``.grad`` when ``wanted`` is None; otherwise the gradients of
    the ``wanted`` tensors are returned and no ``.grad`` is touched (``autograd.grad``).
    This loop runs once per node of every backward pass, so it is kept flat: pending
    gradients are keyed by the tensors themselves (their hash is their identity, so the
    overloaded ``==`` is never called), names are bound to locals, and a leaf is just a key
    left in ``grads`` once every node has been popped.
    """
    grads: dict[Tensor, np.ndarray] = {}
    # Pending non-leaf tensors, newest first: a tensor is always newer than its inputs, so
    # when one is popped every reachable tensor computed from it has already passed its
    # gradient on. No separate graph walk or sort is needed.
    heap: list[tuple[int, Tensor]] = []
    for r, g in zip(roots, root_grads, strict=True):
        prev = grads.get(r)
        if prev is not None:
            grads[r] = prev + g
            continue
        grads[r] = g
        node = r._node
        if node is not None:
            if node is FREED:
                raise RuntimeError(_FREED_MESSAGE)
            heappush(heap, (node[SEQ], r))
    found: dict[int, np.ndarray] = {}
    pop, get, push = grads.pop, grads.get, heappush
    ndarray, asarray, freed = np.ndarray, np.asarray, FREED
    t = None  # the next tensor, when it is known without the heap (a chain: always)
    while True:
        if t is None:
            if not heap:
                break
            t = heappop(heap)[1]
        g = pop(t)
        if t._hooks is not None or wanted is not None:  # one test on the common path
            g = _visit(t, g, wanted, found)
        node = t._node
        op, arrays, kwargs, parents, saved, _, exact = node
        if t._version or saved:
            _check_saved(t, node)
        vjps = op.vjps
        out = t.data
        nxt = None  # the only pending tensor, while the heap is empty
        for i, x, v in parents:
            if x._version != v:
                x = _at_version(x, v, node)
            vjp = vjps[i]
            if vjp is passthrough:
                gx = g
            else:
                if kwargs:
                    gx = vjp(g, out, *arrays, **kwargs)
                elif len(arrays) == 2:  # spelled out: cheaper than a *arrays call
                    gx = vjp(g, out, arrays[0], arrays[1])
                elif len(arrays) == 1:
                    gx = vjp(g, out, arrays[0])
                else:
                    gx = vjp(g, out, *arrays)
                if type(gx) is not ndarray and type(gx) is not RowSparseGrad:
                    gx = asarray(gx)
            if not exact and gx.shape != x.data.shape:
                gx = unbroadcast(gx, x.data.shape)
            prev = get(x)
            if prev is None:
                grads[x] = gx
                xn = x._node
                if xn is not None:
                    if xn is freed:
                        raise RuntimeError(_FREED_MESSAGE)
                    if nxt is None and not heap:
                        nxt = x
                    else:
                        if nxt is not None:
                            push(heap, (nxt._node[SEQ], nxt))
                            nxt = None
                        push(heap, (xn[SEQ], x))
            else:
                grads[x] = prev + gx  # a new array: pending gradients are never modified
        if not retain_graph:
            t._node = freed  # drops the saved arrays; a later backward raises
        t = nxt
    for x, g in grads.items():  # the leaves: their hooks run before anything sees g
        if x._hooks is not None:
            grads[x] = x._hooks.apply(x, g)
    if wanted is None:
        _accumulate_leaves(grads, root_grads, retain_graph)
    else:
        for x, g in grads.items():
            if id(x) in wanted:
                found[id(x)] = _owned(g, x)
    return found


def _visit(t: Tensor, g: Any, wanted: dict[int, Tensor] | None, found: dict[int, Any]) -> Any:
    """What ``_run`` does with a non-leaf's complete gradient ``g`` besides passing it on:
    its hooks (which may replace it), then ``autograd.grad``'s result or ``retain_grad``."""
    hooks = t._hooks
    if hooks is not None:
        g = hooks.apply(t, g)
    if wanted is not None:
        if id(t) in wanted:
            found[id(t)] = _owned(g, t)
    elif hooks is not None and hooks.retains_grad:
        _retain(t, g)
    return g


def _run_graph(
    roots: Sequence[Tensor],
    root_grads: Sequence[Tensor],
    retain_graph: bool,
    wanted: dict[int, Tensor] | None,
) -> dict[int, Tensor]:
    """``_run`` for ``create_graph=True``: the same walk, with the gradients as Tensors and
    every VJP of the op table applied to Tensors (NumPy hands its functions back to gdlab,
    ``gdlab.ops.numpy_protocol``), so each gradient is recorded and differentiable again.

    Leaf gradients accumulate into ``.grad`` as Tensors when ``wanted`` is None; otherwise the
    ``wanted`` tensors' gradients are returned.
    """
    grads: dict[Tensor, Tensor] = {}
    heap: list[tuple[int, Tensor]] = []
    for r, g in zip(roots, root_grads, strict=True):
        prev = grads.get(r)
        grads[r] = g if prev is None else prev + g
        if prev is None and r._node is not None:
            if r._node is FREED:
                raise RuntimeError(_FREED_MESSAGE)
            heappush(heap, (r._node[SEQ], r))
    found: dict[int, Tensor] = {}
    mode = (STATE.grad_enabled, STATE.differentiating)
    STATE.grad_enabled = STATE.differentiating = True
    try:
        while heap:
            t = heappop(heap)[1]
            g = grads.pop(t)
            if t._hooks is not None:
                g = t._hooks.apply(t, g)
            if wanted is not None and id(t) in wanted:
                found[id(t)] = g
            elif wanted is None and t._hooks is not None and t._hooks.retains_grad:
                t._grad = g if t._grad is None else t._grad + g
            node = t._node
            _, arrays, _, parents, saved, _, _ = node
            if t._version or saved:
                _check_saved(t, node)
            args = list(arrays)
            parents = [(i, _at_version(x, v, node), v) for i, x, v in parents]
            for i, x, _ in parents:
                args[i] = x  # the rule sees the input tensors, and ``out`` is t itself
            for i, x, _ in parents:
                gx = _differentiable_vjp(node, i, g, t, args)
                if gx.shape != x.data.shape:
                    gx = unbroadcast(gx, x.data.shape)
                if gx.dtype != x.data.dtype:
                    gx = gx.to(x.data.dtype)
                prev = grads.get(x)
                if prev is not None:
                    grads[x] = prev + gx
                    continue
                grads[x] = gx
                if x._node is not None:
                    if x._node is FREED:
                        raise RuntimeError(_FREED_MESSAGE)
                    heappush(heap, (x._node[SEQ], x))
            if not retain_graph:
                t._node = FREED
    finally:
        STATE.grad_enabled, STATE.differentiating = mode
    for x, g in grads.items():
        if x._hooks is not None:
            g = x._hooks.apply(x, g)
        if wanted is not None:
            if id(x) in wanted:
                found[id(x)] = g
        else:
            x._grad = g if x._grad is None else x._grad + g
    return found


def _differentiable_vjp(node: RawNode, i: int, g: Tensor, out: Tensor, args: list) -> Tensor:
    """The VJP of input ``i`` applied to tensors, or a clear error for a rule that cannot
    run on tensors (one that writes into arrays in place, or calls an unlisted function)."""
    op, _, kwargs, _, _, _, _ = node
    vjp = op.vjps[i]
    if vjp is passthrough:
        return g
    try:
        gx = vjp(g, out, *args, **kwargs)
    except (TypeError, AttributeError, ValueError, RuntimeError) as e:  # in-place on a Tensor
        raise RuntimeError(_higher_order_message(node, e)) from e
    if not hasattr(gx, "_node"):  # an array: the rule left the tensors, so no graph
        raise RuntimeError(_higher_order_message(node, None))
    return gx


def _higher_order_message(node: RawNode, error: Exception | None) -> str:
    if error is None:
        why = "it computes on arrays"
    else:  # the first line only: NumPy's messages can quote whole arrays
        why = f"{type(error).__name__}: {str(error).splitlines()[0][:100]}"
    op = Node.of(node).op
    return (
        f"create_graph=True: the gradient rule of {op.name!r} cannot be differentiated "
        f"({why}); higher-order gradients through this op are not supported"
    )


def _owned(g: np.ndarray, like: Tensor) -> np.ndarray:
    """A fresh array of ``like``'s dtype: gradients flowing through the graph may be shared
    (a passthrough VJP hands the same array to both inputs of an add, or the caller's own
    ``grad_outputs``), so what ``autograd.grad`` returns must not alias them."""
    if type(g) is RowSparseGrad:
        return g.astype(like.data.dtype)  # a new values array
    return np.array(g, dtype=like.data.dtype, copy=True)


def _retain(t: Tensor, g: np.ndarray) -> None:
    """``retain_grad`` on a non-leaf: ``g`` still flows on to its inputs, so always copied."""
    if t._grad is None:
        t._grad = np.array(g, dtype=t.data.dtype, copy=True)
    else:
        t._grad += g


def _accumulate_leaves(
    grads: dict[Tensor, np.ndarray], root_grads: Sequence[np.ndarray], retain_graph: bool
) -> None:
    """Add each leaf's gradient into its ``.grad``; a leaf without one takes the array itself
    when nothing else can see it, else a copy.

    The engine never modifies a pending gradient, so after backward the only holders of an
    array that a VJP or a sum made are the leaves given it. A copy is needed when the array
    may be seen elsewhere: a view (``base`` is set: of another gradient, of a saved input),
    a caller's root gradient, an array already given to another leaf (a passthrough VJP
    hands the same array to both inputs of an add), a read-only array, or any array while
    the graph is retained (a VJP may keep what it returned in its node, as rnn_ops does).
    VJPs never return an array they keep elsewhere or one of their inputs (op-table tests).
    """
    taken = {id(g) for g in root_grads}  # arrays a leaf may not take without copying
    for x, g in grads.items():
        dtype = x.data.dtype
        if type(g) is RowSparseGrad:  # made by a sparse VJP for this leaf alone
            g = g.astype(dtype) if g.dtype != dtype or retain_graph else g
            x._grad = g if x._grad is None else x._grad + g  # dense + sparse is dense
            continue
        if g.dtype != dtype:
            g = g.astype(dtype)  # a new array
        elif x._grad is None and (
            retain_graph or g.base is not None or id(g) in taken or not g.flags.writeable
        ):
            g = np.array(g, copy=True)
        if x._grad is None:
            taken.add(id(g))
            x._grad = g
        else:
            x._grad += g


def _root_gradient(t: Tensor, gradient: object) -> np.ndarray:
    if gradient is None:
        if t.data.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        g = np.empty(t.data.shape, t.data.dtype)
        g.fill(1)  # not np.ones (nor np.ones_like): its Python layer costs twice as much
        return g
    if not isinstance(gradient, np.ndarray):  # an ndarray's own .data is a memory buffer
        gradient = getattr(gradient, "data", gradient)
    g = np.asarray(gradient)
    if g.shape != t.data.shape:
        raise ValueError(
            f"backward: gradient of shape {g.shape} does not match the output's shape "
            f"{t.data.shape}"
        )
    return g.astype(t.data.dtype, copy=False)


def _root_tensor(t: Tensor, gradient: object) -> Tensor:
    """The root gradient for ``create_graph``: a Tensor given is used as it is (its graph
    included); anything else becomes a constant tensor (through ``Tensor._wrap``, reached
    from ``t``: this module cannot import the Tensor class, which imports it)."""
    if hasattr(gradient, "_node"):
        _root_gradient(t, gradient)  # the shape check
        return gradient
    return t._wrap(_root_gradient(t, gradient))


def _per_output(grads: object, single: bool, n: int, name: str) -> list:
    """One gradient (or None) per output: a single output takes ``grads`` as it is."""
    if grads is None:
        return [None] * n
    if single:
        return [grads]
    if isinstance(grads, list | tuple):
        if len(grads) != n:
            raise ValueError(f"{name} has {len(grads)} entries but there are {n} outputs")
        return list(grads)
    if n == 1:
        return [grads]
    raise TypeError(f"{name} must be a sequence of {n} gradients, got {type(grads).__name__}")


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: object = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> None:
    """Accumulate d(tensors)/d(leaf) into each leaf's ``.grad`` (``torch.autograd.backward``).

    With ``create_graph`` the gradients are Tensors with a graph (``.grad`` becomes a Tensor),
    differentiable again; ``retain_graph`` defaults to ``create_graph``, as torch's.
    """
    single = hasattr(tensors, "_node")
    roots = [tensors] if single else list(tensors)
    grad_tensors = _per_output(grad_tensors, single, len(roots), "grad_tensors")
    for r in roots:
        if not r.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
            )
    retain = create_graph if retain_graph is None else bool(retain_graph)
    if create_graph:
        root_grads = [_root_tensor(r, g) for r, g in zip(roots, grad_tensors, strict=True)]
        _run_graph(roots, root_grads, retain, wanted=None)
        return
    root_grads = [_root_gradient(r, g) for r, g in zip(roots, grad_tensors, strict=True)]
    _run(roots, root_grads, retain, wanted=None)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: object = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Any, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``.

    Returns NumPy arrays; with ``create_graph``, Tensors with a graph (differentiable again,
    as ``torch.autograd.grad``'s), and ``retain_graph`` defaults to ``create_graph``.

    Example:
        >>> x = gdlab.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
        >>> (g,) = grad((x**3).sum(), x, create_graph=True)      # 3x²
        >>> grad(g.sum(), x)[0]                                  # 6x
        array([ 6., 12.])
    """
    single = hasattr(outputs, "_node")
    outs = [outputs] if single else list(outputs)
    ins = [inputs] if hasattr(inputs, "_node") else list(inputs)
    grad_outputs = _per_output(grad_outputs, single, len(outs), "grad_outputs")
    for x in ins:
        if not x.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    retain = create_graph if retain_graph is None else bool(retain_graph)
    wanted = {id(x): x for x in ins}
    if create_graph:
        root_grads = [_root_tensor(o, g) for o, g in zip(outs, grad_outputs, strict=True)]
        found = _run_graph(outs, root_grads, retain, wanted)
    else:
        root_grads = [_root_gradient(o, g) for o, g in zip(outs, grad_outputs, strict=True)]
        found = _run(outs, root_grads, retain, wanted)
    result = tuple(found.get(id(x)) for x in ins)
    if not allow_unused and any(r is None for r in result):
        raise RuntimeError(
            "One of the differentiated Tensors appears to not have been used in the graph. "
            "Set allow_unused=True if this is the desired behavior."
        )
    return result


def iter_graph(t: Tensor) -> Iterator[Tensor]:
    """Every non-leaf tensor the graph of ``t`` reaches, outputs first (for inspection)."""
    for _, x in _topological_order([t]):
        yield x
