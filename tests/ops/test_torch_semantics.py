"""Details where "close to torch" is not enough: tie rules, boundaries, special values,
shape semantics, argument aliases. Each row runs the same expression in gdlab and torch."""

from __future__ import annotations

import numpy as np
import pytest

import gdlab

torch = pytest.importorskip("torch")


def both(values, dtype="float64"):
    a = np.asarray(values, dtype=dtype)
    return gdlab.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


TIES = [[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]]
GRAD_ROWS = [
    ("amax ties share", TIES, lambda x: x.amax(1)),
    ("amin ties share", TIES, lambda x: x.amin(0)),
    ("max() ties share", TIES, lambda x: x.max()),
    ("max(dim) picks first", TIES, lambda x: x.max(1)[0]),
    ("min(dim) picks first", TIES, lambda x: x.min(dim=1).values),
    ("clamp boundary passes", [-1.0, 0.0, 0.5, 1.0, 2.0], lambda x: x.clamp(0.0, 1.0)),
    ("maximum tie halves", [1.0, 2.0, 3.0], lambda x: x.maximum(x * 0 + 2.0)),
    ("minimum tie halves", [1.0, 2.0, 3.0], lambda x: x.minimum(x * 0 + 2.0)),
    ("relu at 0", [-1.0, 0.0, 1.0], lambda x: x.relu()),
    ("abs at 0", [-1.0, 0.0, 1.0], lambda x: x.abs()),
    ("pow 0**0", [0.0, 1.0], lambda x: x**0),
    ("pow 0**2", [0.0, 1.0], lambda x: x**2),
    ("pow 0**0.5", [0.0, 1.0], lambda x: x**0.5),
    ("pow 0**-1", [0.0, 1.0], lambda x: x**-1.0),
    ("pow negative base", [-2.0, -1.0], lambda x: x**2.0),
    ("exponent grad at base 0", [0.0, 0.0, 2.0], lambda x: (x * 0) ** x),
    ("sqrt at 0", [0.0, 4.0], lambda x: x.sqrt()),
    ("log at 0", [0.0, 1.0], lambda x: x.log()),
    ("var single element", [[1.0, 2.0]], lambda x: x.var(0)),
    ("std correction 0", [[1.0, 2.0, 4.0]], lambda x: x.std(1, correction=0)),
    ("softmax all -inf but one", [0.0, -np.inf], lambda x: x.softmax(0)),
    ("logsumexp of -inf row", [[-np.inf, -np.inf], [0.0, 1.0]], lambda x: x.logsumexp(1)),
]


@pytest.mark.parametrize("values, f", [r[1:] for r in GRAD_ROWS], ids=[r[0] for r in GRAD_ROWS])
@pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore:var.*degrees of freedom:UserWarning")
def test_values_and_gradients_match_torch_exactly(values, f):
    x, tx = both(values)
    y, ty = f(x), f(tx)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-14, equal_nan=True)
    w = np.linspace(0.5, 1.5, y.data.size).reshape(y.shape)
    (y * w).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-14, equal_nan=True)


