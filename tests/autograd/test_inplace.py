"""In-place operations on tensors in the graph (issue 13): recorded as torch records them.

``c += c + 1`` on a non-leaf, ``add_/sub_/mul_/div_/clamp_/zero_/fill_/copy_`` and the
augmented operators: the tensor's node becomes the in-place op's node, and the gradients
equal torch's on every row of the table. A leaf that requires grad refuses, with torch's
error; a tensor overwritten outside the graph (no_grad) is still caught by its version.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gdlab


def _iadd(c, o):
    c += o
    return c


def _isub(c, o):
    c -= o
    return c


def _imul(c, o):
    c *= o
    return c


def _idiv(c, o):
    c /= o
    return c


# Each row: f(lib, x, w) -> output; written once, run under torch and under gdlab.
CASES = {
    "c += c + 1 (d2l)": lambda L, x, w: _iadd(x * w, (x * w) + 1),
    "c += c + 1, same c": lambda L, x, w: (lambda c: _iadd(c, c + 1))(x * w),
    "c += c + 2 then used": lambda L, x, w: (lambda c: _iadd(c, c + 2) * x)(x * w),
    "-=": lambda L, x, w: _isub(x * 3, w),
    "*= tensor": lambda L, x, w: _imul(x + 1, w),
    "/= tensor": lambda L, x, w: _idiv(x * w, w * w + 1),
    "*= number": lambda L, x, w: _imul(x * w, 2.5),
    "mul_": lambda L, x, w: (x * 2).mul_(w),
    "multiply_": lambda L, x, w: (x + w).multiply_(x),
    "div_ sub_ add_ alpha": lambda L, x, w: (x * 3).div_(w).sub_(x, alpha=2).add_(w, alpha=0.5),
    "clamp_": lambda L, x, w: (x * w).clamp_(-0.6, 1.0),
    "clamp_ min only": lambda L, x, w: (x * w).clamp_(min=0.0),
    "zero_": lambda L, x, w: (x * w).zero_() + x,
    "fill_ number": lambda L, x, w: (x * w).fill_(2.0) * x,
    "fill_ tensor": lambda L, x, w: (x * w).fill_(w[0]) * x,
    "copy_": lambda L, x, w: (x * 1).copy_(w * w) * x,
    "copy_ broadcast": lambda L, x, w: (x * 1).copy_(w[1]) + x,
    "constant += graph": lambda L, x, w: _iadd(L.zeros(3, dtype=L.float64), x * w),
    "constant.mul_(graph)": lambda L, x, w: L.ones(3, dtype=L.float64).mul_(w) * x,
    "chain of three": lambda L, x, w: (x * w).add_(1).mul_(x).sub_(w).sum(),
    "broadcast operand": lambda L, x, w: (x * w).add_(w.sum()),
    "float64 += float32": lambda L, x, w: _iadd(x * w, (x * w).float()),
}


def _run(lib, f):
    x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
    w = lib.tensor([1.5, 2.0, -0.5], dtype=lib.float64, requires_grad=True)
    out = f(lib, x, w)
    weights = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(out.shape), dtype=lib.float64)
    (out * weights).sum().backward()
    grads = [np.zeros(3) if t.grad is None else np.asarray(t.grad) for t in (x, w)]
    return out.detach().numpy(), *grads


@pytest.mark.parametrize("name", CASES)
def test_inplace_in_the_graph_matches_torch(name):
    mine, torchs = _run(gdlab, CASES[name]), _run(torch, CASES[name])
    for a, b in zip(mine, torchs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


# torch refuses these (the changed tensor was saved by a node: exp's output, c in c * c);
# gdlab's recorded in-place op writes a new array, so the saved values are intact and the
# gradient is the out-of-place expression's (README, "Differences from PyTorch").
WHERE_TORCH_REFUSES = [
    (lambda L, x, w: _imul(x.exp(), 2.5), lambda L, x, w: x.exp() * 2.5),
    (lambda L, x, w: (lambda c: _iadd(c, c * c))(x * w), lambda L, x, w: x * w + (x * w) ** 2),
    (lambda L, x, w: (x * w).sigmoid().mul_(w), lambda L, x, w: (x * w).sigmoid() * w),
]


@pytest.mark.parametrize("inplace, out_of_place", WHERE_TORCH_REFUSES)
def test_where_torch_refuses_gdlab_gives_the_out_of_place_gradient(inplace, out_of_place):
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _run(torch, inplace)
    mine, torchs = _run(gdlab, inplace), _run(torch, out_of_place)
    for a, b in zip(mine, torchs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_the_node_becomes_the_inplace_ops():
    x = gdlab.tensor([1.0, 2.0], requires_grad=True)
    c = x * 2
    assert c.add_(1) is c and c.grad_fn.name() == "AddBackward" and not c.is_leaf
    c.mul_(3)
    assert c.grad_fn.name() == "MulBackward" and c._version == 2
    z = gdlab.zeros(2)
    z += x
    assert z.requires_grad and not z.is_leaf  # torch: a constant joins the graph


def test_retain_grad_and_grad_through_a_recorded_inplace_op():
    x = gdlab.tensor([1.0, 2.0], requires_grad=True)
    c = x * x
    c.retain_grad()
    c += 1
    (g,) = gdlab.autograd.grad(c.sum(), [x], retain_graph=True)
    np.testing.assert_array_equal(np.asarray(g), [2.0, 4.0])
    c.sum().backward()
    np.testing.assert_array_equal(c.grad, [1.0, 1.0])


def test_create_graph_through_inplace_ops_matches_torch():
    def f(lib, x):
        c = x * x
        c *= x  # x³
        (g,) = lib.autograd.grad(c.sum(), [x], create_graph=True)
        return g

    gx = gdlab.tensor([1.0, -2.0], dtype=gdlab.float64, requires_grad=True)
    tx = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    f(gdlab, gx).sum().backward()
    f(torch, tx).sum().backward()
    np.testing.assert_allclose(gx.grad, tx.grad.numpy())  # 6x


@pytest.mark.parametrize(
    "op",
    [
        lambda x: x.add_(1),
        lambda x: x.mul_(2),
        lambda x: x.zero_(),
        lambda x: x.fill_(1.0),
        lambda x: x.copy_(gdlab.ones(2)),
        lambda x: x.clamp_(0.0),
        lambda x: _iadd(x, 1),
    ],
)
def test_a_leaf_that_requires_grad_refuses_as_torch(op):
    x = gdlab.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used"):
        op(x)
    with gdlab.no_grad():
        op(x)  # what an optimizer does


def test_overwriting_a_graph_tensor_outside_the_graph_is_still_caught():
    x = gdlab.tensor([1.0, 2.0], requires_grad=True)
    c = x * 2
    y = (c * c).sum()
    with gdlab.no_grad():
        c.add_(1)  # c's old values, saved by c * c, are gone
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_inplace_result_type_and_shape_checks_as_torch():
    x = gdlab.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="add_: output with shape \\(2,\\)"):
        (x * 1).add_(gdlab.ones(3, 2))
    n = gdlab.tensor([1, 2])
    with pytest.raises(RuntimeError, match="result type float32 can't be cast"):
        n.add_(x)
    with pytest.raises(RuntimeError, match="item assignment"):
        (x * 1)[0] = 5.0
