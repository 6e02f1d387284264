"""Weights between gdlab and torch: same names, same dtypes, identical outputs both ways."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import gdlab  # noqa: E402
from gdlab import nn  # noqa: E402
from gdlab.interop.torch import (  # noqa: E402
    load_from_torch,
    load_into_torch,
    state_dict_from_torch,
    state_dict_to_torch,
)
from gdlab.nn import StateDictError  # noqa: E402


def mlp(lib):
    return lib.Sequential(lib.Linear(5, 8), lib.Tanh(), lib.Linear(8, 8), lib.ReLU(),
                          lib.Linear(8, 3))  # fmt: skip


def cnn(lib):
    return lib.Sequential(
        lib.Conv2d(2, 4, 3, padding=1), lib.BatchNorm2d(4), lib.ReLU(), lib.MaxPool2d(2),
        lib.Conv2d(4, 3, 3), lib.Flatten(), lib.Linear(3, 5),
    )  # fmt: skip


def lstm(lib):
    class Tagger(lib.Module):
        def __init__(self):
            super().__init__()
            self.rnn = lib.LSTM(4, 6, num_layers=2, batch_first=True)
            self.head = lib.Linear(6, 2)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.head(out[:, -1])

    return Tagger()


# (id, builder, input shape)
MODELS = [("mlp", mlp, (7, 5)), ("cnn", cnn, (3, 2, 6, 6)), ("lstm", lstm, (3, 5, 4))]


def torch_model(build, seed, x):
    torch.manual_seed(seed)
    model = build(torch.nn).double()
    with torch.no_grad():
        model.train()(x)  # BatchNorm: running statistics that are not the defaults
    return model.eval()


@pytest.mark.parametrize(("build", "shape"), [m[1:] for m in MODELS], ids=[m[0] for m in MODELS])
def test_torch_to_gdlab_to_torch_identical_outputs(build, shape):
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    source = torch_model(build, 0, x)
    ours = build(nn).double().eval()
    assert list(ours.state_dict()) == list(source.state_dict())  # torch's names, in order
    assert load_from_torch(ours, source) == ([], [])
    with torch.no_grad():
        expected = source(x).numpy()
    got = ours(gdlab.tensor(x.numpy())).data
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)

    target = torch_model(build, 1, x)  # different weights and statistics
    load_into_torch(target, ours)
    for (k, a), (_, b) in zip(
        target.state_dict().items(), source.state_dict().items(), strict=True
    ):
        assert a.dtype == b.dtype and torch.equal(a, b), k
    with torch.no_grad():
        assert torch.equal(target(x), source(x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtypes_and_names_preserved_both_ways(dtype):
    model = cnn(nn).to(dtype)
    to_torch = state_dict_to_torch(model)
    want = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    assert to_torch["0.weight"].dtype == want
    assert to_torch["1.num_batches_tracked"].dtype == torch.int64
    back = state_dict_from_torch(to_torch)
    assert list(back) == list(model.state_dict())
    for k, v in model.state_dict().items():
        assert back[k].dtype == v.dtype and back[k].shape == v.shape
        np.testing.assert_array_equal(back[k], v)


def test_module_snapshots_and_dict_views():
    t = torch.nn.Linear(3, 2)
    snap = state_dict_from_torch(t)
    assert not np.shares_memory(snap["weight"], t.weight.detach().numpy())
    view = state_dict_from_torch(t.state_dict())
    assert np.shares_memory(view["weight"], t.weight.detach().numpy())
    g = nn.Linear(3, 2)
    assert not np.shares_memory(state_dict_to_torch(g)["weight"].numpy(), g.weight.data)
    arrays = {"weight": g.weight.data}
    assert np.shares_memory(state_dict_to_torch(arrays)["weight"].numpy(), g.weight.data)


def test_arrays_torch_cannot_view_are_copied():
    a = np.arange(6.0)[::-1]  # negative stride
    b = np.arange(4.0).astype(">f8")  # big-endian
    c = np.ones(3)
    c.flags.writeable = False
    out = state_dict_to_torch({"a": a, "b": b, "c": c})
    np.testing.assert_array_equal(out["a"].numpy(), a)
    np.testing.assert_array_equal(out["b"].numpy(), b)
    assert out["c"].dtype == torch.float64


def test_cast_to_the_destination_dtype_on_load():
    t = torch.nn.Linear(3, 2)  # float32
    g = nn.Linear(3, 2).double()
    load_from_torch(g, t)
    assert g.weight.dtype == np.float64
    np.testing.assert_array_equal(g.weight.data, t.weight.detach().numpy().astype(np.float64))


MISMATCH = [
    ("shape-into-gdlab", "from", nn.Linear(4, 2), torch.nn.Linear(3, 2), StateDictError,
     r"size mismatch for weight: copying a param with shape \(2, 3\) from checkpoint, the "
     r"shape in current model is \(2, 4\)"),
    ("shape-into-torch", "into", nn.Linear(4, 2), torch.nn.Linear(3, 2), RuntimeError,
     r"size mismatch for weight: copying a param with shape torch.Size\(\[2, 4\]\)"),
    ("missing-into-gdlab", "from", nn.Linear(3, 2), torch.nn.Linear(3, 2, bias=False),
     StateDictError, r'Missing key\(s\) in state_dict: "bias"'),
    ("unexpected-into-torch", "into", nn.Linear(3, 2), torch.nn.Linear(3, 2, bias=False),
     RuntimeError, r'Unexpected key\(s\) in state_dict: "bias"'),
]  # fmt: skip


@pytest.mark.parametrize(("way", "g", "t", "exc", "match"), [m[1:] for m in MISMATCH],
                         ids=[m[0] for m in MISMATCH])  # fmt: skip
def test_mismatches_named_with_shapes(way, g, t, exc, match):
    with pytest.raises(exc, match=match):
        load_from_torch(g, t) if way == "from" else load_into_torch(t, g)


def test_not_strict_reports_keys():
    g, t = nn.Linear(3, 2), torch.nn.Linear(3, 2, bias=False)
    assert load_from_torch(g, t, strict=False) == (["bias"], [])
    keys = load_into_torch(t, g, strict=False)
    assert keys.unexpected_keys == ["bias"] and keys.missing_keys == []


BAD = [
    (lambda: state_dict_to_torch([1, 2]), TypeError, "gdlab nn.Module or a state dict"),
    (lambda: state_dict_to_torch({"w": "abc"}), TypeError, "value of 'w'"),
    (lambda: state_dict_to_torch({"w": np.array(["a"], dtype=object)}), TypeError,
     "'w' has dtype object"),
    (lambda: state_dict_from_torch(nn.Linear(2, 2)), TypeError, "torch.nn.Module or a state"),
    (lambda: state_dict_from_torch({"w": torch.ones(2, dtype=torch.bfloat16)}), TypeError,
     "'w' has dtype torch.bfloat16"),
    (lambda: load_from_torch(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)), TypeError,
     "gdlab_module must be a gdlab nn.Module"),
    (lambda: load_into_torch(nn.Linear(2, 2), nn.Linear(2, 2)), TypeError,
     "torch_module must be a torch.nn.Module"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "exc", "match"), BAD, ids=[b[2] for b in BAD])
def test_bad_inputs(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_clear_import_error_without_torch():
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import gdlab.interop\n"
        "try:\n    import gdlab.interop.torch\n"
        "except ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "install gdlab[torch]" in out.stdout


def test_gdlab_interop_does_not_import_torch():
    code = "import sys, gdlab, gdlab.interop; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
