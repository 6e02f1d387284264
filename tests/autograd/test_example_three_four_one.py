"""examples/three_four_one.py runs and its hand-written gradient descent lowers the loss."""

from __future__ import annotations

import importlib.util
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "three_four_one.py"


def _load():
    spec = importlib.util.spec_from_file_location("three_four_one", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_loss_falls_and_output_is_printed(capsys):
    losses = _load().main(["--steps", "400", "--every", "100"])
    assert losses[-1] < 0.05 * losses[0]
    assert all(b <= a + 1e-12 for a, b in zip(losses[50:], losses[51:], strict=False))
    out = capsys.readouterr().out
    assert "step     0  loss" in out and "predictions" in out


def test_gradients_of_the_example_network_pass_gradcheck():
    import gdlab

    ex = _load()
    params = ex.init_params(seed=1)
    x, y = gdlab.tensor(ex.X), gdlab.tensor(ex.Y)
    assert gdlab.autograd.gradcheck(lambda *p: ex.loss_fn(p, x, y), params)