SHAPE_ROWS = [
    ("squeeze all", (1, 3, 1), lambda x: x.squeeze()),
    ("squeeze non-1 dim", (1, 3, 1), lambda x: x.squeeze(1)),
    ("squeeze dims", (1, 3, 1), lambda x: x.squeeze((0, 2))),
    ("unsqueeze 0", (2, 3), lambda x: x.unsqueeze(0)),
    ("unsqueeze -1", (2, 3), lambda x: x.unsqueeze(-1)),
    ("unsqueeze end", (2, 3), lambda x: x.unsqueeze(2)),
    ("flatten", (2, 3, 4), lambda x: x.flatten()),
    ("flatten 1", (2, 3, 4), lambda x: x.flatten(1)),
    ("flatten 0 1", (2, 3, 4), lambda x: x.flatten(0, 1)),
    ("flatten 0-d", (), lambda x: x.flatten()),
    ("expand -1", (3, 1), lambda x: x.expand(-1, 4)),
    ("expand new dims", (3, 1), lambda x: x.expand(2, 3, 4)),
    ("permute", (2, 3, 4), lambda x: x.permute(1, 2, 0)),
    ("permute negative", (2, 3, 4), lambda x: x.permute(-1, 0, 1)),
    ("transpose", (2, 3, 4), lambda x: x.transpose(0, -1)),
    ("T 2-D", (2, 3), lambda x: x.T),
    ("view -1", (2, 3, 4), lambda x: x.view(-1, 4)),
    ("reshape tuple", (2, 3, 4), lambda x: x.reshape((6, 4))),
    ("sum dim tuple keepdim", (2, 3, 4), lambda x: x.sum((0, 2), keepdim=True)),
    ("sum 0-d", (), lambda x: x.sum()),
    ("mean empty dim list", (2, 3), lambda x: x.mean(())),
    ("matmul 1-D 1-D", [(3,), (3,)], lambda a, b: a @ b),
    ("matmul batch broadcast", [(2, 1, 3, 4), (5, 4, 2)], lambda a, b: a @ b),
    ("matmul 1-D @ batch", [(4,), (2, 4, 3)], lambda a, b: a @ b),
    ("matmul batch @ 1-D", [(2, 3, 4), (4,)], lambda a, b: a @ b),
]


@pytest.mark.parametrize("shapes, f", [r[1:] for r in SHAPE_ROWS], ids=[r[0] for r in SHAPE_ROWS])
def test_shape_semantics_match_torch(shapes, f, rng):
    shapes = shapes if isinstance(shapes, list) else [shapes]
    arrays = [rng.standard_normal(s) for s in shapes]
    ours = f(*[gdlab.tensor(a) for a in arrays])
    theirs = f(*[torch.tensor(a) for a in arrays])
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-13)


@pytest.mark.parametrize(
    "n, arg, dim",
    [(5, 2, 0), (6, 4, 0), (4, 3, 1), (7, [2, 5], 0), (6, 1, -1), (3, 5, 0), (5, 2, 1)],
)
def test_split_and_chunk_sizes_match_torch(n, arg, dim):
    x = np.arange(n * n, dtype=np.float64).reshape(n, n)
    for fn in ("split", "chunk"):
        if fn == "chunk" and isinstance(arg, list):
            continue
        ours = getattr(gdlab.tensor(x), fn)(arg, dim)
        theirs = getattr(torch.tensor(x), fn)(arg, dim)
        assert [p.shape for p in ours] == [tuple(p.shape) for p in theirs]
        for p, q in zip(ours, theirs, strict=True):
            np.testing.assert_array_equal(p.data, q.numpy())


@pytest.mark.parametrize("pad", [(1, 2), (0, 1, 2, 0), (1, 1, 1, 1, 1, 1), ()])
def test_pad_order_matches_torch(pad, rng):
    x = rng.standard_normal((2, 3, 4))
    ours = gdlab.pad(gdlab.tensor(x), pad, value=-1.0)
    theirs = torch.nn.functional.pad(torch.tensor(x), pad, value=-1.0)
    np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_zero_dim_extremes_and_integer_var():
    v, i = gdlab.tensor(2.0).max(0)
    assert v.item() == 2.0 and i.item() == 0 and i.dtype == np.int64
    assert gdlab.tensor([1, 2, 4]).var().dtype == np.float32


def test_max_with_dim_returns_values_and_indices():
    x = gdlab.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    values, indices = x.max(1)
    assert values.tolist() == [3.0, 2.0] and indices.tolist() == [1, 0]
    out = x.min(dim=0, keepdim=True)
    assert out.values.shape == (1, 3) and out.indices.dtype == np.int64
    assert x.argmax().item() == 1 and x.argmax(1).tolist() == [1, 0]


