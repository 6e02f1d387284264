"""The embedding's scatter-add (``gdlab.autograd.scatter``) against ``np.add.at``, byte for byte.

Both paths (NumPy passes by rank, and the compiled loop used once numba is loaded) must give
``np.add.at``'s sums exactly, signs of zero included: one table row per case, with uniform
indices, heavy repeats (Zipf: a few indices hundreds of times, the accumulate branch), a
table of more than 2^16 rows (the int64 sort key) and every row touched.
"""

from __future__ import annotations

import numpy as np
import pytest

from gdlab.autograd import scatter
from gdlab.autograd.sparse import RowSparseGrad

CASES = [  # name, table rows, width, looked-up indices, dtype, index distribution
    ("uniform-f32", 1000, 16, 2000, np.float32, "uniform"),
    ("uniform-f64", 50, 3, 400, np.float64, "uniform"),
    ("zipf-f32", 100, 8, 3000, np.float32, "zipf"),
    ("zipf-wide-table-f64", 70_000, 4, 1000, np.float64, "zipf"),
    ("all-rows-touched", 8, 5, 64, np.float32, "uniform"),
    ("one-index", 10, 2, 1, np.float32, "uniform"),
    ("zipf-f16-stays-numpy", 100, 8, 600, np.float16, "zipf"),
]


def _case(rows, width, count, dtype, kind):
    rng = np.random.default_rng(0)
    if kind == "zipf":
        index = rng.zipf(1.3, count) % rows
    else:
        index = rng.integers(0, rows, count)
    values = rng.standard_normal((count, width)).astype(dtype)
    values[rng.random(values.shape) < 0.1] = -0.0  # 0 + (-0.0) is +0.0 in np.add.at
    expected = np.zeros((rows, width), dtype)
    np.add.at(expected, index, values)
    return index, values, expected


@pytest.fixture(params=["numpy", "compiled"])
def path(request):
    if request.param == "compiled":
        pytest.importorskip("numba")
        scatter.reset()
        assert scatter._compiled() is not None
    else:
        scatter.reset(None)
    yield request.param
    scatter.reset()


@pytest.mark.parametrize(("name", "rows", "width", "count", "dtype", "kind"), CASES,
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_scatter_add_rows_is_add_at_byte_for_byte(path, name, rows, width, count, dtype, kind):
    index, values, expected = _case(rows, width, count, dtype, kind)
    got = scatter.scatter_add_rows(index, values, rows)
    assert got.dtype == dtype
    assert got.tobytes() == expected.tobytes()


@pytest.mark.parametrize(("name", "rows", "width", "count", "dtype", "kind"), CASES,
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_coalesce_rows_is_add_at_byte_for_byte(path, name, rows, width, count, dtype, kind):
    index, values, expected = _case(rows, width, count, dtype, kind)
    unique, sums = scatter.coalesce_rows(index, values)
    np.testing.assert_array_equal(unique, np.unique(index))
    assert sums.tobytes() == expected[unique].tobytes()
    dense = RowSparseGrad.from_rows(index, values, expected.shape).to_dense()
    assert dense.tobytes() == expected.tobytes()


LAYOUTS = {  # a (4, 6) index's rows, laid out as the gradients reaching the embedding are
    "contiguous": lambda g: g,
    "mean-broadcast": lambda g: np.broadcast_to(g[:, :1], g.shape),  # a mean over the lookups
    "strided": lambda g: np.asfortranarray(g),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_index_of_any_shape_and_broadcast_rows(path, layout, dtype):
    """An N-D index with rows of shape index.shape + (d,), a broadcast view among them: the
    sums of np.add.at on the flattened pair, byte for byte, and the rows left unchanged."""
    rng = np.random.default_rng(1)
    index = rng.integers(0, 9, (4, 6))
    rows = LAYOUTS[layout](rng.standard_normal((4, 6, 5)).astype(dtype))
    before = rows.copy()
    expected = np.zeros((9, 5), dtype)
    np.add.at(expected, index.reshape(-1), rows.reshape(-1, 5))
    assert scatter.scatter_add_rows(index, rows, 9).tobytes() == expected.tobytes()
    for num_rows in (9, None, 10_000):  # marks, and the sort of a wide table
        unique, sums = scatter.coalesce_rows(index, rows, num_rows)
        np.testing.assert_array_equal(unique, np.unique(index))
        assert sums.tobytes() == expected[unique].tobytes()
    assert np.array_equal(rows, before)


def test_the_compiled_loop_loads_only_with_numba_already_imported(monkeypatch):
    """The embedding never imports numba itself (its first step stays cheap)."""
    import sys

    scatter.reset()
    monkeypatch.delitem(sys.modules, "numba", raising=False)
    try:
        assert scatter._compiled() is None
    finally:
        scatter.reset()  # (that the attempt is asked again later: tests/test_compiled.py)


def test_empty_index():
    out = scatter.scatter_add_rows(np.zeros(0, np.int64), np.zeros((0, 3), np.float32), 4)
    assert out.shape == (4, 3) and not out.any()


@pytest.mark.parametrize("reduce", ["mean", "sum"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_bag_gradients_read_the_broadcast_gradient(path, reduce, dtype):
    """emb(idx).mean(1) hands the embedding a broadcast gradient: the dense and the sparse
    table gradients are np.add.at's sums of it, byte for byte, on both paths."""
    import gdlab
    from gdlab import nn

    rng = np.random.default_rng(2)
    weight = rng.standard_normal((50, 8)).astype(dtype)
    idx = rng.integers(0, 50, (16, 12))
    head = gdlab.tensor(rng.standard_normal((8, 3)).astype(dtype))
    for sparse in (False, True):
        emb = nn.Embedding(50, 8, sparse=sparse, _weight=weight.copy())
        bag = getattr(emb(idx), reduce)(1)
        bag.retain_grad()
        ((bag @ head) ** 2).sum().backward()
        g = bag.grad.data / 12 if reduce == "mean" else bag.grad.data  # the mean's rule
        expected = np.zeros_like(weight)
        np.add.at(expected, idx.reshape(-1), np.repeat(g, 12, axis=0))
        got = emb.weight.grad.to_dense() if sparse else emb.weight.grad.data
        assert got.tobytes() == expected.tobytes()
