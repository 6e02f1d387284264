"""Shared fixtures and the tolerances every test uses (named here, not inline)."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")  # headless: no window ever opens in tests

RTOL_FLOAT64 = 1e-6  # analytic vs reference in float64
ATOL_FLOAT64 = 1e-9
RTOL_TORCH = 1e-9  # optimizer trajectories vs torch.optim in float64
GRADCHECK = {"eps": 1e-6, "atol": 1e-5, "rtol": 1e-3}


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
