"""The Tensor object: construction and dtypes, grad handling, NumPy interop, repr,
in-place updates and their version counter, operators and torch-named methods."""

from __future__ import annotations

import ast
import importlib
import inspect

import numpy as np
import pytest

import gdlab
from gdlab.ops.methods import METHODS


@pytest.mark.parametrize(
    "data, dtype",
    [
        (1.0, np.float32),
        ([1.0, 2.0], np.float32),
        ([[1, 2]], np.int64),
        (True, np.bool_),
        (np.zeros(2, dtype=np.float64), np.float64),
        (np.zeros(2, dtype=np.float16), np.float16),
        (np.zeros(2, dtype=np.int32), np.int32),
    ],
)
def test_tensor_dtype_rules(data, dtype):
    assert gdlab.tensor(data).dtype == dtype


def test_set_default_dtype_changes_python_floats():
    try:
        gdlab.set_default_dtype(gdlab.float64)
        assert gdlab.tensor([1.0]).dtype == np.float64
        assert (gdlab.tensor([1, 2]) * 0.5).dtype == np.float64
    finally:
        gdlab.set_default_dtype("float32")
    assert gdlab.get_default_dtype() == np.float32
    with pytest.raises(TypeError, match="float32 or float64"):
        gdlab.set_default_dtype("int64")


def test_tensor_copies_numpy_data_and_from_numpy_shares():
    a = np.zeros(3)
    t = gdlab.tensor(a)
    a[0] = 1.0
    assert t.data[0] == 0.0
    s = gdlab.from_numpy(a)
    a[1] = 2.0
    assert s.data[1] == 2.0


def test_properties_and_conversions():
    x = gdlab.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.shape == (2, 3) and x.ndim == 2 and x.dim() == 2 and x.numel() == 6
    assert x.size() == (2, 3) and x.size(1) == 3 and len(x) == 2
    assert x.dtype == np.float32 and x.type() == "float32"
    assert isinstance(x.numpy(), np.ndarray) and np.asarray(x) is x.data
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert x[1, 2].item() == 6.0 and float(x[0, 0]) == 1.0 and int(x[0, 1]) == 2
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert [r.shape for r in x] == [(3,), (3,)]
    assert x.double().dtype == np.float64 and x.long().dtype == np.int64
    assert x.to("float64").dtype == np.float64 and x.bool().dtype == np.bool_
    assert gdlab.tensor([3])[0].__index__() == 3


def test_repr_is_readable():
    assert repr(gdlab.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(gdlab.tensor([1, 2])) == "tensor([1, 2])"
    assert "dtype=float64" in repr(gdlab.tensor(np.ones(2)))
    assert "requires_grad=True" in repr(gdlab.tensor([1.0], requires_grad=True))
    y = gdlab.tensor([1.0], requires_grad=True) * 2
    assert "grad_fn=<MulBackward>" in repr(y)


def test_grad_is_assignable_and_cast_to_the_tensor_dtype():
    x = gdlab.tensor([1.0, 2.0], requires_grad=True)
    x.grad = np.array([1.0, 1.0])  # float64 assigned to a float32 tensor
    assert x.grad.dtype == np.float32
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [4.0, 4.0])
    x.grad = None
    assert x.grad is None


def test_assigned_grad_of_the_right_dtype_is_kept_as_it_is():
    """An ndarray's .data is its memory buffer: the setter must not rewrap it."""
    x = gdlab.tensor([1.0, 2.0], requires_grad=True)
    g = np.array([1.0, 1.0], dtype=np.float32)
    x.grad = g
    assert x.grad.data is g
    x.grad *= 2.0  # an optimizer's in-place update goes through the setter
    assert x.grad.data is g and g[0] == 2.0
    x.grad = gdlab.tensor([3.0, 4.0])
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_requires_grad_flag_rules():
    x = gdlab.tensor([1.0])
    assert x.requires_grad_() is x and x.requires_grad and x.is_leaf
    y = x * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        gdlab.tensor([1.0]).retain_grad()


def test_inplace_ops_bump_the_version_and_keep_dtype():
    x = gdlab.tensor([1.0, 2.0])
    v = x._version
    x.add_(1).mul_(2).sub_(gdlab.tensor([1.0, 1.0]), alpha=2).div_(2)
    x += 1
    x *= 2.0
    x[0] = 10.0
    assert x._version == v + 7
    np.testing.assert_array_equal(x.data, [10.0, 6.0])
    assert x.dtype == np.float32
    x.zero_()
    assert x.tolist() == [0.0, 0.0]
    x.fill_(3).clamp_(max=2)
    x.copy_(np.array([5.0, 6.0]))
    assert x.tolist() == [5.0, 6.0]


