"""Scheduler lr sequences equal torch.optim.lr_scheduler's over 100 epochs, and round-trip."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gdlab import optim  # noqa: E402
from gdlab.nn import Parameter  # noqa: E402
from gdlab.optim import lr_scheduler as gd_sched  # noqa: E402
from gdlab.optim import schedules  # noqa: E402

EPOCHS = 100
METRICS = [1.0 / (1 + 0.1 * t) if t < 30 else 0.75 + 0.01 * math.sin(t) for t in range(EPOCHS)]
METRICS[50] = float("nan")  # NaN is never an improvement


def _seq(m, o):
    return m.SequentialLR(o, [m.LinearLR(o, 0.1, total_iters=5), m.CosineAnnealingLR(o, 30),
                              m.StepLR(o, 7, 0.5)], milestones=[5, 40])  # fmt: skip


SCHEDULERS = {
    "lambda": lambda m, o: m.LambdaLR(o, [lambda e: 0.97**e, lambda e: 1 / (1 + e)]),
    "multiplicative": lambda m, o: m.MultiplicativeLR(o, lambda e: 0.95),
    "step": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "multistep": lambda m, o: m.MultiStepLR(o, milestones=[10, 30, 30, 60], gamma=0.3),
    "constant": lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=8),
    "linear": lambda m, o: m.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=17),
    "exponential": lambda m, o: m.ExponentialLR(o, gamma=0.93),
    "polynomial": lambda m, o: m.PolynomialLR(o, total_iters=40, power=2.0),
    "cosine": lambda m, o: m.CosineAnnealingLR(o, T_max=30, eta_min=0.001),
    "warm_restarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=7, eta_min=0.002),
    "warm_restarts_mult": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    "cyclic": lambda m, o: m.CyclicLR(o, 0.01, [0.1, 0.2], step_size_up=6),
    "cyclic_tri2": lambda m, o: m.CyclicLR(o, 0.01, 0.1, 5, 9, mode="triangular2"),
    "cyclic_exp": lambda m, o: m.CyclicLR(o, 0.01, 0.1, 4, mode="exp_range", gamma=0.97,
                                          cycle_momentum=False),
    "onecycle_cos": lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 0.3], total_steps=EPOCHS + 1),
    "onecycle_linear": lambda m, o: m.OneCycleLR(o, 0.4, epochs=11, steps_per_epoch=10,
                                                 anneal_strategy="linear", pct_start=0.25),
    "onecycle_three": lambda m, o: m.OneCycleLR(o, 0.4, total_steps=120, three_phase=True),
    "sequential": _seq,
    "chained": lambda m, o: m.ChainedScheduler([m.ConstantLR(o, 0.5, total_iters=10),
                                                m.ExponentialLR(o, 0.95)]),
    "plateau": lambda m, o: m.ReduceLROnPlateau(o, factor=0.5, patience=3, cooldown=2),
    "plateau_max_abs": lambda m, o: m.ReduceLROnPlateau(o, "max", 0.3, 2, 0.01, "abs",
                                                        min_lr=[0.01, 0.0]),
}  # fmt: skip


def _optimizers():
    gd = optim.SGD(
        [{"params": [Parameter(np.zeros(2))]}, {"params": [Parameter(np.zeros(3))], "lr": 0.05}],
        lr=0.1,
        momentum=0.9,
    )
    th = torch.optim.SGD([{"params": [torch.zeros(2, requires_grad=True)]},
                          {"params": [torch.zeros(3, requires_grad=True)], "lr": 0.05}],
                         lr=0.1, momentum=0.9)  # fmt: skip
    return gd, th


def _step(sched, name, t):
    if name.startswith("plateau"):
        sched.step(METRICS[t])
    else:
        sched.step()


def _state(opt):
    return [(g["lr"], g.get("momentum")) for g in opt.param_groups]


@pytest.mark.parametrize("name", SCHEDULERS)
def test_lr_sequence_matches_torch(name):
    gd, th = _optimizers()
    make = SCHEDULERS[name]
    s_gd, s_th = make(gd_sched, gd), make(torch.optim.lr_scheduler, th)
    assert _state(gd) == _state(th)
    for t in range(EPOCHS):
        gd.step()
        th.step()
        _step(s_gd, name, t)
        _step(s_th, name, t)
        assert s_gd.get_last_lr() == s_th.get_last_lr(), f"{name} epoch {t}"
        assert _state(gd) == _state(th), f"{name} epoch {t}"
        assert all(lr >= 0 for lr in s_gd.get_last_lr())


@pytest.mark.parametrize("name", SCHEDULERS)
def test_state_dict_round_trip_continues_identically(name):
    gd, _ = _optimizers()
    make = SCHEDULERS[name]
    sched = make(gd_sched, gd)
    for t in range(EPOCHS):
        if t == 37:
            saved_opt = copy.deepcopy(gd.state_dict())
            saved = copy.deepcopy(sched.state_dict())
            gd2, _ = _optimizers()
            sched2 = make(gd_sched, gd2)
            gd2.load_state_dict(saved_opt)
            sched2.load_state_dict(saved)
        gd.step()
        _step(sched, name, t)
        if t >= 37:
            gd2.step()
            _step(sched2, name, t)
            assert sched2.get_last_lr() == sched.get_last_lr(), f"{name} epoch {t}"


def test_plateau_composes_with_warmup_in_sequence():
    gd, _ = _optimizers()
    warm = gd_sched.LinearLR(gd, start_factor=0.1, total_iters=5)
    plateau = gd_sched.ReduceLROnPlateau(gd, factor=0.5, patience=1)
    seq = gd_sched.SequentialLR(gd, [warm, plateau], milestones=[5])
    lrs = []
    for _ in range(12):
        gd.step()
        seq.step(1.0)  # a flat metric: the plateau halves the lr every 2 epochs
        lrs.append(seq.get_last_lr()[0])
    assert lrs[3] == pytest.approx(0.082)  # warming up: 0.01 + 0.018·epoch
    assert lrs[4:6] == [0.1, 0.1]  # the plateau phase starts from the base lr
    assert lrs[6] == pytest.approx(0.05) and lrs[-1] < 0.1 / 4


CLOSED_FORMS = [  # scheduler factory, closed-form schedule of group 0 (initial lr 0.1)
    ("step", schedules.step(0.1, 7, 0.5)),
    ("multistep", schedules.multistep(0.1, [10, 30, 30, 60], 0.3)),
    ("exponential", schedules.exponential(0.1, 0.93)),
    ("polynomial", schedules.polynomial(0.1, 40, 2.0)),
    ("cosine", schedules.cosine(0.1, 30, 0.001)),
    ("cyclic_tri2", schedules.cyclic(0.01, 0.1, 5, 9, mode="triangular2")),
    ("onecycle_three", schedules.one_cycle(0.4, 120, three_phase=True)),
]


@pytest.mark.parametrize("name, schedule", CLOSED_FORMS, ids=[c[0] for c in CLOSED_FORMS])
def test_closed_form_schedules_equal_the_schedulers(name, schedule):
    gd, _ = _optimizers()
    sched = SCHEDULERS[name](gd_sched, gd)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(EPOCHS):
        gd.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    np.testing.assert_allclose(lrs, [schedule(t) for t in range(EPOCHS + 1)], rtol=1e-12)


def test_warmup_endpoints_and_cosine_end_are_exact():
    s = schedules.warmup_cosine(0.1, warmup_steps=10, total_steps=110, eta_min=0.001)
    assert s(0) == 0.0 and s(10) == 0.1 and s(110) == pytest.approx(0.001, abs=1e-15)
    assert schedules.inverse_time(1.0, 0.1)(10) == 0.5
    assert schedules.linear_warmup(0.0, 0.2, 4)(4) == 0.2


BAD = [
    (lambda o: gd_sched.StepLR(o, step_size=0), ValueError, "step_size"),
    (lambda o: gd_sched.StepLR(o, 3, gamma=0), ValueError, "gamma"),
    (lambda o: gd_sched.ExponentialLR(o, gamma=0), ValueError, "gamma"),
    (lambda o: gd_sched.CosineAnnealingLR(o, T_max=0), ValueError, "T_max"),
    (lambda o: gd_sched.StepLR(o, 3, last_epoch=4), KeyError, "initial_lr"),
    (lambda o: gd_sched.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor"),
    (lambda o: gd_sched.ConstantLR(o, factor=2.0), ValueError, "between 0 and 1"),
    (lambda o: gd_sched.OneCycleLR(o, 0.1), ValueError, "total_steps"),
    (lambda o: gd_sched.StepLR("opt", 3), TypeError, "is not an Optimizer"),
]


@pytest.mark.parametrize("make, exc, msg", BAD)
def test_bad_scheduler_arguments(make, exc, msg):
    gd, _ = _optimizers()
    with pytest.raises(exc, match=msg):
        make(gd)


def test_onecycle_past_total_steps_and_step_order_warning():
    gd, _ = _optimizers()
    sched = gd_sched.OneCycleLR(gd, 0.1, total_steps=3)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched.step()
        sched.step()
        with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of"):
            sched.step()


def test_plateau_requires_a_metric():
    gd, _ = _optimizers()
    with pytest.raises(TypeError):
        gd_sched.ReduceLROnPlateau(gd).step()


RESUMABLE = ["step", "multistep", "exponential", "cosine", "linear", "polynomial", "cyclic"]


@pytest.mark.parametrize("name", RESUMABLE)
def test_last_epoch_resume_matches_torch(name):
    """Built with last_epoch=k (initial_lr present): the same lrs as torch from there on."""
    gd, th = _optimizers()
    for opt in (gd, th):
        for group in opt.param_groups:
            group["initial_lr"] = group["lr"]
    make = {
        "step": lambda m, o: m.StepLR(o, 7, 0.5, last_epoch=10),
        "multistep": lambda m, o: m.MultiStepLR(o, [5, 20], 0.3, last_epoch=10),
        "exponential": lambda m, o: m.ExponentialLR(o, 0.9, last_epoch=10),
        "cosine": lambda m, o: m.CosineAnnealingLR(o, 30, 0.001, last_epoch=10),
        "linear": lambda m, o: m.LinearLR(o, 0.2, total_iters=17, last_epoch=10),
        "polynomial": lambda m, o: m.PolynomialLR(o, 40, 2.0, last_epoch=10),
        "cyclic": lambda m, o: m.CyclicLR(o, 0.01, 0.1, 6, last_epoch=10),
    }[name]
    s_gd, s_th = make(gd_sched, gd), make(torch.optim.lr_scheduler, th)
    for t in range(30):
        assert s_gd.get_last_lr() == s_th.get_last_lr(), f"{name} step {t}"
        gd.step()
        th.step()
        s_gd.step()
        s_th.step()
