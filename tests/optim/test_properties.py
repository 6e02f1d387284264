"""Optimizer invariants (CHECKLIST C11-C18) over every algorithm in one table.

lr = 0, maximize and the state_dict round trip are the checks of the lab's optimizer battery
(``gdlab.lab.optimizer_check``, what ``gdlab check-optimizer`` runs on any optimizer): one
implementation, asserted here for every built-in."""

from __future__ import annotations

import numpy as np
import pytest

from gdlab import optim
from gdlab.lab import optimizer_check as battery
from gdlab.nn import Parameter

# name, class, kwargs that make weight decay zero; Muon needs matrices
ALL = [
    ("sgd", "SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("momentum", "Momentum", dict(lr=0.1)),
    ("adam", "Adam", dict(lr=0.1, amsgrad=True)),
    ("adamw", "AdamW", dict(lr=0.1, weight_decay=0.0)),
    ("adagrad", "Adagrad", dict(lr=0.1, lr_decay=0.1)),
    ("rmsprop", "RMSprop", dict(lr=0.1, centered=True, momentum=0.5)),
    ("adadelta", "Adadelta", dict(lr=1.0)),
    ("adamax", "Adamax", dict(lr=0.1)),
    ("nadam", "NAdam", dict(lr=0.1)),
    ("radam", "RAdam", dict(lr=0.1)),
    ("asgd", "ASGD", dict(lr=0.1, lambd=0.0)),
    ("rprop", "Rprop", dict(lr=0.1)),
    ("adafactor", "Adafactor", dict(lr=0.1)),
    ("muon", "Muon", dict(lr=0.1, weight_decay=0.0)),
    ("lion", "Lion", dict(lr=0.1)),
    ("adabelief", "AdaBelief", dict(lr=0.1)),
    # issue 15, part 2 (SAM needs a closure: tests/optim/test_vs_references_drivers.py)
    ("sgd_schedule_free", "SGDScheduleFree", dict(lr=0.1)),
    ("adamw_schedule_free", "AdamWScheduleFree", dict(lr=0.1)),
    ("radam_schedule_free", "RAdamScheduleFree", dict(lr=0.1, silent_sgd_phase=False)),
    ("prodigy", "Prodigy", dict()),
    ("dadapt_sgd", "DAdaptSGD", dict(momentum=0.9)),
    ("dadapt_adam", "DAdaptAdam", dict()),
    ("lookahead", "Lookahead", dict(base_optimizer="adam", lr=0.1, k=2)),
    ("yogi", "Yogi", dict(lr=0.1, initial_accumulator=0.0)),
    ("adan", "Adan", dict(lr=0.1)),
    ("lamb", "LAMB", dict(lr=0.1)),
    ("lars", "LARS", dict(lr=0.1, trust_coefficient=0.1, nesterov=True)),
    ("novograd", "NovoGrad", dict(lr=0.1, grad_averaging=True)),
    ("madgrad", "MADGRAD", dict(lr=0.1)),
    ("madgrad_nomomentum", "MADGRAD", dict(lr=0.1, momentum=0.0)),
    ("adabound", "AdaBound", dict(lr=0.1, amsbound=True)),
    ("adopt", "ADOPT", dict(lr=0.1)),
    ("adopt_noclip", "ADOPT", dict(lr=0.1, clip_exponent=None)),
    ("ademamix", "AdEMAMix", dict(lr=0.1, beta3_warmup=5, alpha_warmup=5)),
    ("shampoo", "Shampoo", dict(lr=0.1, start_preconditioning_step=2, precondition_frequency=2)),
    ("soap", "SOAP", dict(lr=0.1, weight_decay=0.0, precondition_frequency=2)),
    ("sophia", "SophiaG", dict(lr=0.1, weight_decay=0.0)),
]
# one d for all parameters: sums over every coordinate
GLOBAL_D = ("Prodigy", "DAdaptSGD", "DAdaptAdam")
MAXIMIZE = [row for row in ALL if row[0] not in ("muon",)]
IDS = [row[0] for row in ALL]


def _params(seed=0):
    rng = np.random.default_rng(seed)
    return [Parameter(rng.normal(size=(3, 4))), Parameter(rng.normal(size=(2, 5)))]


def _grads(params, t):
    return [np.sin(p.data * 3 + t) + 0.5 * p.data for p in params]


def _run(cls, kwargs, params, steps, sign=1.0, groups=None):
    opt = getattr(optim, cls)(groups if groups is not None else params, **kwargs)
    for t in range(steps):
        for p, g in zip(params, _grads(params, t), strict=True):
            p.grad = sign * g
        opt.step()
    return opt


def _factory(cls, kwargs):
    return lambda params, **hyper: getattr(optim, cls)(params, **{**kwargs, **hyper})


# MADGRAD's momentum step θ·μ + (1 − μ)·z rounds even when z = θ (the authors' arithmetic)
STANDSTILL = [row for row in ALL if row[1] != "MADGRAD"]


@pytest.mark.parametrize("name, cls, kwargs", STANDSTILL, ids=[r[0] for r in STANDSTILL])
def test_lr_zero_leaves_params_unchanged(name, cls, kwargs):
    check = battery.check_lr_zero(_factory(cls, kwargs))
    # Rprop's lr is only its first step size, clipped to step_sizes[0] > 0: n/a
    assert check.passed is (None if cls == "Rprop" else True), check.detail


@pytest.mark.parametrize("name, cls, kwargs", STANDSTILL, ids=[r[0] for r in STANDSTILL])
def test_zero_gradients_leave_params_unchanged(name, cls, kwargs):
    params = _params()
    before = [p.data.copy() for p in params]
    opt = getattr(optim, cls)(params, **kwargs)
    for p in params:
        p.grad = np.zeros_like(p.data)
    opt.step()
    for p, b in zip(params, before, strict=True):
        np.testing.assert_array_equal(p.data, b)


@pytest.mark.parametrize("name, cls, kwargs", ALL, ids=IDS)
def test_params_without_grad_are_skipped(name, cls, kwargs):
    params = _params()
    before = params[1].data.copy()
    opt = getattr(optim, cls)(params, **kwargs)
    params[0].grad = np.ones_like(params[0].data)
    opt.step()
    np.testing.assert_array_equal(params[1].data, before)
    # Adagrad's state is eager, as torch's; Lookahead takes its slow weights when built
    assert params[1] not in opt.state or cls in ("Adagrad", "Lookahead")


@pytest.mark.parametrize("name, cls, kwargs", MAXIMIZE, ids=[r[0] for r in MAXIMIZE])
def test_maximize_f_equals_minimize_minus_f(name, cls, kwargs):
    check = battery.check_maximize(_factory(cls, kwargs))
    assert check.passed is True, check.detail


@pytest.mark.parametrize("name, cls, kwargs", ALL, ids=IDS)
def test_two_groups_with_equal_hyperparameters_equal_one_group(name, cls, kwargs):
    a, b = _params(), _params()
    _run(cls, kwargs, a, 10)
    _run(cls, kwargs, b, 10, groups=[{"params": [b[0]]}, {"params": [b[1]]}])
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize("name, cls, kwargs", ALL, ids=IDS)
def test_state_dict_clone_continues_identically(name, cls, kwargs):
    check = battery.check_state_dict(_factory(cls, kwargs))
    assert check.passed is True, check.detail


@pytest.mark.parametrize("name, cls, kwargs", ALL, ids=IDS)
def test_dtypes_are_preserved(name, cls, kwargs):
    check = battery.check_dtypes(_factory(cls, kwargs))
    assert check.passed is True, check.detail


def _continue_both(a, opt, b, clone, steps):
    """Step the original and the restored optimizer on their own params: equal after each."""
    for t in steps:
        for ps, o in ((a, opt), (b, clone)):
            for p, g in zip(ps, _grads(ps, t), strict=True):
                p.grad = g
            o.step()
        for p, q in zip(a, b, strict=True):
            np.testing.assert_array_equal(p.data, q.data)


def test_adamw_decay_is_scaled_by_lr():
    params = _params()
    before = [p.data.copy() for p in params]
    _run("AdamW", dict(lr=0.0, weight_decay=0.5), params, 3)
    for p, b in zip(params, before, strict=True):
        np.testing.assert_array_equal(p.data, b)


def test_one_sgd_step_is_exactly_p_minus_lr_g():
    p = Parameter(np.random.default_rng(1).normal(size=7))
    g = np.random.default_rng(2).normal(size=7)
    expected = p.data - 0.37 * g
    p.grad = g
    optim.SGD([p], lr=0.37).step()
    np.testing.assert_array_equal(p.data, expected)


@pytest.mark.parametrize("other", [dict(momentum=0.0), dict(momentum=0.0, dampening=0.5)])
def test_momentum_zero_equals_plain_sgd(other):
    a, b = _params(), _params()
    _run("SGD", dict(lr=0.1), a, 10)
    _run("SGD", dict(lr=0.1, **other), b, 10)
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_adamw_without_weight_decay_equals_adam():
    a, b = _params(), _params()
    _run("Adam", dict(lr=0.1), a, 10)
    _run("AdamW", dict(lr=0.1, weight_decay=0.0), b, 10)
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_adagrad_accumulator_is_the_sum_of_squared_gradients():
    params = _params()
    opt = _run("Adagrad", dict(lr=0.1), params, 5)
    # recompute the gradients seen along the way from a replay
    replay = _params()
    total = [np.zeros_like(p.data) for p in replay]
    o = optim.Adagrad(replay, lr=0.1)
    for t in range(5):
        for p, g, s in zip(replay, _grads(replay, t), total, strict=True):
            p.grad = g
            s += g * g
        o.step()
    for p, s in zip(params, total, strict=True):
        np.testing.assert_array_equal(opt.state[p]["sum"], s)


def test_rmsprop_plain_step_equals_its_formula():
    p = Parameter(np.array([1.0, -2.0]))
    g = np.array([0.3, -4.0])
    p.grad = g
    optim.RMSprop([p], lr=0.01, alpha=0.9, eps=1e-8).step()
    v = 0.1 * g * g
    np.testing.assert_allclose(p.data, [1.0, -2.0] - 0.01 * g / (np.sqrt(v) + 1e-8), rtol=1e-15)


@pytest.mark.parametrize("scale", [1.0, 1e3, 1e-1])
def test_adam_first_step_is_lr_times_sign(scale):
    g = scale * np.array([3.0, -0.5, 1e-2, -7.0])
    p = Parameter(np.zeros(4))
    p.grad = g
    optim.Adam([p], lr=0.01).step()
    np.testing.assert_allclose(p.data, -0.01 * np.sign(g), rtol=1e-5)


def test_a_group_with_lr_zero_does_not_move_while_others_do():
    params = _params()
    frozen = params[1].data.copy()
    _run(
        "Adam",
        dict(lr=0.1),
        params,
        3,
        groups=[{"params": [params[0]]}, {"params": [params[1]], "lr": 0.0}],
    )
    np.testing.assert_array_equal(params[1].data, frozen)
    assert not np.array_equal(params[0].data, _params()[0].data)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, cls, kwargs", ALL, ids=IDS)
def test_dtype_is_preserved(name, cls, kwargs, dtype):
    params = [Parameter(p.data.astype(dtype)) for p in _params()]
    opt = _run(cls, kwargs, params, 3)
    for p in params:
        assert p.data.dtype == dtype
        for k, v in opt.state.get(p, {}).items():
            if isinstance(v, np.ndarray) and not k.startswith("_"):  # not the work buffers
                assert v.dtype == dtype


def test_zero_grad_and_closure():
    p = Parameter(np.ones(3))
    opt = optim.SGD([p], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss) == 3.0
    np.testing.assert_array_equal(p.data, 0.0)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad, 0.0)
    opt.zero_grad()
    assert p.grad is None


