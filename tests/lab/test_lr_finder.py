"""LR range test: the sweep, the smoothing and stopping rule, the suggestions, the restore."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import gdlab
from gdlab import nn, optim
from gdlab.data import DataLoader, TensorDataset
from gdlab.lab.lr_finder import lr_range_test, plot_lr_finder, suggest_lrs, valley_lr


class _Loss:
    def __init__(self, value: float) -> None:
        self.value = value

    def item(self) -> float:
        return self.value

    def backward(self) -> None:
        pass


class _Scripted:
    """Model, optimizer and loss in one: the loss of iteration i is ``values[i]``."""

    def __init__(self, values):
        self.values, self.i = list(values), 0
        self.param_groups = [{"lr": 0.5}]
        self.loaded = []

    def __call__(self, x):
        return x

    def loss(self, out, y):
        v = self.values[self.i]
        self.i += 1
        return _Loss(v)

    def state_dict(self):
        return {"lr": self.param_groups[0]["lr"]}

    def load_state_dict(self, state):
        self.param_groups[0]["lr"] = state["lr"]
        self.loaded.append(state)

    def zero_grad(self):
        pass

    def step(self):
        pass


def _run(values, **kw):
    s = _Scripted(values)
    res = lr_range_test(s, s, s.loss, [(0, 0)], **kw)
    return s, res


def test_exponential_sweep_ends_at_end_lr():
    _, res = _run(np.linspace(5, 1, 20), start_lr=1e-5, end_lr=1e-1, num_iter=20)
    assert res.stop_reason == "completed"
    assert res.lrs[0] == pytest.approx(1e-5) and res.lrs[-1] == pytest.approx(1e-1)
    ratios = res.lrs[1:] / res.lrs[:-1]
    np.testing.assert_allclose(ratios, ratios[0])


def test_smoothing_is_bias_corrected_ema():
    values = [3.0, 1.0, 2.0, 5.0]
    _, res = _run(values, num_iter=4, beta=0.9, diverge_th=100)
    avg, want = 0.0, []
    for i, v in enumerate(values):
        avg = 0.9 * avg + 0.1 * v
        want.append(avg / (1 - 0.9 ** (i + 1)))
    np.testing.assert_allclose(res.smoothed, want, rtol=1e-12)
    assert res.smoothed[0] == pytest.approx(3.0)  # bias correction: first value unchanged


@pytest.mark.parametrize(
    "values, stop_at, reason",
    [([1.0, 1.0, 100.0, 1.0], 3, "smoothed loss > 4x best"),
     ([1.0, float("nan"), 1.0, 1.0], 2, "loss is nan"),
     ([1.0, float("inf"), 1.0, 1.0], 2, "loss is inf")],
)  # fmt: skip
def test_stops_on_divergence(values, stop_at, reason):
    s, res = _run(values, num_iter=4, beta=0.0)
    assert len(res.lrs) == stop_at and res.stop_reason.startswith(reason)
    assert s.param_groups[0]["lr"] == 0.5  # restored


def test_suggestions_on_a_known_curve():
    lrs = np.logspace(-6, 0, 61)
    loss = 2.0 - np.tanh(np.log10(lrs) + 3.0)  # falls fastest at 1e-3, lowest at 1
    steep, low = suggest_lrs(lrs, loss)
    assert steep == pytest.approx(1e-3, rel=0.3)
    assert low == pytest.approx(0.1)
    assert suggest_lrs(lrs[:1], loss[:1]) == (None, None)


# fastai's valley by hand. Longest strictly decreasing subsequence lengths ending at each
# point; the valley ends at the first longest, starts at end − length (fastai's bookkeeping);
# third = (end − start) / 3; index = start + ⌊third⌋ + ⌊third / 2⌋.
VALLEY_CURVES = [
    # lengths 1,2,1,3,4,4,5,1,1: end 6, start 1, third 5/3: 1 + 1 + 0 = 2
    ([5, 4, 6, 3, 2, 2.5, 1, 7, 8], 2),
    # lengths 1,2,3,4,5,6,7,1: end 6, start −1, third 7/3: −1 + 2 + 1 = 2
    ([9, 8, 7, 6, 5, 4, 3, 10], 2),
    # a flat start, then down for 9 points, then up: lengths 1,1,1,2,...,10,1,1: end 11,
    # start 1, third 10/3: 1 + 3 + 1 = 5
    ([4, 4, 4, 3.9, 3.5, 3.0, 2.4, 1.8, 1.3, 1.0, 0.9, 0.85, 2.0, 6.0], 5),
    # nothing falls: the first lr (fastai would take index −1)
    ([1, 2, 3], 0),
]  # fmt: skip


@pytest.mark.parametrize("loss, index", VALLEY_CURVES)
def test_valley_on_hand_computed_curves(loss, index):
    lrs = np.logspace(-5, 0, len(loss))
    assert valley_lr(lrs, np.array(loss, dtype=float)) == lrs[index]


def test_valley_skips_non_finite_points():
    lrs = np.logspace(-5, 0, 5)
    loss = np.array([3.0, np.nan, 2.0, 1.0, 5.0])  # finite: 3, 2, 1, 5 -> index 0
    assert valley_lr(lrs, loss) == lrs[0]
    assert valley_lr(lrs[:1], np.array([np.nan])) is None


@pytest.mark.parametrize(
    "kw, match",
    [(dict(start_lr=0.0), "start_lr"), (dict(start_lr=1.0, end_lr=0.1), "start_lr"),
     (dict(num_iter=1), "num_iter"), (dict(step_mode="cos"), "step_mode"),
     (dict(beta=1.0), "beta")],
)  # fmt: skip
def test_bad_arguments(kw, match):
    s = _Scripted([1.0])
    with pytest.raises(ValueError, match=match):
        lr_range_test(s, s, s.loss, [(0, 0)], **kw)


def _snapshot(model, opt):
    return copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict())


def _equal(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray | gdlab.Tensor):
        return np.array_equal(np.asarray(a), np.asarray(b))
    return a == b


def test_restores_model_and_optimizer_state(rng):
    x = rng.normal(size=(64, 5))
    y = rng.integers(0, 3, size=64)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3)).double()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, seed=0)
    for xb, yb in list(loader)[:2]:  # prime Adam's state so there is something to restore
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()
    before = _snapshot(model, opt)
    res = lr_range_test(model, opt, loss_fn, loader, start_lr=1e-4, end_lr=10.0, num_iter=30)
    after = _snapshot(model, opt)
    assert len(res.lrs) >= 5
    assert _equal(before[0], after[0]), "model parameters changed"
    assert _equal(before[1], after[1]), "optimizer state changed"
    assert opt.param_groups[0]["lr"] == 1e-3
    assert all(p.grad is None or not np.any(p.grad) for p in model.parameters())


def test_sam_is_stepped_with_its_closure(rng):
    """SAM (``requires_closure``): each sweep step is first_step, the batch again, second_step."""
    x, y = rng.normal(size=(48, 5)), rng.integers(0, 3, size=48)
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    replay = copy.deepcopy(model)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    opt = optim.SAM(model.parameters(), optim.SGD, rho=0.1, lr=1e-3, momentum=0.9)
    res = lr_range_test(model, opt, loss_fn, loader, start_lr=1e-2, end_lr=1.0, num_iter=3)
    ropt = optim.SAM(replay.parameters(), optim.SGD, rho=0.1, lr=1e-3, momentum=0.9)
    want = []
    for lr, (xb, yb) in zip(res.lrs, loader, strict=True):
        ropt.param_groups[0]["lr"] = lr
        ropt.zero_grad()
        loss = loss_fn(replay(xb), yb)
        loss.backward()
        want.append(float(loss.item()))
        ropt.first_step(zero_grad=True)
        loss_fn(replay(xb), yb).backward()
        ropt.second_step()
    np.testing.assert_allclose(res.losses, want, rtol=1e-12)
    assert want[2] != want[0]  # the steps moved the weights


def test_plot_has_curves_and_suggestions():
    _, res = _run(list(np.linspace(3, 1, 30)) + [50.0] * 5, num_iter=35, beta=0.5)
    fig = plot_lr_finder(res)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    labels = [line.get_label() for line in ax.lines]
    assert labels[:2] == ["loss", "smoothed loss"]
    assert any(lab.startswith("steepest") for lab in labels)
    assert any(lab.startswith("min / 10") for lab in labels)
    assert all(np.isfinite(line.get_ydata()).all() for line in ax.lines[2:])
    assert not math.isnan(res.best_loss)