def test_comparisons_and_logic_give_bool_tensors_without_grad():
    x = gdlab.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = (x > 1.5) & (x <= 3) | (x == 1.0)
    assert m.dtype == np.bool_ and not m.requires_grad
    assert m.tolist() == [True, True, True] and (~m).tolist() == [False] * 3
    assert (x != 2.0).tolist() == [True, False, True] and (x < 2).tolist() == [True, False, False]
    assert (x >= 2).tolist() == [False, True, True]


@pytest.mark.parametrize(
    "expr, want",
    [
        (lambda x: x + 1, [2.0, 3.0]),
        (lambda x: 1 - x, [0.0, -1.0]),
        (lambda x: x * x, [1.0, 4.0]),
        (lambda x: 2 / x, [2.0, 1.0]),
        (lambda x: x**2, [1.0, 4.0]),
        (lambda x: 2**x, [2.0, 4.0]),
        (lambda x: -x, [-1.0, -2.0]),
        (lambda x: +x, [1.0, 2.0]),
        (lambda x: abs(-x), [1.0, 2.0]),
        (lambda x: np.array([1.0, 1.0]) + x, [2.0, 3.0]),  # NumPy defers to the Tensor
        (lambda x: [1.0, 1.0] * x, [1.0, 2.0]),
        (lambda x: x @ gdlab.tensor([1.0, 1.0]), 3.0),
        (lambda x: x.expand_as(gdlab.ones(2, 2))[1], [1.0, 2.0]),
        (lambda x: x.view_as(gdlab.ones(2, 1))[:, 0], [1.0, 2.0]),
    ],
)
def test_operators(expr, want):
    y = expr(gdlab.tensor([1.0, 2.0]))
    assert isinstance(y, gdlab.Tensor)
    np.testing.assert_allclose(y.data, want)


def test_numpy_array_on_the_left_keeps_the_graph():
    x = gdlab.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 4.0])


def _isub(a, x):
    a -= x  # a hand-written update: p.data -= p.grad
    return a


