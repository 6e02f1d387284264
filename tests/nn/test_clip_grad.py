"""Gradient clipping against torch.nn.utils (return value, clipped grads) and invariant C20."""

from __future__ import annotations

import re

import numpy as np
import pytest

from gdlab.nn import Parameter
from gdlab.nn.utils.clip_grad import (
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)


def _params(seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    ps = [Parameter(np.zeros(s)) for s in [(3, 4), (5,), (2,), (0,)]]
    for p in ps[:2] + ps[3:]:
        p.grad = scale * rng.normal(size=p.shape)
    return ps  # ps[2] has no gradient


CASES = [(norm_type, max_norm) for norm_type in (1, 2, 3.5, float("inf"))
         for max_norm in (0.1, 1.0, 100.0)]  # fmt: skip


@pytest.mark.parametrize("norm_type, max_norm", CASES)
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    ps = _params()
    ts = [torch.zeros(p.shape, dtype=torch.float64, requires_grad=True) for p in ps]
    for p, t in zip(ps, ts, strict=True):
        t.grad = None if p.grad is None else torch.from_numpy(p.grad.data.copy())
    if norm_type == float("inf"):  # torch cannot take the inf-norm of a size-0 grad; gdlab can
        ts[3].grad = None
    total = clip_grad_norm_(ps, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(ts, max_norm, norm_type=norm_type)
    assert float(total) == pytest.approx(float(ttotal), rel=1e-12)
    for p, t in zip(ps, ts, strict=True):
        if t.grad is None:
            assert p.grad is None or p.grad.data.size == 0
        else:
            np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("clip_value", [0.0, 0.3, 10.0])
def test_clip_grad_value_matches_torch(clip_value):
    torch = pytest.importorskip("torch")
    ps = _params(1)
    ts = [torch.from_numpy(p.grad.data.copy()) for p in ps if p.grad is not None]
    clip_grad_value_(ps, clip_value)
    for t in ts:
        t.clamp_(-clip_value, clip_value)
    for g, t in zip([p.grad.data for p in ps if p.grad is not None], ts, strict=True):
        np.testing.assert_array_equal(g, t.numpy())
        assert np.abs(g).max(initial=0.0) <= clip_value


@pytest.mark.parametrize("norm_type", [1, 2, float("inf")])
@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
def test_clip_invariants_c20(norm_type, scale):
    ps = _params(2, scale)
    before = [None if p.grad is None else p.grad.data.copy() for p in ps]
    pre = get_total_norm([p.grad for p in ps if p.grad is not None], norm_type)
    max_norm = 1.0
    returned = float(clip_grad_norm_(ps, max_norm, norm_type))
    after = get_total_norm([p.grad for p in ps if p.grad is not None], norm_type)
    assert returned == pytest.approx(pre, rel=1e-12)  # the pre-clip norm
    assert after <= max_norm * (1 + 1e-6)
    for p, b in zip(ps, before, strict=True):
        if b is None:
            assert p.grad is None
        elif pre <= max_norm:
            np.testing.assert_array_equal(p.grad, b)  # below the limit: untouched
        else:  # same direction
            np.testing.assert_allclose(p.grad, b * (max_norm / (pre + 1e-6)), rtol=1e-12)


BAD = [
    (dict(max_norm=0.0), ValueError, "max_norm must be positive, got 0.0"),
    (dict(max_norm=-1.0), ValueError, "max_norm must be positive, got -1.0"),
    (dict(max_norm=1.0, norm_type=-2), ValueError, "norm_type must be positive or inf"),
    (dict(max_norm=1.0, norm_type="fro"), ValueError, "norm_type must be a number, got 'fro'"),
    (dict(max_norm=None), TypeError, "clip_grad_norm_: max_norm must be a number, got None"),
]


@pytest.mark.parametrize("kwargs, exc, msg", BAD)
def test_bad_arguments(kwargs, exc, msg):
    with pytest.raises(exc, match=re.escape(msg)):
        clip_grad_norm_(_params(), **kwargs)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_error_if_nonfinite(bad):
    ps = _params()
    ps[0].grad[0, 0] = bad
    with pytest.raises(RuntimeError, match="is non-finite"):
        clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    total = clip_grad_norm_(ps, 1.0)  # without the flag: torch's behaviour, grads poisoned
    assert not np.isfinite(float(total))


def test_single_tensor_generator_and_float32():
    p = Parameter(np.zeros(2, dtype=np.float32))
    p.grad = np.array([3.0, 4.0], dtype=np.float32)
    total = clip_grad_norm_(p, 1.0)
    assert total.dtype == np.float32 and float(total) == 5.0
    assert p.grad.dtype == np.float32
    q = Parameter(np.zeros(2))
    q.grad = np.array([3.0, 4.0])
    assert float(clip_grad_norm_((x for x in [q]), 1.0)) == 5.0
    np.testing.assert_allclose(q.grad, [0.6, 0.8], rtol=1e-5)
    clip_grads_with_norm_([q], 2.0, 1.0)  # below the limit: untouched
    np.testing.assert_allclose(q.grad, [0.6, 0.8], rtol=1e-5)
