"""Every loss and its options against torch.nn.functional (float64): value and the gradients
of input (and of a float target where torch differentiates it), to rtol 1e-6. The module
forms are checked to be the same computation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nn_helpers import compare_forward_backward  # noqa: E402

import gdlab  # noqa: E402
import gdlab.nn as gnn  # noqa: E402
import gdlab.nn.functional as GF  # noqa: E402

TF = torch.nn.functional


def regression(*shape):
    return lambda rng: (rng.standard_normal(shape), rng.standard_normal(shape))


def probs(*shape):
    return lambda rng: (rng.uniform(0.05, 0.95, shape), rng.uniform(0, 1, shape))


def logits_targets(*shape):
    return lambda rng: (rng.standard_normal(shape) * 3, rng.uniform(0, 1, shape))


def classes(n, c, *extra, ignore=None):
    def make(rng):
        t = rng.integers(0, c, (n, *extra))
        if ignore is not None:
            t.reshape(-1)[::3] = ignore
        return rng.standard_normal((n, c, *extra)) * 2, t

    return make


def class_probs(n, c, *extra):
    def make(rng):
        p = rng.uniform(0, 1, (n, c, *extra))
        return rng.standard_normal((n, c, *extra)), p / p.sum(axis=1, keepdims=True)

    return make


def log_probs_targets(n, c):
    def make(rng):
        logp = np.log(rng.dirichlet(np.ones(c), n))
        t = rng.dirichlet(np.ones(c), n)
        return logp, t

    return make


W4 = np.array([0.5, 1.0, 2.0, 1.5])

# (id, function name, kwargs, inputs, target is differentiated)
CASES = [
    ("mse", "mse_loss", {}, regression(4, 3), True),
    ("mse_sum", "mse_loss", {"reduction": "sum"}, regression(4, 3), True),
    ("mse_none", "mse_loss", {"reduction": "none"}, regression(5,), True),
    ("mse_weight", "mse_loss", {"weight": np.linspace(0.2, 2.0, 12).reshape(4, 3)},
     regression(4, 3), True),
    ("mse_weight_sum", "mse_loss", {"weight": np.linspace(0.2, 2.0, 12).reshape(4, 3),
                                     "reduction": "sum"}, regression(4, 3), True),
    ("l1", "l1_loss", {}, regression(4, 3), True),
    ("l1_weight", "l1_loss", {"weight": np.linspace(0.2, 2.0, 12).reshape(4, 3)},
     regression(4, 3), True),
    ("l1_weight_none", "l1_loss", {"weight": np.linspace(0.2, 2.0, 5), "reduction": "none"},
     regression(5,), True),
    ("l1_none", "l1_loss", {"reduction": "none"}, regression(4, 3), True),
    ("huber", "huber_loss", {"delta": 0.5}, regression(4, 3), True),
    ("huber_sum", "huber_loss", {"reduction": "sum"}, regression(4, 3), True),
    ("huber_weight", "huber_loss", {"weight": np.linspace(0.2, 2.0, 12).reshape(4, 3)},
     regression(4, 3), True),
    ("smooth_l1", "smooth_l1_loss", {"beta": 0.5}, regression(4, 3), True),
    ("smooth_l1_beta0", "smooth_l1_loss", {"beta": 0.0}, regression(4, 3), True),
    ("bce", "binary_cross_entropy", {}, probs(4, 3), True),
    ("bce_weight_sum", "binary_cross_entropy", {"weight": np.array([0.5, 1.0, 2.0]),
                                                 "reduction": "sum"}, probs(4, 3), True),
    ("bce_none", "binary_cross_entropy", {"reduction": "none"}, probs(6,), True),
    ("bce_logits", "binary_cross_entropy_with_logits", {}, logits_targets(4, 3), True),
    ("bce_logits_pos_weight", "binary_cross_entropy_with_logits",
     {"pos_weight": np.array([0.5, 2.0, 3.0]), "weight": np.array([1.0, 0.2, 2.0])},
     logits_targets(4, 3), True),
    ("bce_logits_extreme", "binary_cross_entropy_with_logits", {"reduction": "none"},
     lambda rng: (np.array([-800.0, -30.0, 0.0, 30.0, 800.0]), np.array([1.0, 0, 1, 0, 1])),
     True),
    ("ce", "cross_entropy", {}, classes(5, 4), False),
    ("ce_sum", "cross_entropy", {"reduction": "sum"}, classes(5, 4), False),
    ("ce_none_kdim", "cross_entropy", {"reduction": "none"}, classes(2, 4, 3, 2), False),
    ("ce_kdim_mean", "cross_entropy", {}, classes(2, 4, 3), False),
    ("ce_weight", "cross_entropy", {"weight": W4}, classes(6, 4), False),
    ("ce_ignore_index", "cross_entropy", {"ignore_index": -1}, classes(6, 4, ignore=-1), False),
    ("ce_ignore_weight_smooth", "cross_entropy",
     {"ignore_index": 2, "weight": W4, "label_smoothing": 0.2}, classes(7, 4, ignore=2), False),
    ("ce_smoothing", "cross_entropy", {"label_smoothing": 0.1}, classes(5, 4), False),
    ("ce_smoothing_none", "cross_entropy", {"label_smoothing": 0.3, "reduction": "none"},
     classes(5, 4), False),
    ("ce_probs_const", "cross_entropy", {}, class_probs(5, 4), False),
    ("ce_probs", "cross_entropy", {}, class_probs(5, 4), True),
    ("ce_probs_kdim_smooth_weight", "cross_entropy", {"label_smoothing": 0.2, "weight": W4},
     class_probs(2, 4, 3), True),
    ("ce_probs_none_smooth", "cross_entropy", {"reduction": "none", "label_smoothing": 0.1},
     class_probs(3, 4), True),
    ("ce_probs_sum_weight_kdim_const", "cross_entropy", {"reduction": "sum", "weight": W4},
     class_probs(2, 4, 3), False),
    ("ce_probs_unbatched", "cross_entropy", {}, class_probs(1, 4), True),
    ("ce_unbatched", "cross_entropy", {},
     lambda rng: (rng.standard_normal(4), np.array(2)), False),
    ("nll", "nll_loss", {}, classes(5, 4), False),
    ("nll_weight_ignore", "nll_loss", {"weight": W4, "ignore_index": 1},
     classes(6, 4, ignore=1), False),
    ("nll_none_kdim", "nll_loss", {"reduction": "none"}, classes(2, 4, 3), False),
    ("kl_div", "kl_div", {"reduction": "batchmean"}, log_probs_targets(4, 3), True),
    ("kl_div_mean", "kl_div", {}, log_probs_targets(4, 3), True),
    ("kl_div_log_target", "kl_div", {"log_target": True, "reduction": "sum"},
     lambda rng: (rng.standard_normal((3, 4)), rng.standard_normal((3, 4))), True),
    ("kl_div_none", "kl_div", {"reduction": "none"}, log_probs_targets(3, 3), True),
]  # fmt: skip


def _kwargs(kwargs: dict, lib) -> dict:
    to = (lambda v: torch.tensor(v)) if lib is torch else (lambda v: gdlab.tensor(v))
    return {k: to(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_loss_matches_torch(case):
    _, name, kwargs, make_inputs, target_grad = case
    rng = np.random.default_rng(0)
    inp, target = make_inputs(rng)
    if not target_grad and target.dtype.kind == "f":
        target = target.astype(np.float32).astype(np.float64)  # stays a constant below

    def gd_fn(x, t):
        t = t.detach() if not target_grad and isinstance(t, gdlab.Tensor) else t
        return getattr(GF, name)(x, t, **_kwargs(kwargs, gdlab))

    def th_fn(x, t):
        t = t.detach() if not target_grad and isinstance(t, torch.Tensor) else t
        return getattr(TF, name)(x, t, **_kwargs(kwargs, torch))

    compare_forward_backward(gd_fn, th_fn, (inp, target), {}, {}, rng)


MODULES = [
    ("MSELoss", {}, "mse_loss"),
    ("L1Loss", {"reduction": "sum"}, "l1_loss"),
    ("HuberLoss", {"delta": 0.3}, "huber_loss"),
    ("SmoothL1Loss", {"beta": 0.3}, "smooth_l1_loss"),
    ("BCEWithLogitsLoss", {"pos_weight": np.array([2.0, 1.0, 0.5])},
     "binary_cross_entropy_with_logits"),
]  # fmt: skip


@pytest.mark.parametrize("case", MODULES, ids=[m[0] for m in MODULES])
def test_loss_modules_equal_functional(case):
    name, kwargs, fn = case
    rng = np.random.default_rng(1)
    x, y = gdlab.tensor(rng.standard_normal((4, 3))), gdlab.tensor(rng.standard_normal((4, 3)))
    module = getattr(gnn, name)(**_kwargs(kwargs, gdlab))
    assert module(x, y).item() == getattr(GF, fn)(x, y, **_kwargs(kwargs, gdlab)).item()


def test_classification_modules_match_torch():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 4))
    t = rng.integers(0, 4, 6)
    for name, kw in [("CrossEntropyLoss", {"weight": W4, "label_smoothing": 0.1}),
                     ("NLLLoss", {"ignore_index": 0})]:  # fmt: skip
        g = getattr(gnn, name)(**_kwargs(kw, gdlab))(gdlab.tensor(x), t).item()
        ref = getattr(torch.nn, name)(**_kwargs(kw, torch))(torch.tensor(x), torch.tensor(t))
        assert g == pytest.approx(ref.item(), rel=1e-9)
    p = rng.uniform(0.1, 0.9, (6,))
    y = rng.uniform(0, 1, (6,))
    g = gnn.BCELoss(weight=gdlab.tensor(W4[:2].repeat(3)))(gdlab.tensor(p), y).item()
    ref = torch.nn.BCELoss(weight=torch.tensor(W4[:2].repeat(3)))(torch.tensor(p), torch.tensor(y))
    assert g == pytest.approx(ref.item(), rel=1e-9)
    g = gnn.KLDivLoss(reduction="batchmean")(gdlab.tensor(np.log(p)), y).item()
    ref = torch.nn.KLDivLoss(reduction="batchmean")(torch.tensor(np.log(p)), torch.tensor(y))
    assert g == pytest.approx(ref.item(), rel=1e-9)


def test_bce_at_0_and_1_is_finite_like_torch():
    x = np.array([0.0, 1.0, 0.0, 1.0])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    xt = gdlab.tensor(x, requires_grad=True)
    loss = GF.binary_cross_entropy(xt, y, reduction="sum")
    loss.backward()
    tx = torch.tensor(x, requires_grad=True)
    ref = TF.binary_cross_entropy(tx, torch.tensor(y), reduction="sum")
    ref.backward()
    assert loss.item() == pytest.approx(ref.item())  # 200: both logs clamped at -100
    np.testing.assert_allclose(xt.grad, tx.grad.numpy())


def test_kl_div_zero_target_contributes_zero():
    logp = np.log(np.array([[0.2, 0.3, 0.5]]))
    y = np.array([[0.0, 0.4, 0.6]])
    g = GF.kl_div(gdlab.tensor(logp), y, reduction="sum").item()
    ref = TF.kl_div(torch.tensor(logp), torch.tensor(y), reduction="sum").item()
    assert np.isfinite(g) and g == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize(
    "name, kwargs",
    [("cross_entropy", {}), ("cross_entropy", {"weight": W4}), ("nll_loss", {})],
    ids=["ce", "ce_weight", "nll"],
)
def test_every_target_ignored_gives_nan_and_zero_grads_like_torch(name, kwargs):
    """'mean' over no target: torch's NaN loss and zero gradients, and no NumPy warning."""
    x = np.random.default_rng(3).standard_normal((3, 4))
    t = np.full(3, -100)
    xt = gdlab.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = getattr(GF, name)(xt, t, **_kwargs(kwargs, gdlab))
        loss.backward()
    tx = torch.tensor(x, requires_grad=True)
    ref = getattr(TF, name)(tx, torch.tensor(t), **_kwargs(kwargs, torch))
    ref.backward()
    assert np.isnan(loss.item()) and np.isnan(ref.item())
    np.testing.assert_array_equal(xt.grad, tx.grad.numpy())
