"""docs/architecture.md's worked example (adding an optimizer) runs and does what it says."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from gdlab import nn, optim, train
from gdlab.lab import run_trajectory
from gdlab.lab.tasks import make_loader

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


@pytest.fixture(scope="module")
def example():
    """The one ```python block under "How to add an optimizer", executed."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## How to add an optimizer", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1 and 25 <= len(blocks[0].splitlines()) <= 45
    namespace: dict = {}
    exec(compile(blocks[0], str(DOC), "exec"), namespace)  # noqa: S102 - our own docs
    return namespace


def test_step_is_the_formula(example):
    w = nn.Parameter(np.array([1.0, -2.0, 0.5]))
    opt = example["SignSGD"]([w], lr=0.1, momentum=0.5)
    grads = [np.array([3.0, -0.01, 0.0]), np.array([-4.0, 0.02, 1.0])]
    m, want = np.zeros(3), w.data.copy()
    for g in grads:
        w.grad = g
        opt.step()
        m = 0.5 * m + 0.5 * g
        want = want - 0.1 * np.sign(m)
        np.testing.assert_array_equal(w.data, want)
    np.testing.assert_array_equal(opt.state[w]["momentum_buffer"], m)


def test_validation_state_dict_and_scheduler(example):
    SignSGD = example["SignSGD"]
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        SignSGD([nn.Parameter(np.zeros(2))], lr=-1)
    with pytest.raises(ValueError, match="Invalid momentum value: -0.5"):
        SignSGD([nn.Parameter(np.zeros(2))], momentum=-0.5)
    w = nn.Parameter(np.ones(2))
    opt = SignSGD([w], lr=0.1, momentum=0.9)
    w.grad = np.array([1.0, -1.0])
    opt.step()
    clone = SignSGD([nn.Parameter(np.ones(2))], lr=0.1, momentum=0.9)
    clone.load_state_dict(opt.state_dict())
    buf = clone.state_dict()["state"][0]["momentum_buffer"]
    np.testing.assert_array_equal(buf, opt.state[w]["momentum_buffer"])
    np.testing.assert_allclose(buf, [0.1, -0.1], rtol=1e-12)
    sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    sched.step()
    assert opt.param_groups[0]["lr"] == 0.05


def test_usable_in_fit_and_in_the_lab(example):
    SignSGD = example["SignSGD"]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]])
    model = nn.Linear(3, 1).double()
    hist = train.fit(model, nn.MSELoss(), SignSGD(model.parameters(), lr=0.05),
                     make_loader(x, y, 16, seed=0), epochs=20)  # fmt: skip
    assert hist.epochs["loss"][-1] < 0.01 * hist.epochs["loss"][0]
    t = run_trajectory("ravine", SignSGD, steps=50, lr=0.05)
    assert t.optimizer == "signsgd" and t.gap[-1] < 0.1 * t.gap[0]
