"""fit(): the articles' experiments, batch-mode equivalences, accumulation, divergence, history."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gdlab
from gdlab import datasets, nn, optim, train
from gdlab.data import DataLoader, NonFiniteDataWarning, TensorDataset
from gdlab.train import DivergenceError

# NaN is injected on purpose below; the data set's warning about it is tested once
pytestmark = pytest.mark.filterwarnings("ignore::gdlab.data.NonFiniteDataWarning")

RTOL = 1e-10  # float64, same arithmetic up to summation order


def _article_model() -> nn.Module:
    gdlab.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 1), nn.Sigmoid(), nn.Linear(1, 1)).double()


def _article_data() -> tuple[np.ndarray, np.ndarray]:
    ds = datasets.load("article_uniform")
    return ds.X_train, ds.y_train


def _params(model: nn.Module) -> list[np.ndarray]:
    return [p.data.copy() for p in model.parameters()]


# ------------------------------------------------------------------ article 002
@pytest.mark.parametrize("batch_size", [None, 20, 1], ids=["BGD", "MBGD-20", "SGD-1"])
def test_article_002_loss_falls(batch_size):
    X, y = _article_data()
    model = _article_model()

    def full_loss() -> float:
        return nn.MSELoss()(model(gdlab.tensor(X)), gdlab.tensor(y)).item()

    before = full_loss()
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size)
    h = train.fit(
        model,
        nn.MSELoss(),
        optim.SGD(model.parameters(), lr=1e-3),
        loader,
        epochs=100,
        max_steps=100,
    )
    assert len(h.steps["loss"]) == 100 and h.steps["step"] == list(range(1, 101))
    assert full_loss() < 0.8 * before  # the per-step SGD losses are too noisy to compare
    if batch_size is None:
        assert np.all(np.diff(h.steps["loss"]) < 0)  # batch GD: smooth, monotone
    assert h.steps["samples_seen"][-1] == 100 * (batch_size or 100)
    assert all(np.isfinite(h.steps["grad_norm"]))


def _manual_full_batch_gd(X: np.ndarray, y: np.ndarray, steps: int) -> list[np.ndarray]:
    model = _article_model()
    opt = optim.SGD(model.parameters(), lr=1e-3)
    for _ in range(steps):
        opt.zero_grad()
        nn.MSELoss()(model(gdlab.tensor(X)), gdlab.tensor(y)).backward()
        opt.step()
    return _params(model)


@pytest.mark.parametrize(
    "loader_kwargs",
    [dict(batch_size=None), dict(batch_size=100), dict(batch_size=100, shuffle=True, seed=3)],
)
def test_batch_size_n_equals_full_batch_gd(loader_kwargs):
    X, y = _article_data()
    model = _article_model()
    train.fit(
        model,
        nn.MSELoss(),
        optim.SGD(model.parameters(), lr=1e-3),
        DataLoader(TensorDataset(X, y), **loader_kwargs),
        epochs=30,
    )
    for ours, manual in zip(_params(model), _manual_full_batch_gd(X, y, 30), strict=True):
        np.testing.assert_allclose(ours, manual, rtol=RTOL)


# ------------------------------------------------------------------ article 003
def _article_003_by_hand(X: np.ndarray, y: np.ndarray, epochs: int, lr: float = 0.01):
    """The article's NumPy Adam, one sample per update, squared error (w·x − y)²."""
    w = np.zeros(3)
    m, v, t, losses = np.zeros(3), np.zeros(3), 0, []
    b1, b2, eps = 0.9, 0.999, 1e-8
    for _ in range(epochs):
        for xi, yi in zip(X, y[:, 0], strict=True):
            err = xi @ w - yi
            losses.append(err**2)
            g = 2 * err * xi
            t += 1
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            w = w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return w, losses


