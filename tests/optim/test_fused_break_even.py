"""The break-even rule of ``fused=None``: NumPy until its estimated time on the parameters
numba would take reaches numba's load cost, then numba; the switch step depends only on sizes
and step counts, and both paths give the same numbers (``numba_loader`` documents the rule)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdlab import optim
from gdlab.nn import Parameter
from gdlab.optim._fast import KERNELS
from gdlab.optim._fast import numba_loader as _fusion

BIG = _fusion.FUSED_MIN_SIZE
# (optimizer, kwargs, parameter sizes): the step at which numba is bought follows from the
# sizes of the parameters of at least FUSED_MIN_SIZE elements and the kernel's numpy_ns
CASES = [
    ("SGD", dict(lr=0.01), [BIG]),
    ("SGD", dict(lr=0.01, momentum=0.9), [BIG, 3 * BIG, 100]),
    ("Adam", dict(lr=0.01), [2 * BIG, BIG - 1]),
    ("AdamW", dict(lr=0.01, amsgrad=True), [BIG]),
    ("Momentum", dict(lr=0.01), [BIG, BIG]),
]
IDS = [f"{c}-{len(s)}params" for c, _, s in CASES]
RENT_STEPS = 3  # the tests price numba's load at three steps' NumPy time (plus a margin)


def _params(sizes, dtype=np.float32):
    rng = np.random.default_rng(0)
    return [Parameter(rng.uniform(-1, 1, n).astype(dtype)) for n in sizes]


def _step(opt, params):
    for p in params:  # gradient of sum(x² + sin(3x))
        p.grad = 2 * p.data + 3 * np.cos(3 * p.data)
    opt.step()


def _ns(cls):
    return KERNELS[type(optim.__dict__[cls]([Parameter(np.zeros(1))]))._rule].numpy_ns


@pytest.fixture
def cheap_load(monkeypatch):
    """Price numba's load at RENT_STEPS - 0.5 steps of a case (the real price is ~1,900)."""

    def price(cls, sizes):
        step_s = 1e-9 * _ns(cls) * sum(n for n in sizes if n >= BIG)
        monkeypatch.setattr(_fusion, "NUMBA_LOAD_S", (RENT_STEPS - 0.5) * step_s)

    _fusion.reset()
    yield price
    _fusion.reset()


@pytest.mark.parametrize("cls, kw, sizes", CASES, ids=IDS)
def test_numba_is_loaded_on_the_first_step_after_the_rent_reaches_its_cost(
    cls, kw, sizes, cheap_load, monkeypatch
):
    cheap_load(cls, sizes)
    imports = []
    monkeypatch.setattr(_fusion, "_import_kernels", lambda: imports.append(1) or None)
    params = _params(sizes)
    opt = getattr(optim, cls)(params, **kw)
    large = sum(n for n in sizes if n >= BIG)
    for step in range(1, RENT_STEPS + 3):
        _step(opt, params)
        assert len(imports) == (step > RENT_STEPS), step
        charged = min(step, RENT_STEPS) * large * _ns(cls) * 1e-9
        assert math.isclose(_fusion.RENT.spent_s, charged, rel_tol=1e-12)


def _items(sizes):
    """A group's (param, grad, state) items with parameters of these sizes."""
    return [(np.empty(n, np.float32), None, {}) for n in sizes]


def test_the_default_price_keeps_a_short_run_and_the_mlp_benchmark_on_numpy(monkeypatch):
    """MLP 784-256-256-10 + SGD: 266,240 elements numba would take, 1 ns each: 1,878 steps
    stay under 0.5 s of rent, the 1,879th is the last one charged, the 1,880th buys."""
    _fusion.reset()
    assert _fusion.NUMBA_LOAD_S == 0.5 and _ns("SGD") == 1.0
    large = 784 * 256 + 256 * 256
    for step in range(1, 1880):
        assert _fusion.rent_or_buy(_items([784 * 256, 256, 256 * 256, 256, 2560, 10]), 1.0) is False
        assert math.isclose(_fusion.RENT.spent_s, step * large * 1e-9, rel_tol=1e-9)
    assert _fusion.rent_or_buy(_items([large]), 1.0) is None
    _fusion.reset()


@pytest.mark.parametrize(
    "sizes, fused", [([BIG - 1, 10], None), ([BIG], False), ([BIG], True)],
    ids=["only-small-params", "fused-false", "fused-true"],
)  # fmt: skip
def test_what_is_not_charged(sizes, fused):
    """Small parameters never pay rent (NumPy anyway); an explicit fused flag is obeyed."""
    if fused:
        pytest.importorskip("numba")
    _fusion.reset()
    params = _params(sizes)
    _step(optim.SGD(params, lr=0.1, fused=fused), params)
    assert _fusion.RENT.spent_s == 0.0
    assert _fusion.rent_or_buy(_items(sizes), 1.0) is (None if fused is None else False)
    _fusion.reset()


@pytest.mark.parametrize("cls, kw, sizes", CASES, ids=IDS)
def test_the_switch_keeps_the_numbers(cls, kw, sizes, cheap_load):
    """A run that switches to numba equals the NumPy-only run within float32 rounding."""
    pytest.importorskip("numba")
    cheap_load(cls, sizes)
    auto = _params(sizes)
    plain = _params(sizes)
    a_opt = getattr(optim, cls)(auto, **kw)
    p_opt = getattr(optim, cls)(plain, fused=False, **kw)
    for _ in range(RENT_STEPS + 3):
        _step(a_opt, auto)
        _step(p_opt, plain)
    assert _fusion.RENT.spent_s >= _fusion.NUMBA_LOAD_S  # it did switch
    for p, q in zip(auto, plain, strict=True):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-6, atol=1e-7)


def test_a_fused_kernel_must_say_what_its_numpy_path_costs():
    with pytest.raises(ValueError, match="register: a fused kernel needs numpy_ns > 0, got 0.0"):
        optim._fast.register(lambda *a, **k: None, lambda *a, **k: None, fused=True)