@pytest.mark.parametrize("kwargs", [dict(), dict(amsgrad=True, weight_decay=0.1, maximize=True)])
def test_adam_on_threads_equals_one_thread(kwargs):
    from gdlab.optim._fast.buffers import CHUNK

    rng = np.random.default_rng(5)
    data = rng.normal(size=5 * CHUNK + 123).astype(np.float32)
    grads = [rng.normal(size=data.size).astype(np.float32) for _ in range(3)]
    out = []
    for threads in (1, 2):
        optim.set_num_threads(threads)
        try:
            p = Parameter(data.copy())
            opt = optim.Adam([p], lr=0.01, **kwargs)
            for g in grads:
                p.grad = g
                opt.step()
        finally:
            optim.set_num_threads(1)
        out.append(p.data)
    np.testing.assert_array_equal(out[0], out[1])


@pytest.mark.parametrize("name, cls, kwargs", ALL, ids=IDS)
def test_many_params_on_threads_equal_one_thread(name, cls, kwargs):
    out = []
    for threads in (1, 2):
        optim.set_num_threads(threads)
        try:
            params = _params() + _params(1) + _params(2)
            _run(cls, kwargs, params, 3)
        finally:
            optim.set_num_threads(1)
        out.append([p.data for p in params])
    for a, b in zip(*out, strict=True):
        np.testing.assert_array_equal(a, b)