def test_batch_1_without_shuffle_equals_per_sample_loop_article_003():
    ds = datasets.load("article_six_samples")
    X, y = ds.X_train, ds.y_train
    model = nn.Linear(3, 1, bias=False).double()
    with gdlab.no_grad():
        model.weight.zero_()
    h = train.fit(
        model,
        nn.MSELoss(),
        optim.Adam(model.parameters(), lr=0.01),
        DataLoader(TensorDataset(X, y), batch_size=1),
        epochs=50,
    )
    w, losses = _article_003_by_hand(X, y, epochs=50)
    np.testing.assert_allclose(model.weight.data[0], w, rtol=1e-12)
    np.testing.assert_allclose(h.steps["loss"], losses, rtol=1e-12)
    assert h.epochs["loss"][-1] < h.epochs["loss"][0]


# ------------------------------------------------------------------ accumulation
@pytest.mark.parametrize(
    "n, b, k, reduction",
    [
        (22, 4, 3, "mean"),
        (24, 4, 3, "mean"),
        (7, 2, 2, "mean"),
        (10, 3, 4, "mean"),
        (22, 4, 3, "sum"),
    ],
)
def test_accumulation_equals_one_big_batch(n, b, k, reduction, rng):
    X, y = rng.normal(size=(n, 5)), rng.normal(size=(n, 2))

    def run(batch_size: int, accumulate: int) -> tuple[list[np.ndarray], train.History]:
        gdlab.manual_seed(1)
        model = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 2)).double()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        h = train.fit(
            model,
            nn.MSELoss(reduction=reduction),
            opt,
            DataLoader(TensorDataset(X, y), batch_size),
            epochs=3,
            accumulate=accumulate,
        )
        return _params(model), h

    p_acc, h_acc = run(b, k)
    p_big, h_big = run(b * k, 1)
    for a, c in zip(p_acc, p_big, strict=True):
        np.testing.assert_allclose(a, c, rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(h_acc.steps["loss"], h_big.steps["loss"], rtol=RTOL)
    np.testing.assert_allclose(h_acc.steps["grad_norm"], h_big.steps["grad_norm"], rtol=RTOL)
    assert h_acc.steps["samples_seen"] == h_big.steps["samples_seen"]


# ------------------------------------------------------------------ divergence
def _nan_problem(k: int) -> tuple[np.ndarray, np.ndarray]:
    X, y = _article_data()
    X = X.copy()
    X[k, 3] = np.nan
    return X, y


def test_injected_nan_stops_at_exact_step_with_last_good_weights():
    k = 37
    X, y = _nan_problem(k)
    model = _article_model()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    loader = DataLoader(TensorDataset(X, y), batch_size=1)
    with pytest.raises(DivergenceError, match=r"step 38 .*lr 0\.01.*'0\.weight'") as info:
        train.fit(model, nn.MSELoss(), opt, loader, epochs=1)
    err = info.value
    assert (err.step, err.epoch, err.lr, err.parameter) == (38, 0, 0.01, "0.weight")
    reference = _article_model()  # the same run stopped just before the bad sample
    train.fit(
        reference,
        nn.MSELoss(),
        optim.Adam(reference.parameters(), lr=1e-2),
        DataLoader(TensorDataset(X, y), batch_size=1),
        epochs=1,
        max_steps=k,
    )
    for a, b in zip(_params(model), _params(reference), strict=True):
        assert np.isfinite(a).all()
        np.testing.assert_array_equal(a, b)


def test_huge_lr_diverges_and_leaves_finite_weights():
    X, y = _article_data()
    model = _article_model()
    with pytest.raises(DivergenceError, match="training diverged at step") as info:
        train.fit(
            model,
            nn.MSELoss(),
            optim.SGD(model.parameters(), lr=1e3),
            DataLoader(TensorDataset(X * 100, y), batch_size=None),
            epochs=200,
        )
    assert info.value.lr == 1e3
    assert all(np.isfinite(p).all() for p in _params(model))


def test_rollback_lowers_lr_and_continues():
    X, y = _article_data()
    model = _article_model()
    opt = optim.SGD(model.parameters(), lr=1e3)
    with pytest.warns(RuntimeWarning, match="rolled back"):
        h = train.fit(
            model,
            nn.MSELoss(),
            opt,
            DataLoader(TensorDataset(X, y), None),
            epochs=60,
            divergence="rollback",
            max_rollbacks=20,
        )
    events = [e for e in h.events if e["event"] == "rollback"]
    assert events[0]["step"] == 44 and events[0]["lr"] == 500.0  # diverges at 44 otherwise
    assert opt.param_groups[0]["lr"] <= 500.0
    assert h.num_steps == 60 and all(np.isfinite(h.steps["loss"]))


def test_each_rollback_lowers_the_lr_again():
    # issue 14.4: each retry restored the snapshot's lr before halving it, so six retries all
    # ran at lr/2; the lr must fall geometrically from the lr the failed attempt used
    X, y = _article_data()
    model = _article_model()
    opt = optim.SGD(model.parameters(), lr=1e3)
    with pytest.warns(RuntimeWarning, match="rolled back"):
        h = train.fit(
            model,
            nn.MSELoss(),
            opt,
            DataLoader(TensorDataset(X * 100, y * 100), None),
            epochs=50,
            divergence="rollback",
            max_rollbacks=6,
        )
    lrs = [e["lr"] for e in h.events if e["event"] == "rollback"]
    assert len(lrs) >= 2 and lrs == [1e3 * 0.5 ** (i + 1) for i in range(len(lrs))]
    assert opt.param_groups[0]["lr"] == lrs[-1] and h.num_steps == 50


def test_rollback_gives_up_after_max_retries():
    # float32 overflows at 3.4e38: every retry's update (lr 1e39, then 5e38) overflows again
    X, y = _article_data()
    gdlab.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid(), nn.Linear(1, 1))
    with pytest.warns(RuntimeWarning, match="rolled back") as record:
        with pytest.raises(DivergenceError, match="step 1 .*lr 5e[+]38") as info:
            train.fit(
                model,
                nn.MSELoss(),
                optim.SGD(model.parameters(), lr=1e39),
                DataLoader(TensorDataset(X * 10, y * 10), None),
                divergence="rollback",
                max_rollbacks=1,
            )
    assert len(record) == 1 and info.value.step == 1
    assert all(np.isfinite(p).all() for p in _params(model))