INDEX_ROWS = [
    ("int", lambda m: 1),
    ("negative int", lambda m: -1),
    ("tuple of ints", lambda m: (1, -2)),
    ("slice step", lambda m: slice(None, None, 2)),
    ("None", lambda m: (None, 0)),
    ("Ellipsis", lambda m: (Ellipsis, 1)),
    ("int list with duplicates", lambda m: [0, 2, 0, 0]),
    ("int tensor", lambda m: m.tensor([[1, 1], [0, 2]])),
    ("two int tensors", lambda m: (m.tensor([0, 0, 2]), m.tensor([3, 3, 1]))),
    ("slice then array", lambda m: (slice(1, None), m.tensor([0, 0]))),
    ("array then slice", lambda m: (m.tensor([2, 2]), slice(None, 2))),
    ("bool mask", lambda m: m.tensor(np.arange(12).reshape(3, 4) % 3 == 0)),
    ("bool rows", lambda m: m.tensor([True, False, True])),
    ("empty bool mask", lambda m: m.tensor([False, False, False])),
]


@pytest.mark.parametrize("make_index", [r[1] for r in INDEX_ROWS], ids=[r[0] for r in INDEX_ROWS])
def test_indexing_values_and_scatter_gradients_match_torch(make_index, rng):
    x, tx = both(rng.standard_normal((3, 4)))
    y, ty = x[make_index(gdlab)], tx[make_index(torch)]
    assert y.shape == tuple(ty.shape)
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    w = rng.standard_normal(y.shape)
    (y * w).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-14)


ALIAS_ROWS = [
    ("sum", {"axis": 1, "keepdims": True}, {"dim": 1, "keepdim": True}),
    ("mean", {"axis": (0, 1)}, {"dim": (0, 1)}),
    ("amax", {"axis": 0}, {"dim": 0}),
    ("amin", {"axis": -1, "keepdims": True}, {"dim": -1, "keepdim": True}),
    ("var", {"axis": 1}, {"dim": 1}),
    ("std", {"axis": 0, "keepdims": True}, {"dim": 0, "keepdim": True}),
    ("logsumexp", {"axis": 1}, {"dim": 1}),
    ("softmax", {"axis": 0}, {"dim": 0}),
    ("log_softmax", {"axis": 1}, {"dim": 1}),
]


@pytest.mark.parametrize("name, numpy_kw, torch_kw", ALIAS_ROWS, ids=[r[0] for r in ALIAS_ROWS])
def test_numpy_axis_and_keepdims_aliases(name, numpy_kw, torch_kw, rng):
    x = gdlab.tensor(rng.standard_normal((3, 4)))
    np.testing.assert_array_equal(
        getattr(x, name)(**numpy_kw).data, getattr(gdlab, name)(x, **torch_kw).data
    )


def test_var_unbiased_and_correction_agree_with_torch(rng):
    a = rng.standard_normal((4, 5))
    x, tx = gdlab.tensor(a), torch.tensor(a)
    for kw in [{}, {"unbiased": False}, {"unbiased": True}, {"correction": 0}, {"correction": 2}]:
        np.testing.assert_allclose(x.var(1, **kw).data, tx.var(1, **kw).numpy(), rtol=1e-13)
        np.testing.assert_allclose(x.std(**kw).data, tx.std(**kw).numpy(), rtol=1e-13)
    with pytest.raises(ValueError, match="either"):
        x.var(unbiased=True, correction=1)


DTYPES = ["float16", "float32", "float64", "int32", "int64", "bool"]
BINARY = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "sub": lambda a, b: a - b,
}
# torch refuses these (bool subtraction, bool ** bool); gdlab follows NumPy there
TORCH_REFUSES = {("sub", "bool"), ("pow", "bool")}


def _dtype_name(t) -> str:
    return str(t.dtype).replace("torch.", "")


@pytest.mark.parametrize("op", list(BINARY))
def test_result_dtypes_match_torch(op):
    """Type promotion for every pair of dtypes and for Python scalars on either side."""
    f = BINARY[op]
    mismatches = []
    for da in DTYPES:
        for other in [*DTYPES, 2, 2.5]:
            if (op, da) in TORCH_REFUSES or (op, other) in TORCH_REFUSES:
                continue
            for swap in (False, True):
                pair = []
                for m in (gdlab, torch):
                    x = m.tensor(np.array([1, 2], dtype=da))
                    y = other if not isinstance(other, str) else m.tensor(np.ones(2, dtype=other))
                    pair.append(_dtype_name(f(y, x) if swap else f(x, y)))
                if pair[0] != pair[1]:
                    mismatches.append((da, other, swap, *pair))
    assert mismatches == []
