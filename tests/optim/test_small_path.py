"""The direct path for parameters of one chunk (``_fast.buffers.direct_work``): bit for bit the
chunked path, and no allocation in a steady-state step."""

from __future__ import annotations

import numpy as np
import pytest

import gdlab
from gdlab import optim
from gdlab.nn import Parameter
from gdlab.optim._fast.buffers import CHUNK, direct_work

# class, kwargs: every SGD option, the common Adam/AdamW ones, then the other elementwise rules
ROWS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, maximize=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.01, maximize=True)),
    ("Momentum", dict(lr=0.1, weight_decay=0.01)),
    ("Momentum", dict(lr=0.1, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.01, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=0.01, eps_hat=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("Adadelta", dict(lr=1.0)),
    ("Adamax", dict(lr=0.1)),
    ("NAdam", dict(lr=0.1)),
    ("RAdam", dict(lr=0.1)),
    ("ASGD", dict(lr=0.1)),
    ("Rprop", dict(lr=0.1)),
]
IDS = [f"{cls}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for cls, kw in ROWS]
SHAPE = (20, 15)


@pytest.mark.parametrize("layout", ["contiguous", "strided"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls, kwargs", ROWS, ids=IDS)
def test_small_parameter_equals_the_chunked_path_bit_for_bit(cls, kwargs, dtype, layout):
    """A (20, 15) parameter takes the direct path; the same values as the tail of a parameter
    of CHUNK + 300 elements take the chunked one: the results are identical."""
    rng = np.random.default_rng(3)
    values = rng.normal(size=SHAPE).astype(dtype)
    data = np.empty((SHAPE[0], 2 * SHAPE[1]), dtype)[:, ::2] if layout == "strided" else None
    if data is None:
        data = np.empty(SHAPE, dtype)
    data[...] = values
    small = Parameter(data)
    long = Parameter(np.concatenate([rng.normal(size=CHUNK).astype(dtype), values.ravel()]))
    opt_small = getattr(optim, cls)([small], **kwargs)
    opt_long = getattr(optim, cls)([long], **kwargs)
    for t in range(4):
        grad = (np.sin(values * 3 + t) + 0.5 * values).astype(dtype)
        small.grad = grad
        long.grad = np.concatenate([np.cos(long.data[:CHUNK]), grad.ravel()]).astype(dtype)
        assert direct_work(small.data, small.grad, 2) is not None
        assert direct_work(long.data, long.grad, 2) is None
        opt_small.step()
        opt_long.step()
    assert small.data.dtype == dtype
    np.testing.assert_array_equal(small.data, long.data[CHUNK:].reshape(SHAPE))


def test_direct_work_shapes_and_reuse():
    p = np.zeros((4, 5), np.float32)
    a = direct_work(p, p, 2, masks=1)
    assert [(b.shape, b.dtype) for b in a] == [((4, 5), np.float32)] * 2 + [((4, 5), np.bool_)]
    assert direct_work(p, p, 2, masks=1) is a  # cached: a steady-state step creates nothing
    assert direct_work(p, p.ravel(), 2) is None  # a grad of another shape goes through chunks
    assert direct_work(np.zeros(CHUNK + 1), np.zeros(CHUNK + 1), 1) is None


# the digits MLP's parameters (64-100-10), float32
DIGITS = [(100, 64), (100,), (10, 100), (10,)]
NO_ALLOC = [row for row in ROWS if row[0] in ("SGD", "Momentum", "Adam", "AdamW")]


@pytest.mark.parametrize("cls, kwargs", NO_ALLOC, ids=[IDS[ROWS.index(r)] for r in NO_ALLOC])
def test_small_parameters_step_without_allocating(cls, kwargs):
    import tracemalloc

    rng = np.random.default_rng(0)
    params = [Parameter(rng.normal(size=s).astype(np.float32)) for s in DIGITS]
    for p in params:
        p.grad = rng.normal(size=p.shape).astype(np.float32)
    opt = getattr(optim, cls)(params, **kwargs)
    opt.step()
    opt.step()
    tracemalloc.start()
    try:
        opt.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # ~1 KB of Python objects; any weight-sized array is 4 KB+, the chunked path's views and
    # closures took 2.3-3.1 KB
    assert peak < 2000, f"{cls}: {peak} bytes allocated in a step"


def _sgd_reference(p, g, b, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """torch's SGD in NumPy ufuncs with Python-float hyper-parameters (the order of the rule)."""
    g = -g if maximize else g.copy()
    if weight_decay:
        g += p * weight_decay
    if momentum:
        if b is None:
            b = g.copy()
        else:
            b *= momentum
            b += g * (1.0 - dampening) if dampening else g
        g = b * momentum + g if nesterov else b
    p -= g * lr
    return b


SGD_OPTIONS = [row[1] for row in ROWS if row[0] == "SGD"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", SGD_OPTIONS, ids=[i for i in IDS if i.startswith("SGD")])
def test_sgd_dtype_scalars_equal_python_floats(kwargs, dtype):
    """The rule multiplies by 0-d arrays of θ's dtype (``dtype_scalars``), NumPy by the
    rounded Python float: the same bits."""
    rng = np.random.default_rng(1)
    p = rng.normal(size=(7, 3)).astype(dtype)
    ref, buf, state = p.copy(), None, {}
    hp = {k: kwargs.get(k, 0.0) for k in ("lr", "momentum", "dampening", "weight_decay")}
    flags = {k: kwargs.get(k, False) for k in ("nesterov", "maximize")}
    for _ in range(3):
        g = rng.normal(size=(7, 3)).astype(dtype)
        optim.sgd_(p, g, state, **hp, **flags)
        buf = _sgd_reference(ref, g, buf, **hp, **flags)
    np.testing.assert_array_equal(p, ref)


def test_dtype_scalars_keep_python_floats_for_a_grad_of_another_dtype():
    from gdlab.optim._fast.buffers import dtype_scalars

    p = np.zeros(3, np.float32)
    a = dtype_scalars(p, p, (0.1, 0.9))
    assert [(x.dtype, x.shape, x.flags.writeable) for x in a] == [(np.float32, (), False)] * 2
    assert dtype_scalars(p, p, (0.1, 0.9)) is a
    assert dtype_scalars(p, p.astype(np.float64), (0.1, 0.9)) == (0.1, 0.9)


def test_the_rule_kwargs_are_made_again_when_a_group_value_changes():
    """``Optimizer._rule_kwargs`` gives its last dict again only while the group's values
    compare equal to the ones it was made from; a Tensor lr is read at every step."""
    opt = optim.SGD([Parameter(np.ones(3))], lr=0.1)
    group = opt.param_groups[0]
    first = opt._rule_kwargs(group)
    assert opt._rule_kwargs(group) is first and first["lr"] == 0.1
    group["lr"] = 0.2
    assert opt._rule_kwargs(group)["lr"] == 0.2
    lr = gdlab.tensor(0.3, dtype="float64")
    group["lr"] = lr
    assert opt._rule_kwargs(group)["lr"] == 0.3
    lr.fill_(0.05)  # a scheduler filling a tensor lr in place
    kwargs = opt._rule_kwargs(group)
    assert kwargs["lr"] == 0.05 and type(kwargs["lr"]) is float
    group["lr"], group["momentum"] = 0.2, 0.9
    assert opt._rule_kwargs(group)["momentum"] == 0.9
    group["lr"] = np.array([0.1, 0.2])  # no single truth value: compared, then made again
    assert opt._rule_kwargs(group)["lr"] is group["lr"]
