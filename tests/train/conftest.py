"""Training tests: one BLAS thread (two pytest workers on two cores otherwise thrash OpenBLAS)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
