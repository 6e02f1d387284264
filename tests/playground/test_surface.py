"""The surfaces view's computation: the same paths as ``run_trajectory`` (so as ``gdlab
surface``), bit for bit; divergence at the same step; every bad setting refused by name."""

from __future__ import annotations

import numpy as np
import pytest

from gdlab.lab import run_trajectory
from gdlab.playground.optimizers import optimizer_names
from gdlab.playground.settings import SettingsError
from gdlab.playground.surface import (
    OptimizerChoice,
    SurfaceSettings,
    contour,
    paths_message,
    run_paths,
)

LRS = {"sgd": 1e-3, "momentum": 1e-3, "nesterov": 2e-3, "adagrad": 0.1, "rmsprop": 1e-2,
       "adadelta": 1.0, "adam": 0.05, "adamw": 0.05, "nadam": 0.02, "radam": 0.05,
       "adamax": 0.05, "rprop": 1e-2, "asgd": 1e-3, "lion": 1e-2, "adabelief": 0.05,
       "sgd_schedule_free": 1e-2, "adamw_schedule_free": 0.05, "radam_schedule_free": 0.05,
       "prodigy": 1.0, "dadapt_sgd": 1.0, "dadapt_adam": 1.0, "lookahead": 0.05,
       "yogi": 0.05, "adan": 0.02, "lamb": 0.02, "lars": 1e-3, "novograd": 0.02, "madgrad": 1e-2,
       "adabound": 0.05, "amsbound": 0.05, "adopt": 0.05, "ademamix": 0.02,
       "shampoo": 1e-2, "soap": 0.05, "sophia": 1e-2}  # fmt: skip

# (function, start or None, steps): smooth, multimodal, saddle, noisy
CASES = [
    ("rosenbrock", None, 150),
    ("ravine", (-4.0, 1.0), 100),
    ("beale", (1.0, 1.5), 100),
    ("rastrigin", None, 80),
    ("saddle", None, 60),
    ("rosenbrock_noisy", (-1.0, 2.0), 80),
]


def test_every_registry_optimizer_is_offered_except_those_with_a_closure():
    from gdlab.lab.optimizers import OPTIMIZERS, command_optimizer_names

    closure = {n for n, s in OPTIMIZERS.items() if getattr(s.cls, "requires_closure", False)}
    assert {"lbfgs", "sam", "asam"} <= closure
    assert set(optimizer_names()) == set(command_optimizer_names()) - closure
    assert set(LRS) == set(optimizer_names())


@pytest.mark.parametrize("function, start, steps", CASES)
def test_paths_equal_run_trajectory_bit_for_bit(function, start, steps):
    chosen = tuple(OptimizerChoice(name, LRS[name]) for name in optimizer_names())
    settings = SurfaceSettings(function, start, chosen, steps, momentum=0.8, betas=(0.85, 0.99),
                               seed=3)  # fmt: skip
    for path, choice in zip(run_paths(settings), chosen, strict=True):
        ref = run_trajectory(function, choice.name, start, steps, choice.lr, seed=3,
                             **settings.hparams(choice.name))  # fmt: skip
        np.testing.assert_array_equal(path.points, ref.points, err_msg=choice.name)
        assert path.diverged_step == ref.diverged_step


def test_huge_lr_diverges_at_run_trajectorys_step_and_others_go_on():
    chosen = (OptimizerChoice("sgd", 1e9), OptimizerChoice("adam", 0.05))
    sgd, adam = run_paths(SurfaceSettings("rosenbrock", optimizers=chosen, steps=50))
    ref = run_trajectory("rosenbrock", "sgd", None, 50, 1e9)
    assert sgd.diverged_step == ref.diverged_step == 1
    assert np.isnan(sgd.points[2:]).all()
    assert adam.diverged_step is None and np.isfinite(adam.points).all()
    message = paths_message(SurfaceSettings("rosenbrock", optimizers=chosen, steps=50))
    assert message["warning"].startswith("sgd (lr 1e+09) diverged at step 1")
    assert message["paths"][0]["x"][2] is None  # NaN travels as null


