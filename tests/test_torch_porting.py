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
    assert t.device == gdlab.device("cpu") and str(t.device) == "cpu" and t.device.type == "cpu"
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


# ------------------------------------------------------------------ issue 12: change the import
import torch  # noqa: E402 - the oracle of the rows below

from gdlab import nn  # noqa: E402
from gdlab.data import (  # noqa: E402
    BatchSampler,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

DTYPE_NAMES = ["float", "double", "half", "long", "int", "short", "bool", "float16", "float32",
               "float64", "int8", "int16", "int32", "int64", "uint8"]  # fmt: skip


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_dtype_aliases_are_torchs(name):
    want = str(getattr(torch, name)).removeprefix("torch.")
    want = {"float": "float32", "double": "float64", "half": "float16", "long": "int64",
            "int": "int32", "short": "int16"}.get(want, want)  # fmt: skip
    assert str(getattr(gdlab, name)) == want
    assert gdlab.zeros(2, dtype=getattr(gdlab, name)).dtype == getattr(gdlab, name)
    assert gdlab.ones(2).to(getattr(gdlab, name)).dtype == getattr(gdlab, name)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, d: lib.zeros(2, 3, dtype=lib.float64, device=d),
        lambda lib, d: lib.ones(2, dtype=lib.long, device=d),
        lambda lib, d: lib.full((2,), 1.5, device=d),
        lambda lib, d: lib.arange(4, device=d),
        lambda lib, d: lib.linspace(0, 1, 5, device=d),
        lambda lib, d: lib.eye(3, device=d),
        lambda lib, d: lib.empty(3, device=d),
        lambda lib, d: lib.tensor([1, 2], dtype=lib.float, device=d),
        lambda lib, d: lib.zeros_like(lib.ones(2, dtype=lib.double), device=d),
        lambda lib, d: lib.rand(2, 2, device=d),
        lambda lib, d: lib.randn(2, device=d, dtype=lib.double),
        lambda lib, d: lib.randint(0, 5, (3,), device=d),
        lambda lib, d: lib.randperm(4, device=d),
        lambda lib, d: lib.as_tensor([1.0], device=d),
    ],
)
def test_creation_takes_device_and_dtype_as_torch(make):
    for d in ("cpu", "cpu:0", None):
        g, t = make(gdlab, d), make(torch, d if d is None else torch.device(d))
        assert g.shape == tuple(t.shape) and str(g.dtype) == str(t.dtype).removeprefix("torch.")
        assert g.device == gdlab.device("cpu") and not g.is_cuda


def test_to_cpu_and_device_forms():
    x = gdlab.ones(2, requires_grad=True)
    dev = gdlab.device("cuda" if gdlab.cuda.is_available() else "cpu")
    assert dev == gdlab.device("cpu") and repr(dev) == "device(type='cpu')" and str(dev) == "cpu"
    assert x.to("cpu") is x and x.to(dev) is x and x.cpu() is x and x.to(device="cpu") is x
    assert x.pin_memory() is x
    assert x.to("cpu", gdlab.double).dtype == np.float64
    assert x.to(gdlab.zeros(1, dtype=gdlab.double)).dtype == np.float64
    assert x.to(dtype=gdlab.half).dtype == np.float16 and x.half().dtype == np.float16
    assert x.to("cpu", copy=True) is not x and x.type() == "float32"
    assert x.to(gdlab.long).dtype == np.int64 and x.type(gdlab.double).dtype == np.float64
    y = x.to(gdlab.double, non_blocking=True) * 2  # the cast is in the graph
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    assert gdlab.device("cuda", 1).index == 1 and gdlab.device("cuda:0") == gdlab.device("cuda", 0)
    assert not gdlab.cuda.is_available() and gdlab.cuda.device_count() == 0
    assert not gdlab.backends.mps.is_available() and not gdlab.backends.mps.is_built()
    gdlab.cuda.manual_seed_all(0)  # a no-op, as torch's without CUDA
    model = nn.Linear(2, 1)
    assert model.to(dev) is model and model.cpu() is model
    assert model.to("cpu", gdlab.double).weight.dtype == np.float64


