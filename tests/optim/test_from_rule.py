"""``from_rule``: a rule function becomes a torch-shaped optimizer equal to the built-in class
of the same rule, with the constructor's validation derived from the defaults."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from gdlab import optim
from gdlab.nn import Parameter
from gdlab.optim import from_rule
from gdlab.optim.lr_scheduler import StepLR

# (built-in class, its rule, the defaults handed to from_rule)
SAME_RULE = [
    (optim.Lion, optim.lion_, {"lr": 1e-4, "betas": (0.9, 0.99), "weight_decay": 0.0,
                               "maximize": False}),
    (optim.Adamax, optim.adamax_, {"lr": 2e-3, "betas": (0.9, 0.999), "eps": 1e-8,
                                   "weight_decay": 0.0, "maximize": False}),
    (optim.Momentum, optim.momentum_, {"lr": 1e-3, "momentum": 0.9}),
]  # fmt: skip


def _params(seed=0):
    rng = np.random.default_rng(seed)
    return [Parameter(rng.normal(size=(3, 4))), Parameter(rng.normal(size=5))]


def _train(opt, params, steps, start=0):
    for t in range(start, start + steps):
        for p in params:
            p.grad = np.sin(3 * p.data + t) + 0.5 * p.data
        opt.step()


@pytest.mark.parametrize("cls, rule, defaults", SAME_RULE, ids=[r[0].__name__ for r in SAME_RULE])
def test_class_from_rule_equals_the_builtin(cls, rule, defaults):
    Made = from_rule(rule, defaults, name="Made")
    a, b = _params(), _params()
    kwargs = {"lr": 0.05}
    ours, ref = Made(a, **kwargs), cls(b, **kwargs)
    sched_a, sched_b = StepLR(ours, 2, 0.5), StepLR(ref, 2, 0.5)
    for t in range(6):
        _train(ours, a, 1, t)
        _train(ref, b, 1, t)
        sched_a.step()
        sched_b.step()
        for p, q in zip(a, b, strict=True):
            np.testing.assert_array_equal(p.data, q.data)
    assert ours.state_dict()["state"].keys() == ref.state_dict()["state"].keys()


def test_state_dict_resumes_exactly_and_groups_work():
    Lion = from_rule(optim.lion_, SAME_RULE[0][2], name="MyLion")
    a = _params()
    opt = Lion([{"params": a[:1]}, {"params": a[1:], "lr": 0.01}], lr=0.1)
    _train(opt, a, 3)
    b = [Parameter(p.data.copy()) for p in a]
    clone = Lion([{"params": b[:1]}, {"params": b[1:]}], lr=0.1)
    clone.load_state_dict(copy.deepcopy(opt.state_dict()))
    assert clone.param_groups[1]["lr"] == 0.01
    _train(opt, a, 3, 3)
    _train(clone, b, 3, 3)
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_class_shape():
    Lion = from_rule(optim.lion_, SAME_RULE[0][2])
    assert Lion.__name__ == "Lion" and issubclass(Lion, optim.Optimizer)
    assert Lion.__module__ == optim.lion_.__module__
    assert str(__import__("inspect").signature(Lion)) == (
        "(params, lr=0.0001, betas=(0.9, 0.99), weight_decay=0.0, maximize=False)"
    )
    opt = Lion(_params(), 0.3, (0.5, 0.6))  # positional, as torch's classes
    assert opt.param_groups[0]["lr"] == 0.3 and opt.param_groups[0]["betas"] == (0.5, 0.6)


def _rule_(param, grad, state, *, lr, momentum=0.9, steps=3, nesterov=False, shift=-1.0):
    param -= lr * grad


DEFAULTS = {"lr": 0.1, "momentum": 0.9, "steps": 3, "nesterov": False, "shift": -1.0}

BAD_HYPER = [
    ({"lr": -1.0}, ValueError, "Invalid learning rate: -1.0"),
    ({"lr": "fast"}, TypeError, "Invalid learning rate type"),
    ({"momentum": -0.5}, ValueError, "Invalid momentum value: -0.5"),
    ({"momentum": float("nan")}, ValueError, "Invalid momentum value: nan"),
    ({"momentum": "high"}, TypeError, "Rule: momentum must be a number, got 'high'"),
    ({"steps": 2.5}, TypeError, "Rule: steps must be an int, got 2.5"),
    ({"nesterov": 1}, TypeError, "Rule: nesterov must be a bool, got 1"),
    ({"unknown": 1}, TypeError, r"unexpected hyper-parameters \['unknown'\]"),
]


@pytest.mark.parametrize("hyper, error, message", BAD_HYPER, ids=[b[2] for b in BAD_HYPER])
def test_constructor_validates_from_the_defaults(hyper, error, message):
    Rule = from_rule(_rule_, DEFAULTS)
    with pytest.raises(error, match=message):
        Rule(_params(), **hyper)
    Rule(_params(), shift=-5.0)  # a negative default allows negative values


def test_add_param_group_is_validated():
    Rule = from_rule(_rule_, DEFAULTS)
    opt = Rule(_params()[:1])
    with pytest.raises(ValueError, match="Invalid momentum value: -1"):
        opt.add_param_group({"params": _params(1)[1:], "momentum": -1})


BAD_RULE = [
    (lambda: from_rule(_rule_, {"momentum": 0.9}), ValueError, "with an 'lr'"),
    (lambda: from_rule(_rule_, {"lr": 0.1, "beta": 0.5}), TypeError,
     r"takes no hyper-parameter \['beta'\]"),
    (lambda: from_rule(lambda p, g: None, {"lr": 0.1}), TypeError, "must take"),
    (lambda: from_rule(_rule_, DEFAULTS, name="not a name"), ValueError, "identifier"),
    (lambda: from_rule(3, DEFAULTS), TypeError, "rule must be a function"),
]  # fmt: skip


@pytest.mark.parametrize("make, error, message", BAD_RULE, ids=[b[2] for b in BAD_RULE])
def test_bad_rules(make, error, message):
    with pytest.raises(error, match=message):
        make()