# Adafactor and Muon allocate by design. The optimizers of issue 15 keep work arrays in their
# state (optim/_scratch.py; Prodigy and D-Adaptation: rows for the options that change which
# arrays a step needs; Shampoo and SOAP: rows with matrix parameters below).
NO_ALLOC = [row for row in ALL if row[1] not in ("Adafactor", "Muon")] + [
    ("prodigy-coupled-maximize", "Prodigy", dict(decouple=False, maximize=True)),
    ("prodigy-beta1-0-slice-safeguard", "Prodigy",
     dict(betas=(0.0, 0.999), slice_p=3, safeguard_warmup=True, use_bias_correction=True)),
    ("dadapt_sgd-maximize", "DAdaptSGD", dict(maximize=True)),
    ("dadapt_adam-decouple-maximize", "DAdaptAdam",
     dict(decouple=True, maximize=True, use_bias_correction=True)),
]  # fmt: skip


@pytest.mark.parametrize("name, cls, kwargs", NO_ALLOC, ids=[r[0] for r in NO_ALLOC])
def test_steady_state_step_allocates_no_parameter_sized_array(name, cls, kwargs):
    import tracemalloc

    p = Parameter(np.ones(50_000))
    opt = getattr(optim, cls)([p], **{**kwargs, "weight_decay": 0.1}
                              if cls not in ("Rprop", "Momentum") else kwargs)  # fmt: skip
    p.grad = np.full(50_000, 0.5)
    opt.step()
    opt.step()
    tracemalloc.start()
    try:
        opt.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < p.data.nbytes / 10, f"{name}: {peak} bytes allocated in a step"


