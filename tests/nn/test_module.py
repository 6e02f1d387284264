"""The Module API: registration order and dotted names, traversal, modes, gradients, dtype
conversion in place, state_dict round trips, containers and repr (torch's behaviour)."""

from __future__ import annotations

import numpy as np
import pytest

import gdlab
import gdlab.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.BatchNorm1d(4))
        self.heads = nn.ModuleDict({"a": nn.Linear(4, 2), "b": nn.Linear(4, 1)})
        self.extra = nn.ModuleList([nn.Linear(2, 2)])
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
        self.register_buffer("steps", gdlab.zeros(1))

    def forward(self, x):
        h = self.features(x)
        return self.extra[0](self.heads["a"](h)) * self.scale + self.heads["b"](h)


def test_named_parameters_are_torch_dotted_names_in_order():
    names = [n for n, _ in Net().named_parameters()]
    assert names == [
        "scale", "features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias",
        "heads.a.weight", "heads.a.bias", "heads.b.weight", "heads.b.bias", "extra.0.weight",
        "extra.0.bias",
    ]  # fmt: skip


def test_named_parameters_match_torch_for_the_same_class():
    torch = pytest.importorskip("torch")

    class TorchNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.features = torch.nn.Sequential(
                torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.BatchNorm1d(4)
            )
            self.heads = torch.nn.ModuleDict(
                {"a": torch.nn.Linear(4, 2), "b": torch.nn.Linear(4, 1)}
            )
            self.extra = torch.nn.ModuleList([torch.nn.Linear(2, 2)])
            self.scale = torch.nn.Parameter(torch.ones(1))
            self.register_buffer("steps", torch.zeros(1))

        forward = Net.forward

    tnet, gnet = TorchNet(), Net()
    assert [n for n, _ in gnet.named_parameters()] == [n for n, _ in tnet.named_parameters()]
    assert list(gnet.state_dict()) == list(tnet.state_dict())
    assert [n for n, _ in gnet.named_modules()] == [n for n, _ in tnet.named_modules()]
    assert [n for n, _ in gnet.named_buffers()] == [n for n, _ in tnet.named_buffers()]
    gnet.load_state_dict({k: v.numpy() for k, v in tnet.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    tnet.eval()
    gnet.eval()
    np.testing.assert_allclose(
        gnet(gdlab.tensor(x)).data, tnet(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )


def test_traversal_modes_and_apply():
    net = Net()
    assert [type(m).__name__ for m in net.children()] == ["Sequential", "ModuleDict", "ModuleList"]
    assert len(list(net.modules())) == 10
    assert net.training and all(m.training for m in net.modules())
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen[0] == "Linear"
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]


def test_zero_grad_set_to_none_and_zeros():
    net = nn.Linear(3, 1)
    net(gdlab.randn(4, 3)).sum().backward()
    assert net.weight.grad is not None
    net.zero_grad(set_to_none=False)
    assert net.weight.grad is not None and not net.weight.grad.any()
    net.zero_grad()
    assert net.weight.grad is None and net.bias.grad is None


def test_double_converts_parameters_and_buffers_in_place():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    before = list(net.parameters())
    net(gdlab.randn(5, 3)).sum().backward()
    assert net.double() is net
    assert [id(p) for p in net.parameters()] == [id(p) for p in before]
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert all(p.grad.dtype == np.float64 for p in net.parameters())
    assert net[1].running_mean.dtype == np.float64
    assert net[1].num_batches_tracked.dtype == np.int64
    out = net(gdlab.tensor(np.ones((5, 3))))
    assert out.dtype == np.float64
    net.float()
    assert all(p.dtype == np.float32 for p in net.parameters())
    net.to("float64")
    assert net[0].weight.dtype == np.float64
    with pytest.raises(TypeError, match="floating point"):
        net.to(np.int64)


def test_optimizer_style_update_still_reaches_the_model_after_double():
    net = nn.Linear(2, 1)
    params = list(net.parameters())  # what an optimizer keeps
    net.double()
    with gdlab.no_grad():
        params[0].sub_(1.0)
    assert net.weight.data.dtype == np.float64
    assert net.weight is params[0]


def test_shared_layer_state_dict_keys_are_torchs():
    """A layer used twice: named_parameters lists it once, state_dict under both paths."""
    torch = pytest.importorskip("torch")
    tl = torch.nn.Linear(2, 2)
    tnet = torch.nn.Sequential(tl, torch.nn.Tanh(), tl)
    gl = nn.Linear(2, 2)
    gnet = nn.Sequential(gl, nn.Tanh(), gl)
    assert list(gnet.state_dict()) == list(tnet.state_dict())
    assert [n for n, _ in gnet.named_parameters()] == [n for n, _ in tnet.named_parameters()]
    gnet.load_state_dict({k: v.numpy() for k, v in tnet.state_dict().items()})
    np.testing.assert_array_equal(gl.weight.data, tl.weight.detach().numpy())


def test_state_dict_is_a_snapshot_of_numpy_arrays():
    net = Net()
    sd = net.state_dict()
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    assert "features.2.running_var" in sd and "features.2.num_batches_tracked" in sd
    assert sd["features.2.num_batches_tracked"].shape == ()
    sd["scale"][...] = 5
    assert net.scale.data[0] == 1
    assert net.state_dict(keep_vars=True)["scale"] is net.scale


def test_load_state_dict_keeps_objects_and_casts():
    net = nn.Linear(2, 2)
    w = net.weight
    net.load_state_dict({"weight": np.eye(2), "bias": np.zeros(2)})
    assert net.weight is w and w.dtype == np.float32
    np.testing.assert_array_equal(w.data, np.eye(2))


def test_non_persistent_buffer_not_in_state_dict():
    m = nn.Module()
    m.register_buffer("a", gdlab.zeros(2), persistent=False)
    m.register_buffer("b", gdlab.zeros(2))
    assert list(m.state_dict()) == ["b"]
    assert [n for n, _ in m.named_buffers()] == ["a", "b"]


def test_sequential_container_behaviour():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    seq.append(nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    assert isinstance(seq[:2], nn.Sequential) and len(seq[:2]) == 2
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    del seq[1]
    assert [n for n, _ in seq.named_parameters()][-1] == "1.bias"
    from collections import OrderedDict

    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Sigmoid())]))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    with pytest.raises(IndexError):
        seq[5]
    with pytest.raises(IndexError, match="Sequential of length 2"):
        del seq[-3]
    seq.insert(-1, nn.Tanh())
    assert [type(m).__name__ for m in seq] == ["Linear", "Tanh", "Linear"]


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    ml.insert(0, nn.ReLU())
    assert len(ml) == 4 and isinstance(ml[0], nn.ReLU)
    del ml[0]  # renumbered, as torch
    assert [n for n, _ in ml.named_parameters()][-2:] == ["2.weight", "2.bias"]
    del ml[1:]
    assert len(ml) == 1 and [n for n, _ in ml.named_parameters()] == ["0.weight", "0.bias"]
    with pytest.raises(IndexError, match="ModuleList"):
        del ml[3]
    with pytest.raises(IndexError, match="ModuleList"):
        ml.insert(5, nn.ReLU())
    md = nn.ModuleDict()
    md["x"] = nn.Linear(1, 1)
    assert "x" in md and list(md.keys()) == ["x"] and len(md) == 1


def test_repr_like_torch():
    net = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Conv2d(1, 8, 3, padding=1), nn.ReLU())
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (1): Sigmoid()\n"
        "  (2): Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
        "  (3): ReLU()\n"
        ")"
    )
    assert repr(nn.LSTM(3, 5, num_layers=2, batch_first=True)) == (
        "LSTM(3, 5, num_layers=2, batch_first=True)"
    )


def test_flatten_unflatten_identity():
    x = gdlab.randn(2, 3, 4)
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Unflatten(1, (3, 4))(nn.Flatten()(x)).shape == (2, 3, 4)
    assert nn.Identity(54, unused="x")(x) is x


def test_deepcopy_gives_an_independent_module():
    import copy

    a = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    b = copy.deepcopy(a)
    assert b[0].weight is not a[0].weight and isinstance(b[0].weight, nn.Parameter)
    np.testing.assert_array_equal(b[0].weight.data, a[0].weight.data)
    b(gdlab.randn(4, 3)).sum().backward()
    assert a[0].weight.grad is None and b[0].weight.grad is not None
    assert a[1].num_batches_tracked.item() == 0 and b[1].num_batches_tracked.item() == 1
