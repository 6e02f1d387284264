"""The optimizer battery (``gdlab check-optimizer``) and the ``pkg.module:Name`` resolver:
built-ins pass, deliberately broken optimizers fail the check they break, bad specs are
usage errors naming the problem."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

from gdlab import cli, optim
from gdlab.lab import optimizer_check as battery
from gdlab.optim import get_optimizer_spec

RULES = textwrap.dedent(
    """
    import numpy as np
    from gdlab.optim import chain, from_rule
    from gdlab.optim.transforms import scale_by_adam, scale_by_lr


    def signsgd_(param, grad, state, *, lr=0.01, momentum=0.9, maximize=False):
        m = state.setdefault("momentum_buffer", np.zeros_like(param))
        m *= momentum
        m += (1.0 - momentum) * (-grad if maximize else grad)
        param -= lr * np.sign(m)


    SignSGD = from_rule(signsgd_, {"lr": 0.01, "momentum": 0.9, "maximize": False})
    AdamChain = chain(scale_by_adam(), scale_by_lr(0.01))


    def drifts_(param, grad, state, *, lr=0.1):
        param -= lr * grad + 1e-3          # moves at lr = 0


    def upcasts_(param, grad, state, *, lr=0.1):
        state["buf"] = grad.astype(np.float64)   # a float64 state for float32 parameters
        param -= lr * state["buf"].astype(param.dtype)


    def forgets_(param, grad, state, *, lr=0.1, maximize=False):
        m = state.setdefault("_momentum", np.zeros_like(param))   # "_" keys are not saved
        m *= 0.9
        m += -grad if maximize else grad
        param -= lr * m


    NOT_AN_OPTIMIZER = 3
    """
)


@pytest.fixture
def rules(tmp_path, monkeypatch):
    (tmp_path / "user_rules.py").write_text(RULES)
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("name", ["sgd", "adam", "lion", "rprop"])
def test_builtins_pass_the_battery(name):
    report = battery.check_optimizer(name)
    assert report.passed, battery.format_report(report)
    assert [c.name for c in report.checks] == [
        "converges:quadratic", "converges:rosenbrock", "converges:beale", "lr_zero", "maximize",
        "state_dict", "dtypes", "zero_grad",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "spec, failed",
    [
        ("user_rules:SignSGD", set()),
        ("user_rules:signsgd_", set()),
        ("user_rules:AdamChain", set()),
        ("user_rules:drifts_", {"lr_zero", "converges:rosenbrock", "converges:beale"}),
        ("user_rules:upcasts_", {"dtypes"}),
        ("user_rules:forgets_", {"state_dict"}),
    ],
)
def test_user_optimizers(rules, spec, failed):
    report = battery.check_optimizer(spec)
    assert {c.name for c in report.checks if c.passed is False} == failed
    assert report.passed == (not failed)


def test_the_problems_minima():
    # the minimisers given are stationary points with f = 0 (Beale: Surjanovic & Bingham)
    for problem in battery.PROBLEMS:
        value, grad = problem.fn(np.array([problem.minimum]))
        assert value == 0.0 and np.abs(grad).max() == 0.0


def test_resolver_builds_specs(rules):
    spec = get_optimizer_spec("user_rules:SignSGD")
    assert spec.name == "user_rules:SignSGD" and spec.lr == 0.01
    assert issubclass(spec.cls, optim.Optimizer)
    rule_spec = get_optimizer_spec("user_rules:signsgd_")
    assert rule_spec.cls.__name__ == "Signsgd" and rule_spec.lr == 0.01
    assert get_optimizer_spec("user_rules:AdamChain").lr == 0.01
    assert get_optimizer_spec("gdlab.optim:Muon").cls is optim.Muon
    assert get_optimizer_spec(f"{rules / 'user_rules.py'}:SignSGD").lr == 0.01


@pytest.mark.parametrize(
    "spec, message",
    [
        ("user_rules:Nope", "'user_rules' has no 'Nope'"),
        ("no_such_module_xyz:Rule", "cannot import 'no_such_module_xyz'"),
        ("user_rules:NOT_AN_OPTIMIZER", "int is neither an Optimizer subclass"),
        ("user_rules:", "expected a registry name or pkg.module:Name"),
        ("missing_file.py:Rule", "no file 'missing_file.py'"),
        ("adamz", r"invalid optimizer: 'adamz' \(choose from 'sgd'"),
    ],
)
def test_bad_specs(rules, spec, message):
    with pytest.raises(ValueError, match=message):
        get_optimizer_spec(spec)


def test_cli_exit_codes_and_json(rules, capsys):
    assert cli.main(["check-optimizer", "user_rules:SignSGD"]) == 0
    out = capsys.readouterr().out
    assert "converges:rosenbrock" in out and "all checks passed" in out
    assert cli.main(["check-optimizer", "user_rules:upcasts_", "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is False
    assert [c["name"] for c in data["checks"] if c["passed"] is False] == ["dtypes"]


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["check-optimizer", "user_rules:Nope"], "'user_rules' has no 'Nope'"),
        (["surface", "--optimizers", "user_rules:Nope"], "'user_rules' has no 'Nope'"),
        (["compare", "--optimizers", "adam", "nope:X"], "cannot import 'nope'"),
    ],
)
def test_cli_bad_specs_are_usage_errors(rules, capsys, argv, needle):
    assert cli.main(argv) == 2
    assert needle in capsys.readouterr().err


def test_surface_runs_a_user_optimizer(rules, capsys, tmp_path):
    argv = ["surface", "--optimizers", "user_rules:SignSGD", "adam", "--steps", "20", "--tune",
            "0", "--no-gif", "--out", str(tmp_path / "run"), "--format", "json"]  # fmt: skip
    assert cli.main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert "user_rules:SignSGD" in json.dumps(data)
