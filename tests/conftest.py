"""Shared fixtures; the named tolerances live in tests/tolerances.py."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")  # headless: no window ever opens in tests



@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
