"""The fused (numba) kernels equal the NumPy rules; without numba the NumPy path takes over.

Fused-vs-NumPy tests skip cleanly when numba is not installed; the fallback tests hide numba
(the import fails) and run everywhere. The fused path against torch is in test_vs_torch.py.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from gdlab import optim
from gdlab.nn import Parameter
from gdlab.optim._fast import adam as fast_adam
from gdlab.optim._fast import heavy_ball as fast_momentum
from gdlab.optim._fast import numba_loader as _fusion
from gdlab.optim._fast import sgd as fast_sgd

STEPS = 12

# (class name, kwargs): every option of the fused rules
CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("SGD", dict(lr=0.02, momentum=0.9)),
    ("SGD", dict(lr=0.02, momentum=0.5, dampening=0.3, weight_decay=0.05)),
    ("SGD", dict(lr=0.02, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.03)),
    ("Adam", dict(lr=0.03, betas=(0.8, 0.99), eps=1e-3, maximize=True)),
    ("Adam", dict(lr=0.03, amsgrad=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.03, decoupled_weight_decay=True, weight_decay=0.2, amsgrad=True)),
    ("Adam", dict(lr=0.03, eps_hat=True, weight_decay=0.1, maximize=True)),
    ("AdamW", dict(lr=0.03)),
    ("AdamW", dict(lr=0.5, weight_decay=2.0, amsgrad=True, maximize=True)),  # decay 1 − lr·λ = 0
    ("Momentum", dict(lr=0.02)),
    ("Momentum", dict(lr=0.02, momentum=0.5, weight_decay=0.1, maximize=True)),
]
IDS = [f"{c}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for c, kw in CASES]
SHAPES = [(3, 4), (7,), (), (0,)]


@pytest.fixture
def numba_hidden(monkeypatch):
    """Make ``import numba`` fail and forget any earlier import of the kernels."""
    monkeypatch.setitem(sys.modules, "numba", None)  # None in sys.modules: ImportError
    monkeypatch.delitem(sys.modules, "gdlab.optim._fast.numba_kernels", raising=False)
    monkeypatch.delattr(optim._fast, "numba_kernels", raising=False)
    _fusion.reset()
    yield
    _fusion.reset()


@pytest.fixture
def kernels():
    pytest.importorskip("numba")
    return _fusion.fused_module(True)


def _run(cls, kw, dtype, fused, order="C", steps=STEPS, shapes=SHAPES):
    """A trajectory on a smooth non-convex loss; returns the params and the optimizer."""
    rng = np.random.default_rng(1)
    values = [np.asarray(rng.uniform(-1.5, 1.5, size=s), dtype=dtype, order=order) for s in shapes]
    params = [Parameter(v.copy(order="K")) for v in values]
    opt = getattr(optim, cls)(params, fused=fused, **kw)
    for _ in range(steps):
        for p in params:  # gradient of sum(x² + sin(3x)) in the params' own layout
            p.grad = 2 * p.data + 3 * np.cos(3 * p.data)
        opt.step()
    return params, opt


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-6)])
@pytest.mark.parametrize("cls, kw", CASES, ids=IDS)
def test_fused_equals_numpy_rule(kernels, cls, kw, dtype, rtol):
    fused, f_opt = _run(cls, kw, dtype, fused=True)
    plain, p_opt = _run(cls, kw, dtype, fused=False)
    for p, q in zip(fused, plain, strict=True):
        assert p.data.dtype == dtype
        np.testing.assert_allclose(p.data, q.data, rtol=rtol, atol=0)
    _assert_same_state(f_opt.state_dict(), p_opt.state_dict(), rtol)


def _assert_same_state(ours, theirs, rtol):
    assert ours["state"].keys() == theirs["state"].keys()
    for i, s in ours["state"].items():
        assert s.keys() == theirs["state"][i].keys()
        for k, v in s.items():
            if isinstance(v, np.ndarray):
                assert v.dtype == theirs["state"][i][k].dtype
                assert v.shape == theirs["state"][i][k].shape
            np.testing.assert_allclose(v, theirs["state"][i][k], rtol=rtol, atol=0)


@pytest.mark.parametrize("cls, kw", CASES[4:9:4] + CASES[-1:], ids=IDS[4:9:4] + IDS[-1:])
def test_fortran_order_params_are_fused_too(kernels, cls, kw, monkeypatch):
    calls = []
    for name in ("adam_kernel", "sgd_kernel", "momentum_kernel"):
        real = getattr(kernels, name)
        monkeypatch.setattr(kernels, name, lambda *a, _real=real: calls.append(1) or _real(*a))
    fused, _ = _run(cls, kw, np.float64, fused=True, order="F", shapes=[(3, 4)])
    assert len(calls) == STEPS  # one kernel call per step: no fallback to NumPy
    monkeypatch.undo()
    plain, _ = _run(cls, kw, np.float64, fused=False, order="F", shapes=[(3, 4)])
    np.testing.assert_allclose(fused[0].data, plain[0].data, rtol=1e-12, atol=0)


@pytest.mark.parametrize("cls, kw", [CASES[3], CASES[8]], ids=[IDS[3], IDS[8]])
def test_threads_give_the_same_result(kernels, cls, kw):
    shapes = [(150_000,), (5,), (6,)]  # one long parameter is split; the small ones are tasks
    one, _ = _run(cls, kw, np.float64, fused=True, steps=3, shapes=shapes)
    optim.set_num_threads(2)
    try:
        two, _ = _run(cls, kw, np.float64, fused=True, steps=3, shapes=shapes)
    finally:
        optim.set_num_threads(1)
    for p, q in zip(one, two, strict=True):
        np.testing.assert_array_equal(p.data, q.data)


@pytest.mark.parametrize(
    "make_arrays",
    [
        lambda p: (p[:, ::2], np.ones((3, 2))),  # strided parameter
        lambda p: (p, np.ones((3, 4), dtype=np.float32)),  # grad of another dtype
        lambda p: (p.astype(np.float16), np.ones((3, 4), dtype=np.float16)),
    ],
    ids=["strided", "mixed-dtype", "float16"],
)
def test_arrays_the_kernel_cannot_take_use_numpy(kernels, make_arrays):
    param, grad = make_arrays(np.linspace(-1, 1, 12).reshape(3, 4))
    a, b = param.copy(), param.copy()
    sa, sb = {}, {}
    for _ in range(3):
        fast_adam.adam(a, grad, sa, lr=0.1, amsgrad=True, fused=True)
        fast_adam.adam(b, grad, sb, lr=0.1, amsgrad=True, fused=False)
    np.testing.assert_array_equal(a, b)
    assert sa.keys() == sb.keys()


def test_fused_and_foreach_together_are_rejected():
    with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
        optim.Adam([Parameter(np.zeros(2))], fused=True, foreach=True)


@pytest.mark.parametrize("cls, kw", [CASES[4], CASES[8]], ids=[IDS[4], IDS[8]])
def test_without_numba_the_default_falls_back_to_numpy(numba_hidden, cls, kw):
    auto, a_opt = _run(cls, kw, np.float64, fused=None)
    plain, p_opt = _run(cls, kw, np.float64, fused=False)
    assert "gdlab.optim._fast.numba_kernels" not in sys.modules
    for p, q in zip(auto, plain, strict=True):
        np.testing.assert_array_equal(p.data, q.data)
    _assert_same_state(a_opt.state_dict(), p_opt.state_dict(), 0)


@pytest.mark.parametrize("cls", ["SGD", "Adam", "AdamW", "Momentum"])
def test_without_numba_fused_true_says_what_to_install(numba_hidden, cls):
    with pytest.raises(ImportError, match=r"fused=True needs numba.*gdlab\[fast\]"):
        getattr(optim, cls)([Parameter(np.zeros(2))], lr=0.1, fused=True)


def test_a_state_dict_saved_fused_loads_and_steps_without_numba(numba_hidden):
    saved = _run("Adam", dict(lr=0.03), np.float64, fused=False, steps=2)[1].state_dict()
    saved["param_groups"][0]["fused"] = True  # as saved where numba (or torch fused) ran
    params = [Parameter(np.ones(s)) for s in SHAPES]
    opt = optim.Adam(params, lr=0.03)
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["fused"] is None  # the code path stays this machine's choice
    for p in params:
        p.grad = np.ones(p.shape)
    opt.step()


def _broken_numba(monkeypatch):
    def broken():
        raise RuntimeError("cannot cache function 'adam_kernel': no locator available")

    monkeypatch.setattr(_fusion, "_import_kernels", broken)


def _jit_disabled(monkeypatch):
    numba = pytest.importorskip("numba")
    monkeypatch.setattr(numba.config, "DISABLE_JIT", True)


@pytest.mark.parametrize(
    "breakage, error",
    [(_broken_numba, "RuntimeError: cannot cache"), (_jit_disabled, "NUMBA_DISABLE_JIT")],
    ids=["fails-to-load", "jit-disabled"],
)
def test_an_unusable_numba_falls_back_too(monkeypatch, breakage, error):
    breakage(monkeypatch)
    _fusion.reset()
    try:
        auto, _ = _run(*CASES[8], np.float64, fused=None)
        assert _fusion.fused_module(None) is None  # the NumPy rule ran
        plain, _ = _run(*CASES[8], np.float64, fused=False)
        np.testing.assert_array_equal(auto[0].data, plain[0].data)
        with pytest.raises(ImportError, match=error):
            optim.Adam([Parameter(np.zeros(2))], fused=True)
    finally:
        _fusion.reset()


@pytest.mark.parametrize("rule", [fast_sgd.sgd, fast_adam.adam, fast_momentum.momentum])
def test_without_numba_functional_fused_true_raises(numba_hidden, rule):
    with pytest.raises(ImportError, match=r"gdlab\[fast\]"):
        rule(np.zeros(2), np.ones(2), {}, lr=0.1, fused=True)


@pytest.mark.parametrize("cls", ["SGD", "Adam", "Momentum"])
def test_default_fused_leaves_small_parameters_to_numpy(cls, monkeypatch):
    """fused=None imports numba only for a parameter of at least FUSED_MIN_SIZE elements
    (the break-even account already paid: test_fused_break_even.py tests when it is)."""
    imports = []
    monkeypatch.setattr(_fusion, "_import_kernels", lambda: imports.append(1) or None)
    _fusion.reset()
    _fusion.RENT.spent_s = _fusion.NUMBA_LOAD_S
    kw = dict(lr=0.01, momentum=0.9) if cls == "SGD" else dict(lr=0.01)
    for size, expected in [(_fusion.FUSED_MIN_SIZE - 1, 0), (_fusion.FUSED_MIN_SIZE, 1)]:
        p = Parameter(np.ones(size, dtype=np.float32))
        p.grad = np.full(size, 0.5, dtype=np.float32)
        getattr(optim, cls)([p], **kw).step()
        assert len(imports) == expected
        assert np.all(p.data < 1)
    _fusion.reset()
