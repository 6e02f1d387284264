"""nn.init: torch's formulas (bounds, standard deviations, gains, fans), explicit generators;
nn.utils: L1/L2 penalties and parameter <-> vector conversion."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdlab
import gdlab.nn as nn
from gdlab.nn import init
from gdlab.nn.utils import l1_penalty, l2_penalty, parameters_to_vector, vector_to_parameters


def w(*shape):
    return nn.Parameter(np.zeros(shape, dtype=np.float64))


GAINS = [
    ("linear", None, 1.0), ("conv2d", None, 1.0), ("sigmoid", None, 1.0), ("tanh", None, 5 / 3),
    ("relu", None, math.sqrt(2)), ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("selu", None, 0.75),
]  # fmt: skip


@pytest.mark.parametrize("case", GAINS, ids=[f"{g[0]}-{g[1]}" for g in GAINS])
def test_calculate_gain_matches_torch(case):
    torch = pytest.importorskip("torch")
    name, param, expected = case
    assert init.calculate_gain(name, param) == pytest.approx(expected)
    assert init.calculate_gain(name, param) == pytest.approx(
        torch.nn.init.calculate_gain(name, param)
    )


# (initialiser, kwargs, shape, check(values, fan_in, fan_out))
DISTRIBUTIONS = [
    (init.uniform_, {"a": -2.0, "b": 3.0}, (200, 100), lambda v, fi, fo: -2 <= v.min() and v.max() <= 3),  # noqa: E501
    (init.normal_, {"mean": 1.0, "std": 2.0}, (200, 100),
     lambda v, fi, fo: abs(v.mean() - 1) < 0.05 and abs(v.std() - 2) < 0.05),
    (init.xavier_uniform_, {"gain": 2.0}, (300, 100),
     lambda v, fi, fo: np.abs(v).max() <= 2 * math.sqrt(6 / (fi + fo))
     and abs(v.std() - 2 * math.sqrt(2 / (fi + fo))) < 0.02 * v.std()),
    (init.xavier_normal_, {}, (300, 100), lambda v, fi, fo: abs(v.std() - math.sqrt(2 / (fi + fo))) < 0.02 * v.std()),  # noqa: E501
    (init.kaiming_uniform_, {"a": math.sqrt(5)}, (200, 150),
     lambda v, fi, fo: np.abs(v).max() <= 1 / math.sqrt(fi) and np.abs(v).max() > 0.99 / math.sqrt(fi)),  # noqa: E501
    (init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"}, (100, 300),
     lambda v, fi, fo: abs(v.std() - math.sqrt(2 / fo)) < 0.02 * v.std()),
    (init.kaiming_normal_, {}, (16, 8, 3, 3), lambda v, fi, fo: fi == 72 and fo == 144
     and abs(v.std() - math.sqrt(2 / (1 + 0)) / math.sqrt(72)) < 0.05 * v.std()),
    (init.trunc_normal_, {"std": 1.0, "a": -1.0, "b": 0.5}, (100, 100),
     lambda v, fi, fo: v.min() >= -1 and v.max() <= 0.5),
    (init.constant_, {"val": 0.3}, (3, 4), lambda v, fi, fo: np.all(v == 0.3)),
    (init.ones_, {}, (3, 4), lambda v, fi, fo: np.all(v == 1)),
    (init.zeros_, {}, (3, 4), lambda v, fi, fo: not v.any()),
]  # fmt: skip


@pytest.mark.parametrize("case", DISTRIBUTIONS, ids=lambda c: getattr(c, "__name__", None))
def test_initialiser_distribution(case):
    fn, kwargs, shape, check = case
    t = w(*shape)
    if "generator" in fn.__code__.co_varnames:
        kwargs = {**kwargs, "generator": np.random.default_rng(0)}
    assert fn(t, **kwargs) is t
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    assert check(t.data, shape[1] * receptive, shape[0] * receptive)


def test_orthogonal_and_generators():
    for shape in [(4, 6), (6, 4), (3, 2, 2)]:
        t = init.orthogonal_(w(*shape), gain=2.0, generator=1)
        flat = t.data.reshape(shape[0], -1)
        gram = flat @ flat.T if shape[0] <= flat.shape[1] else flat.T @ flat
        np.testing.assert_allclose(gram, 4 * np.eye(len(gram)), atol=1e-10)
    a = init.normal_(w(5), generator=np.random.default_rng(3)).data.copy()
    b = init.normal_(w(5), generator=np.random.default_rng(3)).data
    np.testing.assert_array_equal(a, b)
    gdlab.manual_seed(7)
    c = init.normal_(w(5)).data.copy()
    gdlab.manual_seed(7)
    np.testing.assert_array_equal(c, init.normal_(w(5)).data)
    state = np.random.get_state()[1].copy()  # noqa: NPY002 - checking it is untouched
    nn.Linear(3, 3)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002


def test_init_keeps_dtype_and_records_no_graph():
    p = nn.Parameter(np.zeros((3, 3), dtype=np.float32))
    init.xavier_uniform_(p)
    assert p.dtype == np.float32 and p.is_leaf and p.requires_grad


def test_layers_seeded_by_generator_are_reproducible():
    a = nn.LSTM(3, 4, generator=5)
    b = nn.LSTM(3, 4, generator=5)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_penalties_values_and_gradients():
    net = nn.Linear(3, 2).double()
    params = list(net.parameters())
    l1 = l1_penalty(params, 0.1)
    l2 = l2_penalty(net.parameters(), 0.5)
    assert l1.item() == pytest.approx(0.1 * sum(np.abs(p.data).sum() for p in params))
    assert l2.item() == pytest.approx(0.5 * sum((p.data**2).sum() for p in params))
    (l1 + l2).backward()
    for p in params:
        np.testing.assert_allclose(p.grad, 0.1 * np.sign(p.data) + 2 * 0.5 * p.data)
    with pytest.raises(ValueError, match="empty"):
        l2_penalty([])


def test_parameters_vector_round_trip():
    torch = pytest.importorskip("torch")
    net = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    net.load_state_dict({k: v.numpy() for k, v in tnet.state_dict().items()})
    vec = parameters_to_vector(net.parameters())
    np.testing.assert_array_equal(
        vec.data, torch.nn.utils.parameters_to_vector(tnet.parameters()).detach().numpy()
    )
    vector_to_parameters(np.zeros(vec.shape[0]), net.parameters())
    assert not any(p.data.any() for p in net.parameters())
    with pytest.raises(ValueError, match="elements"):
        vector_to_parameters(np.zeros(3), net.parameters())
