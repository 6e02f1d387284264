"""benchmarks/engine_overhead.py runs in smoke mode and reports gdlab, NumPy and torch rows."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

import gdlab

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "engine_overhead.py"


def _load():
    spec = importlib.util.spec_from_file_location("engine_overhead", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_smoke_mode_reports_per_op_times(capsys):
    rows = _load().main(["--smoke"])
    assert len(rows) == 1 and rows[0]["gdlab_us_per_op"] > 0 and rows[0]["numpy_us_per_op"] > 0
    assert "us/op" in capsys.readouterr().out


def test_benchmarked_chain_is_differentiated_correctly():
    bench = _load()
    x = gdlab.tensor(np.linspace(-1, 1, 4), requires_grad=True)
    assert gdlab.autograd.gradcheck(lambda x: bench.chain(x, gdlab.tanh, n_ops=12), (x,))