@pytest.mark.parametrize("divergence", ["raise", "rollback"])
def test_nan_in_the_data_is_blamed_on_the_data_not_the_lr(divergence):
    # issue 14.6: NaN inputs were reported as divergence and blamed on the learning rate
    X, y = _nan_problem(5)
    model = _article_model()
    with pytest.warns(NonFiniteDataWarning, match=r"tensors\[0\] contains nan at row 5, column 3"):
        dataset = TensorDataset(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no rollback: a lower lr cannot fix the data
        with pytest.raises(DivergenceError) as info:
            train.fit(
                model,
                nn.MSELoss(),
                optim.SGD(model.parameters(), lr=0.1),
                DataLoader(dataset, 4),
                divergence=divergence,
            )
    message = str(info.value)
    assert info.value.step == 2 and "step 2 " in message
    assert "The data are the cause, not the learning rate" in message
    assert "inputs[0] nan at row 1, column 3 of the batch" in message
    assert "Lower the learning rate" not in message


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda ps: optim.SGD(ps, lr=0.01),
        lambda ps: optim.SGD(ps, lr=0.01, momentum=0.9),
        lambda ps: optim.Adam(ps, lr=0.01),
    ],
    ids=["SGD", "Momentum", "Adam"],
)
def test_update_that_overflows_a_parameter_is_undone(make_opt):
    # finite loss and gradients, but the update itself overflows float32: only the snapshot
    # taken before the step can give the last good weights back
    X, y = _article_data()
    gdlab.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid(), nn.Linear(1, 1))
    opt = make_opt(model.parameters())
    trainer = train.Trainer(model, nn.MSELoss(), opt, DataLoader(TensorDataset(X, y), 10))
    trainer.fit(epochs=1, max_steps=2)
    good = _params(model)
    opt.param_groups[0]["lr"] = 1e39  # float32 max is 3.4e38
    with pytest.raises(DivergenceError, match="non-finite parameter after the update") as info:
        trainer.fit(epochs=1)
    assert info.value.step == 3 and info.value.parameter is not None
    for a, b in zip(_params(model), good, strict=True):
        np.testing.assert_array_equal(a, b)
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())


