"""examples/backprop_by_hand.py: the hand-written chain rule equals backward() and finite
differences for the 3-4-1 sigmoid network."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "backprop_by_hand.py"


def _load():
    spec = importlib.util.spec_from_file_location("backprop_by_hand", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_hand_gradients_equal_backward_and_finite_differences(seed):
    result = _load().compare(seed)
    assert set(result) == {"W1", "b1", "W2", "b2"}
    for auto, numeric in result.values():
        assert auto < 1e-14
        assert numeric < 1e-9


def test_deltas_have_the_layer_shapes_and_the_script_prints_the_table(capsys):
    ex = _load()
    grads = ex.backprop(ex.init_params(0))
    assert [g.shape for g in grads] == [(3, 4), (4,), (4, 1), (1,)]
    assert not np.allclose(grads[0], 0)
    ex.main(["--seed", "3"])
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["param", "vs", "backward()", "vs", "finite", "diff"]
    assert [line.split()[0] for line in out[1:]] == ["W1", "b1", "W2", "b2"]