@pytest.mark.parametrize(
    "call, exc, msg",
    [
        (lambda: gdlab.ones(2).to("cuda"), RuntimeError, "Tensor.to: device 'cuda' is not avail"),
        (lambda: gdlab.ones(2).to("cuda:1"), RuntimeError, "'cuda:1' is not available.*CPU only"),
        (lambda: gdlab.ones(2).cuda(), RuntimeError, "Tensor.cuda: device 'cuda'"),
        (lambda: gdlab.ones(2).to("mps"), RuntimeError, "device 'mps' is not available"),
        (lambda: gdlab.ones(2).to("flaot"), TypeError, "Tensor.to: dtype: invalid dtype 'flaot'"),
        (lambda: gdlab.ones(2).to(gdlab.ones(1), gdlab.ones(1), 1), TypeError, "at most 2"),
        (lambda: gdlab.zeros(2, device="gpu"), ValueError, "zeros: device: expected one of cpu"),
        (lambda: gdlab.zeros(2, device="cuda"), RuntimeError, "zeros: device 'cuda'"),
        (lambda: gdlab.zeros(2, dtype="cpu"), TypeError, "zeros: dtype: .*'cpu' is a device"),
        (lambda: gdlab.zeros(2, dtype=np.complex64), TypeError, "zeros: dtype: unsupported"),
        (lambda: gdlab.tensor([1.0], device="cuda"), RuntimeError, "tensor: device 'cuda'"),
        (lambda: gdlab.randn(2, device=3), RuntimeError, "randn: device 'cuda:3'"),
        (lambda: gdlab.device("cpu:x"), ValueError, "invalid device string 'cpu:x'"),
        (lambda: gdlab.device(1.5), TypeError, "expected a device string"),
        (lambda: nn.Linear(1, 1).to("cuda"), RuntimeError, "Linear.to: device 'cuda'"),
        (lambda: nn.Linear(1, 1).cuda(), RuntimeError, "Linear.cuda: device 'cuda'"),
        (lambda: nn.Linear(1, 1).to("doubel"), TypeError, "Linear.to: dtype: invalid dtype"),
        (lambda: gdlab.load(io.BytesIO(), map_location="cuda:0"), RuntimeError, "map_location"),
        (lambda: gdlab.load(io.BytesIO(), map_location=3.0), TypeError, "map_location must be"),
        (lambda: gdlab.load(io.BytesIO(), pickle_module=object()), ValueError, "never unpickled"),
        (lambda: gdlab.load(io.BytesIO(), weights_only="yes"), TypeError, "weights_only must"),
        (lambda: gdlab.Generator().manual_seed(1.5), TypeError, "seed must be an int"),
        (lambda: gdlab.Generator().set_state(gdlab.ones(3)), TypeError, "uint8 tensor"),
        (lambda: gdlab.Generator("cuda"), RuntimeError, "Generator: device 'cuda'"),
        (lambda: gdlab.topk(gdlab.ones(3), 4), RuntimeError, "topk: k=4 out of range"),
        (lambda: gdlab.topk(gdlab.ones(3), 1, dim=1), IndexError, "Dimension out of range"),
        (lambda: gdlab.einsum("ij,jk->ik", gdlab.ones(2, 3)), ValueError, "has 2 operands"),
        (lambda: gdlab.einsum("ijk", gdlab.ones(2, 3)), ValueError, "do not fit"),
        (lambda: gdlab.einsum("ij,jk", gdlab.ones(2, 3), gdlab.ones(2, 3)), ValueError, "einsum"),
        (
            lambda: gdlab.einsum("i,i", gdlab.ones(2), gdlab.ones(2, dtype=gdlab.double)),
            TypeError,
            "one dtype",
        ),
        (lambda: gdlab.isclose(gdlab.ones(2), gdlab.ones(3)), ValueError, "cannot be broadcast"),
        (lambda: gdlab.randint(5, 2, (2,)), ValueError, "expected low < high"),
        (lambda: gdlab.randperm(-1), ValueError, "randperm: n must be"),
    ],
)
def test_porting_errors_name_the_argument(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


def test_inference_mode_as_context_and_decorator():
    w = gdlab.ones(2, requires_grad=True)
    with gdlab.inference_mode():
        assert not (w * 2).requires_grad and gdlab.is_inference_mode_enabled()
    assert (w * 2).requires_grad and not gdlab.is_inference_mode_enabled()
    with gdlab.inference_mode(False):
        assert (w * 2).requires_grad

    @gdlab.inference_mode
    def bare(x):
        return x * 2

    @gdlab.inference_mode()
    def called(x):
        return x * 2

    assert not bare(w).requires_grad and not called(w).requires_grad
    assert gdlab.is_grad_enabled()


CLOSE_PAIRS = [
    ([1.0, 2.0], [1.0 + 1e-6, 2.0], {}),
    ([1.0, 2.0], [1.0 + 1e-4, 2.0], {}),
    ([0.0], [1e-8], {}),
    ([0.0], [2e-8], {}),
    ([1.0, float("nan")], [1.0, float("nan")], {}),
    ([1.0, float("nan")], [1.0, float("nan")], {"equal_nan": True}),
    ([100.0], [101.0], {"rtol": 0.01}),
    ([1.0], [1.5], {"atol": 0.5, "rtol": 0.0}),
    ([float("inf")], [float("inf")], {}),
]


@pytest.mark.parametrize("a, b, kw", CLOSE_PAIRS)
def test_isclose_and_allclose_match_torch(a, b, kw):
    g = gdlab.isclose(
        gdlab.tensor(a, dtype=gdlab.double), gdlab.tensor(b, dtype=gdlab.double), **kw
    )
    t = torch.isclose(
        torch.tensor(a, dtype=torch.double), torch.tensor(b, dtype=torch.double), **kw
    )
    assert g.tolist() == t.tolist()
    assert gdlab.allclose(gdlab.tensor(a), gdlab.tensor(b), **kw) == torch.allclose(
        torch.tensor(a), torch.tensor(b), **kw
    )
    assert gdlab.equal(gdlab.tensor(a), gdlab.tensor(a)) == torch.equal(
        torch.tensor(a), torch.tensor(a)
    )


TOPK_CASES = [
    ((6,), 3, -1, True),
    ((6,), 2, 0, False),
    ((4, 5), 2, 1, True),
    ((4, 5), 3, 0, False),
    ((2, 3, 4), 1, 1, True),
    ((2, 3, 4), 4, -1, False),
    ((3,), 0, 0, True),
]


@pytest.mark.parametrize("shape, k, dim, largest", TOPK_CASES)
def test_topk_and_sort_match_torch_values_indices_and_gradients(shape, k, dim, largest):
    x = np.random.default_rng(sum(shape) + k).standard_normal(shape)  # no ties
    gx = gdlab.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    g, t = gdlab.topk(gx, k, dim=dim, largest=largest), torch.topk(tx, k, dim=dim, largest=largest)
    assert g._fields == ("values", "indices") and gx.topk(k, dim, largest).indices.tolist() == (
        t.indices.tolist()
    )
    np.testing.assert_array_equal(g.values.data, t.values.detach().numpy())
    np.testing.assert_array_equal(g.indices.data, t.indices.numpy())
    weights = np.random.default_rng(1).standard_normal(g.values.shape)
    (g.values * gdlab.tensor(weights)).sum().backward()
    (t.values * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(gx.grad, tx.grad.numpy())
    for descending in (False, True):
        gs, ts = gdlab.sort(gx, dim, descending), torch.sort(tx, dim, descending)
        np.testing.assert_array_equal(gs.values.data, ts.values.detach().numpy())
        np.testing.assert_array_equal(gs.indices.data, ts.indices.numpy())
        assert gx.argsort(dim, descending).tolist() == tx.argsort(dim, descending).tolist()


EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("ii->", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("...ij->...ji", [(2, 3, 4)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
]


@pytest.mark.parametrize("equation, shapes", EINSUM_CASES)
def test_einsum_matches_torch_values_and_gradients(equation, shapes):
    rng = np.random.default_rng(len(equation))
    xs = [rng.standard_normal(s) for s in shapes]
    gs = [gdlab.tensor(x, requires_grad=True) for x in xs]
    ts = [torch.tensor(x, requires_grad=True) for x in xs]
    g, t = gdlab.einsum(equation, *gs), torch.einsum(equation, *ts)
    np.testing.assert_allclose(g.data, t.detach().numpy(), rtol=1e-12, atol=1e-12)
    w = rng.standard_normal(g.shape)
    (g * gdlab.tensor(w)).sum().backward()
    (t * torch.tensor(w)).sum().backward()
    for a, b in zip(gs, ts, strict=True):
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert gdlab.einsum(equation, gs).shape == g.shape  # the operands as one list


def test_generator_seeds_and_state_everywhere_torch_takes_one():
    g = gdlab.Generator().manual_seed(7)
    assert g.initial_seed() == 7 and g.device == gdlab.device("cpu")
    state = g.get_state()
    assert state.dtype == np.uint8
    draws = [
        gdlab.rand(3, generator=g).tolist(),
        gdlab.randn(3, generator=g).tolist(),
        gdlab.randint(0, 10, (3,), generator=g).tolist(),
        gdlab.randperm(5, generator=g).tolist(),
        gdlab.normal(0.0, 1.0, (2,), generator=g).tolist(),
        nn.functional.dropout(gdlab.ones(6), 0.5, generator=g).tolist(),
        [len(s) for s in data.random_split(range(10), [0.5, 0.5], generator=g)],
        list(RandomSampler(range(5), generator=g)),
        list(SubsetRandomSampler([3, 4, 5], generator=g)),
        list(WeightedRandomSampler([0.1, 0.9], 4, generator=g)),
    ]
    g.set_state(state)
    again = [
        gdlab.rand(3, generator=g).tolist(),
        gdlab.randn(3, generator=g).tolist(),
        gdlab.randint(0, 10, (3,), generator=g).tolist(),
        gdlab.randperm(5, generator=g).tolist(),
        gdlab.normal(0.0, 1.0, (2,), generator=g).tolist(),
        nn.functional.dropout(gdlab.ones(6), 0.5, generator=g).tolist(),
        [len(s) for s in data.random_split(range(10), [0.5, 0.5], generator=g)],
        list(RandomSampler(range(5), generator=g)),
        list(SubsetRandomSampler([3, 4, 5], generator=g)),
        list(WeightedRandomSampler([0.1, 0.9], 4, generator=g)),
    ]
    assert again == draws
    a = data.DataLoader(
        range(8), batch_size=4, shuffle=True, generator=gdlab.Generator().manual_seed(1)
    )
    b = data.DataLoader(
        range(8), batch_size=4, shuffle=True, generator=gdlab.Generator().manual_seed(1)
    )
    assert [x.tolist() for x in a] == [x.tolist() for x in b]
    assert g.seed() == g.initial_seed() and gdlab.Generator().initial_seed() >= 0


def test_load_gives_back_tensors_parameters_and_arrays(tmp_path):
    w = Parameter(np.arange(3.0))
    obj = {"t": gdlab.tensor([1.0, 2.0]), "g": gdlab.ones(2, requires_grad=True), "w": w,
           "a": np.arange(2), "nested": [gdlab.tensor(3)]}  # fmt: skip
    gdlab.save(obj, tmp_path / "o.npz")
    gdlab.save(gdlab.arange(3.0), tmp_path / "t.npz")
    gdlab.save({"only": gdlab.ones(2)}, tmp_path / "flat.npz")
    for kw in ({}, {"map_location": "cpu"}, {"map_location": gdlab.device("cpu")},
               {"weights_only": True}, {"weights_only": False, "map_location": lambda s, loc: s},
               {"map_location": {"cuda:0": "cpu"}, "mmap": False}):  # fmt: skip
        back = gdlab.load(tmp_path / "o.npz", **kw)
        assert type(back["t"]) is gdlab.Tensor and not back["t"].requires_grad
        assert back["g"].requires_grad and back["g"].is_leaf
        assert type(back["w"]) is Parameter and back["w"].tolist() == [0.0, 1.0, 2.0]
        assert type(back["a"]) is np.ndarray and type(back["nested"][0]) is gdlab.Tensor
        assert back["nested"][0].dtype == np.int64
    assert type(gdlab.load(tmp_path / "t.npz")) is gdlab.Tensor
    assert type(gdlab.load(tmp_path / "flat.npz")["only"]) is gdlab.Tensor


def test_samplers_as_torch_and_in_the_loader():
    ds = data.TensorDataset(np.arange(10, dtype=np.float32)[:, None])
    assert list(SequentialSampler(ds)) == list(torch.utils.data.SequentialSampler(range(10)))
    for n in (3, 10, 25):
        order = list(RandomSampler(ds, num_samples=n, generator=0))
        assert len(order) == n and sorted(order[: (n // 10) * 10]) == sorted(
            list(range(10)) * (n // 10)
        )
    drawn = list(RandomSampler(ds, replacement=True, num_samples=1000, generator=0))
    assert len(set(drawn)) == 10 and len(drawn) == 1000  # with replacement: repeats
    assert list(BatchSampler(SequentialSampler(range(7)), 3, False)) == list(
        torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(range(7)), 3, False)
    )
    assert len(BatchSampler(range(7), 3, True)) == 2 and len(BatchSampler(range(7), 3, False)) == 3
    loader = data.DataLoader(ds, batch_size=4, sampler=RandomSampler(ds, True, 9, generator=0))
    assert [len(xb) for (xb,) in loader] == [4, 4, 1] and len(loader) == 3
    loader = data.DataLoader(ds, batch_sampler=BatchSampler(SequentialSampler(ds), 4, True))
    assert [xb[:, 0].tolist() for (xb,) in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert loader.batch_size is None and len(loader) == 2
    per_sample = data.DataLoader(list(range(5)), batch_size=2, sampler=SequentialSampler(range(5)))
    assert [b.tolist() for b in per_sample] == [[0, 1], [2, 3], [4]]


@pytest.mark.parametrize(
    "kwargs, exc, msg",
    [
        ({"num_workers": -1}, ValueError, "num_workers option should be non-negative"),
        ({"prefetch_factor": 2}, ValueError, "prefetch_factor option could only be specified"),
        ({"persistent_workers": True}, ValueError, "persistent_workers option needs"),
        ({"pin_memory": "yes"}, TypeError, "pin_memory should be a bool"),
        ({"sampler": [0], "shuffle": True}, ValueError, "mutually exclusive with shuffle"),
        ({"batch_sampler": [[0]], "batch_size": 2}, ValueError, "batch_sampler option is mutu"),
        ({"batch_sampler": [[0]], "drop_last": True}, ValueError, "batch_sampler option is mutu"),
        ({"sampler": [0], "batch_size": None}, ValueError, "batch_size must be an int"),
    ],
)
def test_loader_options_are_checked_as_torch(kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        data.DataLoader(list(range(4)), **kwargs)


def test_worker_options_are_accepted_and_batches_unchanged():
    ds = data.TensorDataset(np.arange(12, dtype=np.float32)[:, None])
    plain = [xb.tolist() for (xb,) in data.DataLoader(ds, batch_size=5, shuffle=True, seed=3)]
    calls = []
    workers = data.DataLoader(ds, batch_size=5, shuffle=True, seed=3, num_workers=2,
                              pin_memory=True, persistent_workers=True, prefetch_factor=4,
                              worker_init_fn=calls.append, timeout=10, in_order=True)  # fmt: skip
    assert [xb.tolist() for (xb,) in workers] == plain
    assert calls == []  # no worker process, so never called (torch with num_workers=0)


@pytest.mark.parametrize(
    "call, exc, msg",
    [
        (lambda: RandomSampler(range(3), replacement=1), ValueError, "replacement should be"),
        (lambda: RandomSampler(range(3), num_samples=0), ValueError, "num_samples should be"),
        (lambda: RandomSampler(range(3), generator="x"), TypeError, "generator must be"),
        (lambda: BatchSampler(range(3), 0, False), ValueError, "batch_size should be"),
        (lambda: WeightedRandomSampler([[1.0]], 2), ValueError, "1-D"),
        (lambda: WeightedRandomSampler([-1.0, 2.0], 2), ValueError, "non-negative"),
        (lambda: WeightedRandomSampler([0.0, 1.0], 2, False), ValueError, "without replacement"),
    ],
)
def test_sampler_errors(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()