# matrix parameters: the statistics' products and the preconditioned direction go through
# matmul into work arrays; the roots and eigenbases (every precondition_frequency steps) are
# LAPACK's and allocate, so the measured steps fall between two refreshes
MATRIX_NO_ALLOC = [
    ("shampoo-matrix", "Shampoo", dict(start_preconditioning_step=1, precondition_frequency=4)),
    ("shampoo-matrix-blocks-adagrad", "Shampoo",
     dict(start_preconditioning_step=1, precondition_frequency=4, block_size=96,
          graft_type="adagrad", moving_average_for_momentum=True)),
    ("soap-matrix", "SOAP", dict(precondition_frequency=4, normalize_grads=True)),
]  # fmt: skip


@pytest.mark.parametrize("name, cls, kwargs", MATRIX_NO_ALLOC, ids=[r[0] for r in MATRIX_NO_ALLOC])
def test_matrix_preconditioner_steps_allocate_no_parameter_sized_array(name, cls, kwargs):
    import tracemalloc

    p = Parameter(np.random.default_rng(0).standard_normal((200, 250)))
    opt = getattr(optim, cls)([p], lr=0.01, weight_decay=0.1, **kwargs)
    p.grad = np.random.default_rng(1).standard_normal((200, 250))
    for _ in range(5):  # the setup step and a refresh at step 4
        opt.step()
    tracemalloc.start()
    try:
        for _ in range(2):  # steps 6 and 7: no refresh
            opt.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < p.data.nbytes / 10, f"{name}: {peak} bytes allocated in a step"