@pytest.mark.parametrize(
    "update",
    [
        _isub,
        lambda a, x: np.add(a, x, out=a),
        lambda a, x: np.multiply(x, a, out=(a,)),
        lambda a, x: np.negative(x, out=a),
        lambda a, x: np.add(a, x, out=a, where=np.asarray(x) > 0),
        lambda a, x: np.add.reduce(x, out=a[:1], keepdims=True),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ufuncs_writing_into_arrays_compute_on_the_tensors_arrays(update, dtype):
    """A ufunc writing into NumPy arrays (``out=``) with tensor operands writes what it writes
    with their arrays, bit for bit, into the array given, outside any graph (as torch's
    ``p.data`` updates)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal(5).astype(dtype)
    b = rng.standard_normal(5).astype(dtype)
    want = a.copy()
    update(want, b)
    for operand in (gdlab.tensor(b, requires_grad=True), gdlab.nn.Parameter(b)):
        got = a.copy()
        assert np.shares_memory(update(got, operand), got)  # written into, not a new array
        np.testing.assert_array_equal(got, want)
        assert operand.grad is None and operand.grad_fn is None


def test_ufunc_writing_into_a_tensor_is_refused():
    t = gdlab.tensor([1.0, 2.0])
    with pytest.raises(TypeError):
        np.add(np.ones(2, np.float32), t, out=(t,))


def test_detach_and_clone():
    x = gdlab.tensor([1.0], requires_grad=True)
    c = x.clone()
    assert c.requires_grad and not np.shares_memory(c.data, x.data)
    d = x.detach()
    assert np.shares_memory(d.data, x.data) and not d.requires_grad


def test_methods_mirror_functions():
    x = gdlab.tensor([[0.5, 1.5], [2.0, 1.0]])
    for name in ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "softplus"]:
        np.testing.assert_array_equal(getattr(x, name)().data, getattr(gdlab, name)(x).data)
    np.testing.assert_array_equal(x.clamp(1, 2).data, gdlab.clamp(x, 1, 2).data)
    np.testing.assert_array_equal(x.where(x > 1, 0.0).data, gdlab.where(x > 1, x, 0.0).data)
    np.testing.assert_array_equal(x.pow(2).data, gdlab.pow(x, 2).data)
    assert gdlab.clip is gdlab.clamp


def _operand(kind):
    return {
        "f32 grad": lambda: gdlab.tensor([[1.5, -2.0], [0.5, 3.0]], requires_grad=True),
        "f32 row": lambda: gdlab.tensor([2.0, -1.0], requires_grad=True),
        "f32 const": lambda: gdlab.tensor([[0.25, 4.0], [1.0, -1.0]]),
        "f64 grad": lambda: gdlab.tensor(
            [[1.0, 2.0], [3.0, 4.0]], dtype="float64", requires_grad=True
        ),
        "i64": lambda: gdlab.tensor([[1, 2], [3, 4]]),
        "float": lambda: 0.5,
        "int": lambda: 3,
        "-0.0": lambda: -0.0,
        "ndarray": lambda: np.array([[2.0, 3.0], [4.0, 5.0]]),
    }[kind]()


@pytest.mark.parametrize("name", ["add", "sub", "mul"])
@pytest.mark.parametrize(
    "left, right",
    [
        ("f32 grad", "f32 grad"), ("f32 grad", "f32 row"), ("f32 row", "f32 grad"),
        ("f32 grad", "f32 const"), ("f32 const", "f32 grad"), ("f32 grad", "f64 grad"),
        ("f32 grad", "i64"), ("i64", "f32 grad"), ("i64", "int"), ("i64", "float"),
        ("f32 grad", "float"), ("f32 grad", "int"), ("f32 grad", "-0.0"), ("f32 grad", "ndarray"),
        ("f64 grad", "float"),
    ],
)  # fmt: skip
def test_operators_equal_the_functions(name, left, right):
    """``a + b`` takes a shortcut (registry.binary_method): same values, dtype and grads."""
    op = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b}[name]
    results = []
    for f in (op, getattr(gdlab, name)):
        a, b = _operand(left), _operand(right)
        out = f(a, b)
        grads = []
        if out.requires_grad:
            (out * gdlab.tensor(np.arange(out.data.size).reshape(out.shape) + 1.0)).sum().backward()
            grads = [x.grad for x in (a, b) if isinstance(x, gdlab.Tensor) and x.requires_grad]
        results.append((out.data, out.requires_grad, grads))
    (d1, r1, g1), (d2, r2, g2) = results
    assert d1.dtype == d2.dtype and r1 == r2 and len(g1) == len(g2)
    np.testing.assert_array_equal(d1, d2)
    np.testing.assert_array_equal(np.signbit(d1), np.signbit(d2))
    for x, y in zip(g1, g2, strict=True):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)


def test_method_stubs_and_the_method_table_list_the_same_names():
    """Tensor declares (for readers and type checkers) exactly the methods ops.methods binds."""
    source = ast.parse(inspect.getsource(importlib.import_module("gdlab.tensor")))
    cls = next(n for n in source.body if isinstance(n, ast.ClassDef) and n.name == "Tensor")
    block = next(n for n in cls.body if isinstance(n, ast.If))  # if TYPE_CHECKING:
    declared = {n.name for n in block.body if isinstance(n, ast.FunctionDef)}
    declared |= {n.target.id for n in block.body if isinstance(n, ast.AnnAssign)}
    assert declared == set(METHODS)
    for name in METHODS:
        assert name in vars(gdlab.Tensor), name


# --------------------------------------------------------------------------- .grad is a Tensor
def test_grad_is_a_tensor_over_the_stored_array():
    """As torch: p.grad.data is a Tensor (issue 16); its .data is the stored NumPy array itself
    (issue 12: it was silently a memoryview), and torch's idioms on it work in place."""
    x = gdlab.tensor([1.0, -2.0, 3.0], requires_grad=True, dtype=np.float64)
    assert x.grad is None
    (x * x).sum().backward()
    g = x.grad
    assert isinstance(g, gdlab.Tensor) and not g.requires_grad and g.grad_fn is None
    assert type(g.data) is np.ndarray and g.data is x.grad.data  # no copy, the same array
    np.testing.assert_array_equal(g.data, [2.0, -4.0, 6.0])
    assert float(x.grad.norm()) == pytest.approx(np.sqrt(56.0), rel=1e-15)
    assert float(x.grad.abs().max()) == 6.0
    x.grad += 1.0  # in place on the stored array
    np.testing.assert_array_equal(x.grad.data, [3.0, -3.0, 7.0])
    x.grad.mul_(2.0)
    np.testing.assert_array_equal(np.asarray(x.grad), [6.0, -6.0, 14.0])
    x.grad.zero_()
    assert not x.grad.data.any()
    x.grad = np.ones(3)  # an array, a Tensor or None may be assigned, as before
    x.grad = gdlab.ones(3, dtype=np.float64) * 2
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, 2.0])
    x.grad = None
    assert x.grad is None
