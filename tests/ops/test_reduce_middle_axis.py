"""sum and mean over one middle axis (``ops/reduce.py``'s einsum path, and its compiled loop
once numba is loaded) give NumPy's numbers byte for byte, with ``keepdim`` and for the
layouts that stay with NumPy's reduction."""

from __future__ import annotations

import numpy as np
import pytest

import gdlab
from gdlab.ops import reduce
from gdlab.ops.reduce import _middle_axis_sum

SHAPES = [  # shape, axis, whether the einsum path takes it
    ((256, 20, 64), 1, True),  # the embedding bag's mean over the lookups
    ((40, 300), 0, True),
    ((3, 50, 7, 9), 1, True),
    ((1000, 10, 2), 1, True),
    ((64, 64, 1), 1, False),  # a block of 1: NumPy's pairwise sum
    ((8, 2048), 0, False),  # a long block: NumPy's loop overhead is small
    ((4, 5, 6), 1, False),  # small
]


@pytest.fixture(params=["einsum", "compiled"])
def path(request):
    if request.param == "compiled":
        pytest.importorskip("numba")
        reduce._KERNELS.reset()
        assert reduce._KERNELS.get() is not None
    else:
        reduce._KERNELS.reset(None)
    yield request.param
    reduce._KERNELS.reset()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize(("shape", "axis", "fast"), SHAPES, ids=[str(s[0]) for s in SHAPES])
def test_sum_and_mean_equal_numpys_byte_for_byte(path, shape, axis, fast, keepdim, dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * 10.0 ** rng.uniform(-4, 4, shape)).astype(dtype)
    assert (_middle_axis_sum(x, (axis,)) is not None) == fast
    t = gdlab.tensor(x)
    for got, want in (
        (t.sum(axis, keepdim=keepdim), x.sum(axis=axis, keepdims=keepdim)),
        (t.mean(axis, keepdim=keepdim), x.mean(axis=axis, keepdims=keepdim)),
    ):
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.numpy().tobytes() == want.tobytes()


def test_a_strided_input_stays_with_numpy():
    x = np.ones((64, 20, 64), np.float32)[:, :, ::2]
    assert _middle_axis_sum(x, (1,)) is None


def test_sums_of_negative_zeros_keep_numpys_sign(path):
    x = np.full((256, 20, 64), -0.0, np.float32)
    x[:, :, 0] = 1.0
    t = gdlab.tensor(x)
    assert t.sum(1).numpy().tobytes() == x.sum(axis=1).tobytes()
    assert t.mean(1).numpy().tobytes() == x.mean(axis=1).tobytes()