@pytest.mark.parametrize("name, cls, kwargs", ALL, ids=IDS)
def test_state_dict_through_a_file_continues_identically(name, cls, kwargs, tmp_path):
    import gdlab

    a = _params()
    opt = _run(cls, kwargs, a, 4)
    gdlab.save(opt.state_dict(), tmp_path / "opt.npz")
    b = [Parameter(p.data.copy()) for p in a]
    clone = getattr(optim, cls)(b, **kwargs)
    clone.load_state_dict(gdlab.load(tmp_path / "opt.npz"))
    _continue_both(a, opt, b, clone, range(4, 8))


def test_lbfgs_state_through_a_file(tmp_path):
    import gdlab

    def make(p):
        def closure():
            p.grad = 4 * p.data**3 + 2 * (p.data - 1.0)
            return float(np.sum(p.data**4 + (p.data - 1.0) ** 2))

        return closure

    a = Parameter(np.array([2.0, -1.0, 0.5]))
    opt = optim.LBFGS([a], max_iter=2, history_size=3)
    opt.step(make(a))
    gdlab.save(opt.state_dict(), tmp_path / "lbfgs.npz")
    b = Parameter(a.data.copy())
    clone = optim.LBFGS([b], max_iter=2, history_size=3)
    clone.load_state_dict(gdlab.load(tmp_path / "lbfgs.npz"))
    for _ in range(3):
        opt.step(make(a))
        clone.step(make(b))
    np.testing.assert_array_equal(a.data, b.data)


# LAMB and NovoGrad scale each tensor by its norms (layer-wise): a piece has other norms;
# Shampoo and SOAP precondition whole matrices
ELEMENTWISE = [
    row for row in ALL
    if row[1] not in ("Adafactor", "Muon", "LAMB", "NovoGrad", "Shampoo", "SOAP", *GLOBAL_D)
]  # fmt: skip


@pytest.mark.parametrize("layout", ["contiguous", "strided"])
@pytest.mark.parametrize("name, cls, kwargs", ELEMENTWISE, ids=[r[0] for r in ELEMENTWISE])
def test_a_long_parameter_equals_its_pieces_stepped_apart(name, cls, kwargs, layout):
    """The chunked rules (cache-sized pieces, work buffers) are elementwise: stepping one long
    parameter equals stepping its pieces as separate parameters, bit for bit."""
    from gdlab.optim._fast.buffers import CHUNK

    n = 2 * CHUNK + 77  # three chunks, the last one short
    rng = np.random.default_rng(7)
    values = rng.normal(size=n)
    cuts = [0, 5, CHUNK + 3, n]
    pieces = [Parameter(values[a:b].copy()) for a, b in zip(cuts, cuts[1:], strict=False)]
    data = np.empty(2 * n)[::2] if layout == "strided" else np.empty(n)
    data[...] = values
    long = Parameter(data)
    opt_long = getattr(optim, cls)([long], **kwargs)
    opt_pieces = getattr(optim, cls)(pieces, **kwargs)
    for t in range(3):
        grad = np.sin(values * 3 + t) + 0.5 * values
        long.grad = grad
        for p, a, b in zip(pieces, cuts, cuts[1:], strict=False):
            p.grad = grad[a:b].copy()
        opt_long.step()
        opt_pieces.step()
    np.testing.assert_array_equal(long.data, np.concatenate([p.data for p in pieces]))


# not RAdam: its first steps (ρ_t ≤ 5) are plain momentum steps lr·m̂, unbounded in g
ADAPTIVE = ("Adam", "AdamW", "Adagrad", "RMSprop", "Adamax", "NAdam", "Rprop")
BOUNDED_STEP = [row for row in ALL if row[1] in ADAPTIVE]


@pytest.mark.parametrize("name, cls, kwargs", BOUNDED_STEP, ids=[r[0] for r in BOUNDED_STEP])
def test_huge_lr_on_bounded_step_optimizers_stays_finite(name, cls, kwargs):
    """CHECKLIST B: lr=1e3 on an adaptive optimizer gives big but finite steps, no warnings."""
    params = _params()
    with np.errstate(all="raise"):  # an overflow or 0/0 would raise instead of warning
        opt = _run(cls, {**kwargs, "lr": 1e3}, params, 50)
    assert opt.param_groups[0]["lr"] == 1e3
    for p in params:
        assert np.isfinite(p.data).all(), name
        assert np.abs(p.data).max() < 1e3 * 50 * 10, name  # at most ~10·lr per step
