"""The articles' example scripts run and show what the articles show."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_article_002_three_batch_modes(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    curves = _load("article_002_batch_modes").main(["--plot", str(tmp_path / "loss.png")])
    assert set(curves) == {"BGD", "MBGD", "SGD"} and all(len(c) == 100 for c in curves.values())
    bgd, mbgd, sgd = (np.array(curves[k]) for k in ("BGD", "MBGD", "SGD"))
    assert np.all(np.diff(bgd) < 0)  # batch GD: smooth and monotone
    assert bgd[-1] < bgd[0] and mbgd[-5:].mean() < mbgd[:5].mean()
    roughness = [np.abs(np.diff(c)).mean() for c in (bgd, mbgd, sgd)]
    assert roughness[0] < roughness[1] < roughness[2]  # BGD smooth, MBGD jagged, SGD noisy
    assert (tmp_path / "loss.png").stat().st_size > 0
    assert capsys.readouterr().out.splitlines()[0].split() == ["step", "BGD", "MBGD", "SGD"]


def test_article_003_adam_reaches_least_squares(capsys):
    w, history = _load("article_003_adam_six_samples").main(["--epochs", "1000"])
    np.testing.assert_allclose(w, [1.0, 2.0, 3.0], atol=1e-3)  # y = x1 + 2 x2 + 3 exactly
    assert history.num_steps == 6000 and history.epochs["loss"][-1] < 1e-6
    assert "least squares" in capsys.readouterr().out


@pytest.mark.parametrize(
    "name, argv",
    [
        ("article_002_batch_modes", ["--steps", "0"]),
        ("article_003_adam_six_samples", ["--epochs", "-1"]),
    ],
)
def test_bad_arguments_exit_2(name, argv):
    with pytest.raises(SystemExit) as info:
        _load(name).main(argv)
    assert info.value.code == 2