@pytest.mark.parametrize(
    "grads",
    [
        [np.float32([[3.0, 4.0]]), np.float32([12.0])],
        [np.linspace(-1, 1, 7), np.float32(np.arange(6).reshape(2, 3) / 7)],
        [np.zeros((0, 3), np.float32), np.float64([1e-200, 3e-200])],
        [np.float64([1e200, 1e200])],
        [np.float32([np.nan, 1.0]), np.float32([2.0])],
        [np.float32([np.inf])],
        [],
    ],
    ids=["f32", "mixed", "empty-tiny", "overflow", "nan", "inf", "none"],
)
def test_grad_norm_equals_get_total_norm_bit_for_bit(grads):
    from gdlab.nn.utils.clip_grad import get_total_norm
    from gdlab.train.trainer import _grad_norm

    scratch: list = []
    for _ in range(2):  # the second call reuses the float64 scratch buffers
        with np.errstate(over="ignore"):  # the "overflow" row: inf is the expected norm
            got, want = _grad_norm(grads, scratch), get_total_norm(grads)
        assert np.array_equal(got, want, equal_nan=True) and type(got) is float


# ------------------------------------------------------------------ closures, validation
def test_lbfgs_uses_a_closure():
    X, y = _article_data()
    model = _article_model()
    opt = optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe")
    h = train.fit(model, nn.MSELoss(), opt, DataLoader(TensorDataset(X, y), None), epochs=5)
    assert h.steps["loss"][-1] < 0.5 * h.steps["loss"][0]


def test_validation_metrics_and_plateau_scheduler(rng):
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    gdlab.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).double()
    opt = optim.Adam(model.parameters(), lr=0.05)
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    h = train.fit(
        model,
        nn.CrossEntropyLoss(),
        opt,
        DataLoader(TensorDataset(X[:90], y[:90]), 30),
        val_loader=DataLoader(TensorDataset(X[90:], y[90:]), 64),
        epochs=8,
        metrics=("accuracy", "top_1_accuracy"),
        scheduler=sched,
    )
    keys = {"epoch", "loss", "lr", "accuracy", "top_1_accuracy", "val_loss", "val_accuracy"}
    assert keys <= set(h.epochs) and h.epochs["epoch"] == list(range(8))
    assert h.epochs["accuracy"] == h.epochs["top_1_accuracy"]
    assert h.epochs["val_accuracy"][-1] >= 0.8
    assert model.training  # evaluation switched back to training mode


class _ClosureSGD(optim.SGD):
    """An optimizer that declares it wants a closure; its name is not "LBFGS"."""

    requires_closure = True

    def step(self, closure=None):
        self.closures = getattr(self, "closures", 0) + (closure is not None)
        return super().step(closure)


class LBFGS(optim.SGD):
    """Named like L-BFGS but declaring nothing: stepped without a closure."""

    def step(self, closure=None):
        assert closure is None
        return super().step()


class _MetricStepLR(optim.lr_scheduler.StepLR):
    """A scheduler that declares it takes the monitored metric."""

    requires_metric = True

    def step(self, metric=None):  # the constructor's initial step passes none
        if metric is not None:
            self.metrics = [*getattr(self, "metrics", []), metric]
        super().step()


@pytest.mark.parametrize(
    "opt_cls, sched_cls, closures, metrics",
    [
        (_ClosureSGD, None, 4, None),
        (LBFGS, None, None, None),
        (optim.SGD, _MetricStepLR, None, 2),
    ],
    ids=["closure-attribute", "name-is-not-a-protocol", "metric-attribute"],
)
def test_optimizer_and_scheduler_protocol_is_an_attribute(opt_cls, sched_cls, closures, metrics):
    X, y = _article_data()
    model = _article_model()
    opt = opt_cls(model.parameters(), lr=1e-3)
    sched = None if sched_cls is None else sched_cls(opt, step_size=1)
    train.fit(
        model, nn.MSELoss(), opt, DataLoader(TensorDataset(X, y), 50), epochs=2, scheduler=sched
    )
    assert getattr(opt, "closures", None) == closures
    assert len(getattr(sched, "metrics", [])) == (metrics or 0)
    if metrics:
        assert all(isinstance(m, float) for m in sched.metrics)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(epochs=0), "epochs must be a positive int"),
        (dict(accumulate=0), "accumulate must be a positive int"),
        (dict(divergence="warn"), "divergence must be one of"),
        (dict(grad_clip_norm=-1.0), "grad_clip_norm must be positive"),
        (dict(max_steps=2.5), "max_steps must be a positive int"),
        (dict(epochs=-1), "epochs must be a positive int"),
        (dict(epochs=True), "epochs must be a positive int"),
        (dict(max_rollbacks=-1), "max_rollbacks must be a non-negative int"),
        (dict(rollback_factor=1.0), "rollback_factor must be in"),
        (dict(scheduler_interval="batch"), "scheduler_interval must be 'epoch' or 'step'"),
    ],
)
def test_bad_arguments(kwargs, match):
    X, y = _article_data()
    model = _article_model()
    with pytest.raises(ValueError, match=match):
        train.fit(
            model,
            nn.MSELoss(),
            optim.SGD(model.parameters(), lr=0.1),
            DataLoader(TensorDataset(X, y), 10),
            **{"epochs": 1, **kwargs},
        )


