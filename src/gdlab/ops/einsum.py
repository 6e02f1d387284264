"""``einsum``: one row of the op table for every Einstein summation, with its gradient.

The equation is first made explicit (``"ij,jk"`` -> ``"ij,jk->ik"``, ``...`` replaced by
letters), so the forward and the VJPs read one form. The gradient for operand i is another
einsum: the output gradient contracted with the other operands, onto operand i's letters
(see ``_vjp``), so it is differentiable again.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from gdlab.ops.dispatch import apply
from gdlab.ops.registry import defop
from gdlab.tensor import Tensor

__all__ = ["EINSUM", "einsum", "explicit_equation"]


def explicit_equation(equation: str, ndims: list[int]) -> str:
    """``equation`` with its output written out and ellipses replaced by letters.

    Example:
        >>> explicit_equation("...ij,jk", [3, 2])
        'aij,jk->aik'
    """
    if not isinstance(equation, str):
        raise TypeError(f"einsum: equation must be a str, got {type(equation).__name__}")
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(ndims):
        raise ValueError(
            f"einsum: equation {equation!r} has {len(ins)} operands but {len(ndims)} were given"
        )
    free = [c for c in string.ascii_letters if c not in eq]
    widths = [nd - (len(s) - 3) for s, nd in zip(ins, ndims, strict=True) if "..." in s]
    ell = "".join(free[: max(widths, default=0)])
    expanded = []
    for s, nd in zip(ins, ndims, strict=True):
        if "..." in s:
            k = nd - (len(s) - 3)
            s = s.replace("...", ell[len(ell) - k :] if k > 0 else "")
        if len(s) != nd or not all(c in string.ascii_letters for c in s):
            raise ValueError(
                f"einsum: subscripts {s!r} of equation {equation!r} do not fit an operand "
                f"with {nd} dimensions"
            )
        expanded.append(s)
    if arrow:
        out = out.replace("...", ell)
    else:  # torch/NumPy: the letters used once, sorted, after the ellipsis dimensions
        letters = "".join(expanded)
        out = ell + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell)
        )
    return ",".join(expanded) + "->" + out


def _forward(*xs: np.ndarray, equation: str) -> np.ndarray:
    return np.asarray(np.einsum(equation, *xs, optimize=len(xs) > 2))


def _vjp(i: int, g: Any, out: Any, *xs: Any, equation: str) -> Any:
    """The gradient for operand ``i``, itself one einsum (so it is differentiable again
    under ``create_graph``): the output gradient contracted with the other operands onto
    operand i's letters, with a vector of ones for a letter only operand i has (broadcast
    back), an identity matrix for a repeated letter (back onto the diagonal), and a ones(1)
    for a dimension of size 1 that broadcasting stretched (summed back)."""
    lhs, res = equation.split("->")
    ins = lhs.split(",")
    x = xs[i]
    operands = [g, *(xs[j] for j in range(len(xs)) if j != i)]
    subs = [res, *(ins[j] for j in range(len(xs)) if j != i)]
    size: dict[str, int] = {}  # each letter's size in the contraction (1 only if 1 everywhere)
    for sub, op in zip(subs, operands, strict=True):
        for c, n in zip(sub, op.shape, strict=True):
            size[c] = max(size.get(c, 1), n)
    free = iter(c for c in string.ascii_letters if c not in equation)
    dtype = x.dtype
    out_subs = []
    for p, c in enumerate(ins[i]):
        n = x.shape[p]
        if c in ins[i][:p]:  # a repeated letter: back onto the diagonal
            f = next(free)
            operands.append(np.eye(n, dtype=dtype))
            subs.append(c + f)
            out_subs.append(f)
        elif c not in size:  # summed away in the forward: broadcast back
            operands.append(np.ones(n, dtype=dtype))
            subs.append(c)
            size[c] = n
            out_subs.append(c)
        elif n == 1 and size[c] != 1:  # stretched by broadcasting: summed back
            f = next(free)
            operands.append(np.ones(1, dtype=dtype))
            subs.append(f)
            out_subs.append(f)
        else:
            out_subs.append(c)
    eq = ",".join(subs) + "->" + "".join(out_subs)
    if isinstance(g, Tensor):
        return einsum(eq, *operands)
    return np.einsum(eq, *operands, optimize=len(operands) > 2)


EINSUM = defop("einsum", _forward, variadic=_vjp)


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation over the operands' dimensions (torch.einsum), differentiable.

    ``einsum("ij,jk->ik", a, b)`` is ``a @ b``; ``"ii->"`` the trace; ``"bij,bjk->bik"`` a
    batched product; ``"...ij->...ji"`` a transpose of the last two dimensions. The
    operands may also be given as one list (``einsum(eq, [a, b])``), as torch allows.

    Example:
        >>> a, b = gdlab.ones(2, 3), gdlab.ones(3, 4)
        >>> gdlab.einsum("ij,jk->ik", a, b).shape
        (2, 4)
    """
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    if not operands:
        raise ValueError("einsum: expected at least one operand")
    ts = [x if isinstance(x, Tensor) else Tensor._wrap(np.asarray(x)) for x in operands]
    explicit = explicit_equation(equation, [t.ndim for t in ts])
    dtypes = {t.dtype for t in ts}
    if len(dtypes) > 1:
        raise TypeError(
            f"einsum: operands must have one dtype, got {sorted(str(d) for d in dtypes)} "
            "(convert with .to(dtype) as torch requires)"
        )
    return apply(EINSUM, *ts, equation=explicit)
