"""The torch names d2l's optimisation chapter uses (issue 13): creation, shapes, formatting,
the ``gdlab.utils.data`` path and save/load on file objects. The ops' values and gradients
(sinh, cosh, square, sign, dot, mv, mm, bmm, meshgrid) are rows of tests/ops."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

import gdlab
from gdlab import data
from gdlab.nn import Parameter


def test_normal_shapes_dtypes_and_moments():
    rng = np.random.default_rng(0)
    x = gdlab.normal(1.5, 0.25, size=(200, 100), generator=rng)
    assert x.shape == (200, 100) and x.dtype == np.float32 and not x.requires_grad
    assert abs(float(x.mean()) - 1.5) < 0.01 and abs(float(x.std()) - 0.25) < 0.01
    w = gdlab.normal(0.0, 0.01, size=(3, 1), requires_grad=True)
    assert w.requires_grad and w.is_leaf
    means = gdlab.tensor([0.0, 10.0, -10.0], dtype=np.float64)
    y = gdlab.normal(means, 1e-9, generator=rng)
    assert y.dtype == np.float64 and np.allclose(y.data, means.data, atol=1e-6)
    a = gdlab.normal(0.0, 1.0, (4,), generator=np.random.default_rng(3))
    b = gdlab.normal(0.0, 1.0, (4,), generator=np.random.default_rng(3))
    assert np.array_equal(a.data, b.data)


@pytest.mark.parametrize(
    "call, exc, msg",
    [
        (lambda: gdlab.normal(0.0, -1.0, (2,)), ValueError, "std must be >= 0"),
        (lambda: gdlab.normal(0.0, 1.0), TypeError, "mean or std must be a Tensor"),
        (lambda: gdlab.normal(gdlab.zeros(2), 1.0, (2,)), TypeError, "size is given"),
        (lambda: gdlab.dot(gdlab.ones(2, 2), gdlab.ones(2)), ValueError, "dot: expected 1-D"),
        (lambda: gdlab.mv(gdlab.ones(2), gdlab.ones(2)), ValueError, "mv: expected 2-D and 1-D"),
        (lambda: gdlab.mm(gdlab.ones(2, 3), gdlab.ones(4, 2)), ValueError, "not aligned"),
        (lambda: gdlab.bmm(gdlab.ones(2, 2), gdlab.ones(2, 2)), ValueError, "bmm: expected 3-D"),
        (lambda: gdlab.bmm(gdlab.ones(2, 1, 3), gdlab.ones(3, 3, 1)), ValueError, "batch sizes"),
        (lambda: gdlab.meshgrid(gdlab.ones(2, 2), indexing="ij"), ValueError, "0-D or 1-D"),
        (lambda: gdlab.meshgrid(gdlab.ones(2), indexing="yx"), ValueError, "'ij' or 'xy'"),
        (lambda: f"{gdlab.ones(2):f}", TypeError, "unsupported format string"),
    ],
)
def test_bad_arguments(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def test_meshgrid_default_is_ij_with_torchs_warning():
    with pytest.warns(UserWarning, match="required to pass the indexing argument"):
        xx, yy = gdlab.meshgrid(gdlab.arange(3.0), gdlab.arange(2.0))
    assert xx.shape == yy.shape == (3, 2)
    assert xx.tolist() == [[0, 0], [1, 1], [2, 2]] and yy.tolist() == [[0, 1]] * 3


def test_empty_and_as_tensor():
    e = gdlab.empty(2, 3, dtype=np.float64)
    assert e.shape == (2, 3) and e.dtype == np.float64
    arr = np.arange(3.0)
    t = gdlab.as_tensor(arr)
    arr[0] = 7.0  # shares memory, as torch.as_tensor of an ndarray
    assert t.tolist() == [7.0, 1.0, 2.0]
    assert gdlab.as_tensor(t) is t and gdlab.as_tensor(t, dtype=np.float32).dtype == np.float32
    assert gdlab.as_tensor(0.1).dtype == np.float32 and gdlab.as_tensor([1, 2]).dtype == np.int64


def test_multiply_device_and_format():
    t = gdlab.tensor([1.0, 2.0])
    assert t.multiply_(3.0) is t and t.tolist() == [3.0, 6.0]
    assert t.device == "cpu"
    loss = gdlab.tensor(0.123456789)
    assert f"{loss:f}" == "0.123457" and f"{loss:.3f}" == "0.123"
    assert f"{loss}" == str(loss.item())  # torch formats a 0-d tensor's value
    assert f"{gdlab.tensor(3)}" == "3" and f"{gdlab.tensor(3):d}" == "3"
    assert f"{gdlab.tensor([1.0, 2.0])}" == str(gdlab.tensor([1.0, 2.0]))


def test_utils_data_is_gdlab_data():
    from gdlab.utils.data import DataLoader, TensorDataset

    assert DataLoader is data.DataLoader and TensorDataset is data.TensorDataset
    assert gdlab.utils.data.__all__ == data.__all__


def test_save_and_load_file_objects(tmp_path):
    w = Parameter(np.arange(6.0).reshape(2, 3))
    state = {"weight": w, "step": 3, "lrs": [0.1, 0.01]}
    buf = io.BytesIO()
    gdlab.save(state, buf)
    buf.seek(0)
    loaded = gdlab.load(buf)
    assert np.array_equal(loaded["weight"], w.data) and loaded["step"] == 3
    assert loaded["lrs"] == [0.1, 0.01]
    path = tmp_path / "x-file"  # d2l's torch.save(x, 'x-file'): no suffix
    with open(path, "wb") as f:
        gdlab.save({"x": gdlab.arange(4.0)}, f)
    with open(path, "rb") as f:
        assert gdlab.load(f)["x"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert path.read_bytes() == _bytes_of_saving({"x": gdlab.arange(4.0)}, tmp_path / "y.npz")
    with pytest.raises(ValueError, match="gdlab.load: the file object"):
        gdlab.load(io.BytesIO(b"not a zip file"))


def _bytes_of_saving(obj, path):
    gdlab.save(obj, path)
    return path.read_bytes()


def test_d2l_style_loop_over_a_loader_inside_a_loop_over_it():
    """d2l's train_ch11 evaluates the loss on the loader it is iterating over."""
    X = np.random.default_rng(0).standard_normal((20, 2)).astype(np.float32)
    loader = data.DataLoader(data.TensorDataset(X, X[:, :1]), batch_size=5, shuffle=True)
    seen = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in loader:
            seen += sum(len(xb) for xb, _ in loader)
    assert seen == 4 * 20