def test_batch_without_target_is_a_type_error():
    X, _ = _article_data()
    model = _article_model()
    with pytest.raises(TypeError, match=r"tuple \(inputs\.\.\., target\)"):
        train.fit(
            model,
            nn.MSELoss(),
            optim.SGD(model.parameters(), lr=0.1),
            DataLoader(TensorDataset(X), 10),
        )


def test_grad_clip_norm_bounds_the_update():
    X, y = _article_data()
    model = _article_model()
    before = _params(model)
    h = train.fit(
        model,
        nn.MSELoss(),
        optim.SGD(model.parameters(), lr=1.0),
        DataLoader(TensorDataset(X, y), None),
        max_steps=1,
        grad_clip_norm=1e-3,
    )
    moved = np.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(_params(model), before, strict=True)))
    assert h.steps["grad_norm"][0] > 1e-3  # the recorded norm is the one before clipping
    assert moved == pytest.approx(1e-3, rel=1e-3)


def test_scheduler_per_step_writes_lr_each_step():
    X, y = _article_data()
    model = _article_model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    sched = optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    h = train.fit(
        model,
        nn.MSELoss(),
        opt,
        DataLoader(TensorDataset(X, y), 25),
        epochs=1,
        scheduler=sched,
        scheduler_interval="step",
    )
    assert h.steps["lr"] == [0.1, 0.05, 0.025, 0.0125]


def test_divergence_ignore_records_nan_and_continues():
    X, y = _nan_problem(3)
    model = _article_model()
    with np.errstate(all="ignore"):
        h = train.fit(
            model,
            nn.MSELoss(),
            optim.SGD(model.parameters(), lr=0.1),
            DataLoader(TensorDataset(X, y), 10),
            epochs=1,
            divergence="ignore",
        )
    assert h.num_steps == 10 and np.isnan(h.steps["loss"][0])


def test_resume_into_another_architecture_names_the_key(tmp_path):
    X, y = _article_data()
    model = _article_model()
    train.fit(
        model,
        nn.MSELoss(),
        optim.SGD(model.parameters(), lr=0.1),
        DataLoader(TensorDataset(X, y), 50),
        run_dir=tmp_path,
    )
    other = nn.Sequential(nn.Linear(8, 2), nn.Sigmoid(), nn.Linear(2, 1)).double()
    with pytest.raises(ValueError, match=r"size mismatch for 0\.weight.*\(1, 8\).*\(2, 8\)"):
        train.fit(
            other,
            nn.MSELoss(),
            optim.SGD(other.parameters(), lr=0.1),
            DataLoader(TensorDataset(X, y), 50),
            epochs=2,
            resume=tmp_path,
        )


def test_plain_list_of_batches_works(rng):
    X, y = rng.normal(size=(12, 8)), rng.normal(size=(12, 1))
    batches = [(gdlab.tensor(X[i : i + 4]), gdlab.tensor(y[i : i + 4])) for i in range(0, 12, 4)]
    model = _article_model()
    h = train.fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), batches, epochs=2)
    assert h.num_steps == 6 and h.steps["samples_seen"][-1] == 24
