"""`reproduce`: the published numbers of d2l.ai, Deep Learning from Scratch and Goh, to 1e-6.

The expected values are written here from the sources (REFERENCES.md §1), independently of
the experiment module's own table, so a wrong entry there cannot hide a wrong result.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from gdlab.lab.articles import PUBLISHED as EXPERIMENTS
from gdlab.lab.articles import get_experiment, reproduce

PUBLISHED = [
    ("d2l_gd_2d", "eta=0.1", (-0.057646, -0.000073)),
    ("d2l_ravine_gd", "eta=0.4", (-0.943467, -0.000073)),
    ("d2l_ravine_gd", "eta=0.6", (-0.387814, -1673.365109)),
    ("d2l_momentum", "beta=0.5", (0.007188, 0.002553)),
    ("d2l_momentum", "beta=0.25", (-0.126340, -0.186632)),
    ("d2l_adagrad", "eta=0.4", (-2.382563, -0.158591)),
    ("d2l_adagrad", "eta=2", (-0.002295, -0.000000)),
    ("d2l_rmsprop", "eta=0.4", (-0.010599, 0.000000)),
    ("d2l_gd_1d", "eta=0.2", 0.060466),
    ("d2l_gd_1d", "eta=0.05", 3.486784),
    ("d2l_gd_1d", "eta=1.1", 61.917364),
    ("d2l_local_minimum", "eta=2", -1.528166),
    ("dlfs_optimizer_compare", "SGD", (-0.350393, 0.084782)),
    ("dlfs_optimizer_compare", "Momentum", (0.896414, 0.088086)),
    ("dlfs_optimizer_compare", "AdaGrad", (-0.120162, 0.000000)),
    ("dlfs_optimizer_compare", "Adam", (0.136007, 0.318245)),
    ("goh_quadratic", "gd rate", (20 - 1) / (20 + 1)),
    ("goh_quadratic", "momentum rate", (math.sqrt(20) - 1) / (math.sqrt(20) + 1)),
]


@pytest.fixture(scope="module")
def results():
    return {name: reproduce(name) for name in EXPERIMENTS}


@pytest.mark.parametrize(("name", "key", "published"), PUBLISHED)
def test_published_number_is_reproduced(results, name, key, published):
    got = np.asarray(results[name].computed[key], float)
    # The books print 6 decimals: a faithful rerun is within half a unit of the last digit.
    np.testing.assert_allclose(got, published, rtol=0, atol=1e-6)


def test_module_table_agrees_with_the_sources(results):
    for name, key, published in PUBLISHED:
        np.testing.assert_allclose(results[name].expected[key], published, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_experiment_matches_and_serialises(results, name):
    res = results[name]
    assert res.matches, res.mismatches()
    d = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert d["matches"] is True and d["name"] == name


def test_divergence_and_qualitative_claims(results):
    ravine = results["d2l_ravine_gd"].computed
    assert ravine["eta=0.6 diverges"] and not ravine["eta=0.4 diverges"]
    zig = results["momentum_zigzag"].computed
    assert zig["momentum reaches lower f"] and zig["momentum zig-zags less"]


def test_mismatch_is_reported_not_hidden():
    res = reproduce("d2l_gd_2d")
    res.expected = {**res.expected, "eta=0.1": (-0.057656, -0.000073)}
    assert not res.matches
    assert set(res.mismatches()) == {"eta=0.1"}


def test_unknown_experiment_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown experiment 'd2l'.*'d2l_momentum'"):
        get_experiment("d2l")


def test_gallery_draws_docs_images(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from gdlab.lab.gallery import IMAGES, main

    assert {"ravine_optimizers", "rosenbrock_paths", "saddle", "schedules"} <= set(IMAGES)
    assert main([str(tmp_path), "--only", "schedules", "experiments"]) == 0
    printed = capsys.readouterr().out.split()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(
        ["schedules.png", "momentum_zigzag.png", "dlfs_optimizers.png", "d2l_gd_1d.png",
         "d2l_local_minimum.png"]
    )  # fmt: skip
    assert len(printed) == len(names)
    for p in tmp_path.iterdir():
        assert p.read_bytes()[:4] == b"\x89PNG" and 5_000 < p.stat().st_size < 200_000
    with pytest.raises(SystemExit) as exc:
        main([str(tmp_path), "--only", "nope"])
    assert exc.value.code == 2


def test_article_batch_modes_epoch_means():
    from gdlab.lab.articles.training import ARTICLE_LOOPS, _epoch_means, article_batch_modes

    curves = article_batch_modes(seed=0, epochs=3)
    steps = {k: len(c["loss"]) for k, c in curves.items()}
    assert steps == {"BGD (100)": 3, "MBGD (20)": 15, "SGD (1)": 300,
                     "article loop BGD (no zero_grad)": 3,
                     "article loop MBGD (20, no zero_grad)": 15,
                     "article loop SGD (1, no zero_grad)": 300}  # fmt: skip
    sgd = curves["SGD (1)"]
    np.testing.assert_allclose(_epoch_means(sgd), np.reshape(sgd["loss"], (3, 100)).mean(1))
    np.testing.assert_array_equal(_epoch_means(curves["BGD (100)"]), curves["BGD (100)"]["loss"])
    # the missing zero_grad: each step's .grad is the sum of all batch gradients so far
    for label in ARTICLE_LOOPS:
        assert curves[label]["accumulation_deviation"] <= 1e-12


def test_article_minibatch_loop_draws_with_replacement_and_accumulates():
    """Article 002's mini-batch loop, by hand: RandomSampler(replacement=True) gives the
    batches, and without zero_grad the gradient of step k is the sum of the k batch gradients
    (each at the parameters of its own step)."""
    from gdlab import data, nn, optim

    x = np.random.default_rng(0).uniform(0, 1, (100, 8))
    y = np.random.default_rng(1).uniform(0, 5, (100, 1))
    ds = data.TensorDataset(x, y)
    sampler = data.RandomSampler(ds, replacement=True, num_samples=100, generator=0)
    drawn = list(sampler)
    assert len(drawn) == 100 and len(set(drawn)) < 100  # repeats: with replacement
    loader = data.DataLoader(ds, batch_size=20, sampler=sampler)
    model = nn.Linear(8, 1).double()
    opt = optim.SGD(model.parameters(), lr=1e-3)
    total = np.zeros_like(model.weight.data)
    for xb, yb in loader:
        loss = nn.functional.mse_loss(model(xb), yb)
        w = model.weight.data.copy()  # the batch gradient at this step's parameters, by hand
        own = 2 * ((xb.data @ w.T + model.bias.data - yb.data).T @ xb.data) / len(xb)
        loss.backward()
        total += own
        np.testing.assert_allclose(model.weight.grad, total, rtol=1e-12)
        opt.step()
