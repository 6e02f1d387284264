"""conv2d processed a few samples at a time (ops/conv.py, ``CHUNK_ELEMENTS``) gives the
numbers of the whole batch at once, and torch's: forward, weight gradient (both of its
branches: per-sample products when K < OH·OW, else one product per chunk) and input
gradient, over chunks of one, two (the last one partial) and all samples, float32 and float64.

The forward's sums are the same per sample whatever the chunk (equal bit for bit); the weight
gradient sums its chunks' partial sums, so it differs by float rounding of another order:
within ``CHUNK_RTOL`` relative to the largest entry.
"""

from __future__ import annotations

import numpy as np
import pytest

from gdlab.ops import conv

torch = pytest.importorskip("torch")

CHUNK_RTOL = {np.float32: 1e-5, np.float64: 1e-12}

# (id, x shape, w shape, geometry); K = C/G·kh·kw vs OH·OW picks the weight gradient's branch
CASES = [
    ("k_lt_hw", (5, 2, 9, 8), (4, 2, 3, 3), dict(padding=(1, 1, 1, 1))),
    ("k_ge_hw", (5, 6, 4, 4), (3, 6, 3, 3), dict(padding=(1, 1, 1, 1))),
    (
        "strided_groups",
        (5, 4, 9, 7),
        (6, 2, 3, 2),
        dict(stride=(2, 1), padding=(1, 0, 2, 1), dilation=(1, 2), groups=2),
    ),
]
GEOMETRY = dict(stride=(1, 1), padding=(0, 0, 0, 0), dilation=(1, 1), groups=1)


def _all_three(x, w, b, g, geometry):
    kernel, in_hw = w.shape[2:], x.shape[2:]
    return (
        conv._conv2d(x, w, b, **geometry),
        conv._weight_grad(x, g, kernel, **geometry),
        conv._input_grad(g, w, in_hw, **geometry),
    )


def _torch_all_three(x, w, b, g, geometry):
    t, bt, left, right = geometry["padding"]
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    xp = torch.nn.functional.pad(tx, (left, right, t, bt))
    kw = dict(stride=geometry["stride"], dilation=geometry["dilation"], groups=geometry["groups"])
    out = torch.nn.functional.conv2d(xp, tw, torch.tensor(b), **kw)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), tw.grad.numpy(), tx.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_chunks_give_the_whole_batch_numbers(case, dtype, monkeypatch):
    _, x_shape, w_shape, geometry = case
    geometry = {**GEOMETRY, **geometry}
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    out_shape = conv._conv2d(x, w, b, **geometry).shape
    g = rng.standard_normal(out_shape).astype(dtype)
    per_sample = int(np.prod(w_shape[1:])) * geometry["groups"] * out_shape[2] * out_shape[3]
    monkeypatch.setattr(conv, "CHUNK_ELEMENTS", 1 << 30)
    whole = _all_three(x, w, b, g, geometry)
    reference = _torch_all_three(x, w, b, g, geometry)
    for samples in (1, 2):  # 2 of 5: the last chunk holds one sample
        monkeypatch.setattr(conv, "CHUNK_ELEMENTS", samples * per_sample)
        chunked = _all_three(x, w, b, g, geometry)
        for got, want, ref in zip(chunked, whole, reference, strict=True):
            assert got.dtype == dtype and got.shape == want.shape
            scale = np.abs(want).max()
            np.testing.assert_allclose(got, want, rtol=0, atol=CHUNK_RTOL[dtype] * scale)
            np.testing.assert_allclose(got, ref, rtol=0, atol=10 * CHUNK_RTOL[dtype] * scale)
        np.testing.assert_array_equal(chunked[0], whole[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES[:2], ids=[c[0] for c in CASES[:2]])
def test_compiled_col2im_equals_the_numpy_path_bit_for_bit(case, dtype, monkeypatch):
    """The stride-1 input gradient with numba's col2im (ops/_conv_kernels.py) and with
    NumPy's adds, over one and several chunks, asymmetric padding and dilation included."""
    if conv._KERNELS.get() is None:
        pytest.skip("numba cannot run the kernels here (missing or its JIT disabled)")
    _, x_shape, w_shape, geometry = case
    rng = np.random.default_rng(1)
    w = rng.standard_normal(w_shape).astype(dtype)
    in_hw = x_shape[2:]
    for padding, dilation in [((1, 1, 1, 1), (1, 1)), ((2, 0, 1, 2), (1, 2))]:
        geo = {**GEOMETRY, "padding": padding, "dilation": dilation}
        x = np.zeros(x_shape, dtype)
        g = rng.standard_normal(conv._conv2d(x, w, **geo).shape).astype(dtype)
        for chunk_elements in (1, 1 << 30):
            monkeypatch.setattr(conv, "COL2IM_CHUNK_ELEMENTS", chunk_elements)
            conv._KERNELS.reset(None)
            try:
                numpy_result = conv._input_grad(g, w, in_hw, **geo)
                monkeypatch.setattr(conv, "MIN_SIZE", 0)
                conv._KERNELS.reset()
                assert conv._KERNELS.get() is not None
                compiled = conv._input_grad(g, w, in_hw, **geo)
            finally:
                conv._KERNELS.reset()
                monkeypatch.undo()
            assert compiled.dtype == dtype and compiled.flags.c_contiguous
            np.testing.assert_array_equal(compiled, numpy_result)