@pytest.mark.parametrize(
    "schedule, lr_at_end",
    [("constant", 0.1), ("step", 0.1 * 0.5**2), ("exponential", 0.1 * 0.5**20), ("cosine", 0.0)],
)
def test_schedules_set_the_optimizers_lr_each_step(schedule, lr_at_end, monkeypatch):
    """The lr the optimizer sees after 20 steps (torch's StepLR/ExponentialLR/Cosine)."""
    import gdlab.playground.surface as surface

    seen = []
    original = surface._step_all

    def spy(fn, runs, active):
        original(fn, runs, active)
        seen.append(runs[0].optimizer.param_groups[0]["lr"])

    monkeypatch.setattr(surface, "_step_all", spy)
    settings = SurfaceSettings("bowl", optimizers=(OptimizerChoice("sgd", 0.1),), steps=20,
                               schedule=schedule, gamma=0.5, step_size=10)  # fmt: skip
    run_paths(settings)
    assert seen[-1] == pytest.approx(lr_at_end, abs=1e-15)


def test_contour_is_log_gap_when_f_star_known_else_f():
    c = contour("rosenbrock")
    assert c.log and c.z.shape == (120, 120)
    assert c.z.min() == pytest.approx(np.log10(1e-3), abs=0.5)  # the valley floor
    s = contour("saddle")
    assert not s.log and s.z.min() == pytest.approx(-4.0, abs=1e-3)  # x² − y² at (≈0, ±2)


BAD = [
    ({"function": "nope"}, "function must be one of"),
    ({"steps": "0"}, "steps must lie in [1, 2000], got 0"),
    ({"steps": "2.5"}, "steps must be a whole number, got '2.5'"),
    ({"optimizers": [{"name": "sgd", "lr": "nan"}]}, "lr of sgd must be a finite number"),
    ({"optimizers": [{"name": "sgd", "lr": "1e10"}]}, "lr of sgd must lie in [1e-06, 1e+09]"),
    ({"optimizers": [{"name": "sgd", "lr": "-1"}]}, "lr of sgd must lie in"),
    ({"optimizers": [{"name": "sgd", "lr": "abc"}]}, "lr of sgd must be a number, got 'abc'"),
    ({"optimizers": [{"name": "lbfgs", "lr": 1}]}, "optimizer must be one of"),
    ({"optimizers": []}, "tick between 1 and 8 optimizers"),
    ({"optimizers": [{"name": "sgd", "lr": 1}] * 2}, "each optimizer may be ticked once"),
    ({"momentum": 1.0}, "momentum must lie in [0, 1), got 1"),
    ({"beta2": "inf"}, "beta2 must be a finite number"),
    ({"beta1": 1}, "beta1 must lie in [0, 1), got 1"),
    ({"start": [50, 0]}, "start x must lie in [-2, 2], got 50"),
    ({"start": [0]}, "start must be two numbers"),
    ({"schedule": "warp"}, "schedule must be one of constant, step, exponential, cosine"),
    ({"gamma": 0}, "gamma must lie in (0, 1], got 0"),
    ({"seed": True}, "seed must be a number, got True"),
]


@pytest.mark.parametrize("raw, message", BAD, ids=[m for _, m in BAD])
def test_bad_settings_are_refused_with_their_name_and_value(raw, message):
    with pytest.raises(SettingsError) as info:
        SurfaceSettings.from_json({"function": "rosenbrock", **raw})
    assert message in str(info.value)


def test_settings_that_are_not_an_object_are_refused():
    with pytest.raises(SettingsError, match="surface settings must be an object, got str"):
        SurfaceSettings.from_json("rosenbrock")


def test_page_settings_as_strings_parse_to_the_same_run():
    raw = {"function": "ravine", "start": ["-4", "1"], "steps": "40", "momentum": "0.5",
           "optimizers": [{"name": "momentum", "lr": "0.1"}]}  # fmt: skip
    s = SurfaceSettings.from_json(raw)
    assert s.start == (-4.0, 1.0) and s.steps == 40 and s.optimizers[0].lr == 0.1
    ref = run_trajectory("ravine", "momentum", (-4.0, 1.0), 40, 0.1, momentum=0.5)
    np.testing.assert_array_equal(run_paths(s)[0].points, ref.points)
