"""Shared fixtures; the named tolerances live in tests/tolerances.py."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")  # headless: no window ever opens in tests


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    """One BLAS thread per pytest worker: two workers on two cores otherwise oversubscribe
    OpenBLAS, and small matrix products become 40-200x slower."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
