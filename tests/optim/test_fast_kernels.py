"""Every fast kernel equals its reference rule: within one ulp, float32 and float64, contiguous
and strided, on a one-chunk parameter and a chunked one, on NumPy and (with numba) fused."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from gdlab import optim
from gdlab.autograd.sparse import RowSparseGrad
from gdlab.optim._fast import KERNELS
from gdlab.optim._fast.buffers import CHUNK

# (rule, kwargs): the options that change each kernel's arithmetic
ROWS = [
    (optim.sgd_, dict(lr=0.1)),
    (optim.sgd_, dict(lr=0.1, weight_decay=0.01, maximize=True)),
    (optim.sgd_, dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    (optim.sgd_, dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    (optim.momentum_, dict(lr=0.1)),
    (optim.momentum_, dict(lr=0.1, momentum=0.5, weight_decay=0.1, maximize=True)),
    (optim.adam_, dict(lr=0.01)),
    (optim.adam_, dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)),
    (optim.adam_, dict(lr=0.01, weight_decay=0.2, decoupled_weight_decay=True, amsgrad=True)),
    (optim.adam_, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-3, eps_hat=True)),
    (optim.adamax_, dict(lr=0.01, weight_decay=0.1, maximize=True)),
    (optim.nadam_, dict(lr=0.01, weight_decay=0.1)),
    (optim.nadam_, dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    (optim.radam_, dict(lr=0.01, weight_decay=0.1)),  # rectified from step 6 on
    (optim.radam_, dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    (optim.adagrad_, dict(lr=0.1, lr_decay=0.1, weight_decay=0.01, maximize=True)),
    (optim.adagrad_, dict(lr=0.1, initial_accumulator_value=0.5, eps_in_sqrt=True)),
    (optim.rmsprop_, dict(lr=0.01, weight_decay=0.01)),
    (optim.rmsprop_, dict(lr=0.01, centered=True, momentum=0.5, maximize=True)),
    (optim.rmsprop_, dict(lr=0.01, alpha=0.9, eps_in_sqrt=True, momentum=0.5)),
    (optim.adadelta_, dict(lr=1.0, weight_decay=0.1, maximize=True)),
    (optim.asgd_, dict(lr=0.1, weight_decay=0.01, t0=3)),  # averaging from step 4 on
    (optim.rprop_, dict(lr=0.1)),
    (optim.rprop_, dict(lr=0.1, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2), maximize=True)),
    (optim.sparse_adam_, dict(lr=0.01, betas=(0.8, 0.99), maximize=True)),  # row-sparse grads
]
SPARSE_RULES = {optim.sparse_adam_}  # rules that take a RowSparseGrad (the rows of the grad)
# every row on NumPy, and through numba where the kernel has a numba pass and numba is installed
HAS_NUMBA = importlib.util.find_spec("numba") is not None
CASES = [
    (rule, kw, fused)
    for rule, kw in ROWS
    for fused in ([False, True] if KERNELS[rule].fused and HAS_NUMBA else [False])
]
IDS = [
    f"{r.__name__}-{'-'.join(f'{k}={v}' for k, v in kw.items())}-{'fused' if f else 'numpy'}"
    for r, kw, f in CASES
]
STEPS = 8


def _param(values: np.ndarray, layout: str) -> np.ndarray:
    if layout == "contiguous":
        return values.copy()
    out = np.empty((values.shape[0], 2 * values.shape[1]), values.dtype)[:, ::2]
    out[...] = values
    return out


def _trajectory(update, kwargs, values, layout, sparse=False):
    param, state = _param(values, layout), {}
    for t in range(STEPS):
        grad = (np.sin(3 * param + t) + 0.5 * param).astype(values.dtype)
        if t == 2:
            grad[0, 0] = 0.0  # Rprop's zero-product branch
        if sparse:  # every other row from step 1 on, the first row twice
            rows = np.r_[0, np.arange(t % 2, len(grad), 2)]
            grad = RowSparseGrad.from_rows(rows, grad[rows], grad.shape)
        update(param, grad, state, **kwargs)
    return param, state


def test_every_fast_kernel_has_rows():
    assert {rule for rule, _ in ROWS} == set(KERNELS)


@pytest.mark.parametrize("shape", [(20, 15), (CHUNK // 100 + 1, 100)], ids=["one-chunk", "chunked"])
@pytest.mark.parametrize("layout", ["contiguous", "strided"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rule, kwargs, fused", CASES, ids=IDS)
def test_fast_kernel_equals_reference_rule(rule, kwargs, fused, dtype, layout, shape):
    kernel = KERNELS[rule]
    values = np.random.default_rng(0).uniform(-1.5, 1.5, size=shape).astype(dtype)
    sparse = rule in SPARSE_RULES
    ref, ref_state = _trajectory(rule, kwargs, values, layout, sparse)
    options = {**kwargs, "fused": fused}
    fast, fast_state = _trajectory(kernel.update, options, values, layout, sparse)
    assert fast.dtype == dtype
    np.testing.assert_array_max_ulp(fast, ref, maxulp=1)
    assert list(fast_state) == list(ref_state)
    for key, value in ref_state.items():
        if isinstance(value, np.ndarray):
            assert fast_state[key].dtype == value.dtype
            np.testing.assert_array_max_ulp(fast_state[key], value, maxulp=1)
        else:
            assert fast_state[key] == value
