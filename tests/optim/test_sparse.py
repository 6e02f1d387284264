"""Row-sparse embedding gradients and SparseAdam, against the dense path and torch.

``Embedding(sparse=True)`` gives ``weight.grad`` as a ``RowSparseGrad`` (the rows a batch
touched): densified, it equals the dense gradient bit for bit. SparseAdam equals
torch.optim.SparseAdam step by step (float64, rtol 1e-9), with repeated indices, a padding
row, param groups and a state_dict reload; SGD and Adagrad take sparse gradients as torch's
do (SGD without momentum and Adagrad on the rows present only, bit for bit the dense
update there; float32 with max_norm too), the other optimizers raise torch's error.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

import gdlab
from gdlab import nn, optim
from gdlab.autograd.sparse import RowSparseGrad

torch = pytest.importorskip("torch")

ROWS, DIM, STEPS = 20, 4, 20


# ------------------------------------------------------------------ the gradient itself
def test_from_rows_equals_add_at_bit_for_bit():
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 50, size=400)
    values = rng.normal(size=(400, 3)).astype(np.float32)
    dense = np.zeros((50, 3), np.float32)
    np.add.at(dense, rows, values)
    g = RowSparseGrad.from_rows(rows, values, (50, 3))
    assert np.array_equal(g.to_dense(), dense)
    assert np.array_equal(g.indices, np.unique(rows))
    assert np.array_equal((g + g).to_dense(), dense + dense)  # sparse + sparse: sparse
    assert isinstance(g + g, RowSparseGrad)
    both = dense + g  # dense + sparse: dense, torch's rule
    assert type(both) is np.ndarray and np.array_equal(both, dense + dense)


@pytest.mark.parametrize(
    "kwargs",
    [dict(), dict(padding_idx=3), dict(scale_grad_by_freq=True, padding_idx=0)],
    ids=["plain", "padding", "freq-padding"],
)
def test_sparse_embedding_gradient_densifies_to_the_dense_one(kwargs):
    rng = np.random.default_rng(1)
    weight = rng.normal(size=(ROWS, DIM))
    sparse = nn.Embedding(ROWS, DIM, sparse=True, _weight=weight.copy(), **kwargs)
    dense = nn.Embedding(ROWS, DIM, _weight=weight.copy(), **kwargs)
    idx = rng.integers(0, 8, size=(6, 5))  # repeats, and the padding row
    for emb in (sparse, dense):
        for _ in range(2):  # two backward passes accumulate
            (emb(idx) ** 3).sum().backward()
    assert isinstance(sparse.weight.grad, RowSparseGrad)
    assert np.array_equal(sparse.weight.grad.to_dense(), dense.weight.grad)
    if "padding_idx" in kwargs:  # left out, as torch's sparse gradient leaves it
        assert kwargs["padding_idx"] not in sparse.weight.grad.indices


def test_sparse_gradient_equals_torchs():
    rng = np.random.default_rng(2)
    weight = rng.normal(size=(ROWS, DIM))
    idx = rng.integers(0, 8, size=(6, 5))
    ours = nn.Embedding(ROWS, DIM, padding_idx=2, sparse=True, _weight=weight.copy())
    theirs = torch.nn.Embedding(ROWS, DIM, padding_idx=2, sparse=True, _weight=torch.tensor(weight))
    (ours(idx) ** 3).sum().backward()
    (theirs(torch.from_numpy(idx)) ** 3).sum().backward()
    want = theirs.weight.grad.coalesce()
    np.testing.assert_array_equal(ours.weight.grad.indices, want.indices().numpy()[0])
    np.testing.assert_allclose(ours.weight.grad.values, want.values().numpy(), rtol=1e-14)
    assert repr(ours) == "Embedding(20, 4, padding_idx=2, sparse=True)"


# ------------------------------------------------------------------ optimizers, vs torch
def _batches() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [rng.integers(0, 12, size=(4, 6)) for _ in range(STEPS)]  # repeats; rows 12+ never


def _loss(emb: Any, head: Any, idx: Any, sin: Any) -> Any:
    """Non-convex in the embedding: a sine of the looked-up rows through a dense head. One
    lookup, so both libraries sum each row's repeats in the same order."""
    e = emb(idx)
    return (sin(e @ head) ** 2).sum() + (e**2).sum() * 0.1


CASES = [  # gdlab class, kwargs; torch's class of the same name
    ("SparseAdam", dict(lr=0.05)),
    ("SparseAdam", dict(lr=0.02, betas=(0.8, 0.9), eps=1e-6)),
    ("SparseAdam", dict(lr=0.05, maximize=True)),
    # SGD at lr 0.05 makes this loss chaotic: a 1-ulp difference at step 1 grows to 1e-7 by
    # step 30 (as it does for dense SGD); at lr 0.01-0.02 the runs agree to 1e-12
    ("SGD", dict(lr=0.01)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.02, momentum=0.5)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
]


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}-{kw}" for n, kw in CASES])
def test_sparse_optimizer_equals_torch_step_by_step(name, kwargs):
    """Two embeddings in two param groups (the second at half the lr), a padding row, a
    state_dict reload into a fresh optimizer after step 10; rtol 1e-9 after every step."""
    rng = np.random.default_rng(4)
    w1, w2, head = (
        rng.normal(size=(ROWS, DIM)),
        rng.normal(size=(ROWS, DIM)),
        rng.normal(size=(DIM, 2)),
    )
    ours = [nn.Embedding(ROWS, DIM, padding_idx=1, sparse=True, _weight=w.copy()) for w in (w1, w2)]
    theirs = [torch.nn.Embedding(ROWS, DIM, padding_idx=1, sparse=True, _weight=torch.tensor(w))
              for w in (w1, w2)]  # fmt: skip
    lr = kwargs["lr"]

    def groups(embs):
        return [{"params": [embs[0].weight]}, {"params": [embs[1].weight], "lr": lr / 2}]

    opt = getattr(optim, name)(groups(ours), **kwargs)
    ref = getattr(torch.optim, name)(groups(theirs), **kwargs)
    head_g, head_t = nn.Parameter(head.copy()).detach(), torch.tensor(head)
    sign = -1.0 if kwargs.get("maximize") else 1.0
    for step, idx in enumerate(_batches(), start=1):
        opt.zero_grad()
        ref.zero_grad()
        for e in ours:
            (sign * _loss(e, head_g, idx, gdlab.sin)).backward()
        for e in theirs:
            (sign * _loss(e, head_t, torch.from_numpy(idx), torch.sin)).backward()
        opt.step()
        ref.step()
        for a, b in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(a.weight.data, b.weight.detach().numpy(), rtol=1e-9,
                                       atol=1e-12, err_msg=f"step {step}")  # fmt: skip
        if step == 10:
            saved = copy.deepcopy(opt.state_dict())
            opt = getattr(optim, name)(groups(ours), **kwargs)
            opt.load_state_dict(saved)
    assert np.array_equal(ours[0].weight.data[12:], w1[12:])  # untouched rows never move
    assert np.abs(ours[0].weight.data - w1).max() > 0.1


def test_sparse_adam_leaves_untouched_rows_and_moments_alone():
    """Unlike dense Adam, a row absent from the batch keeps its parameters and moments."""
    emb = nn.Embedding(6, 2, sparse=True, dtype=np.float64)
    opt = optim.SparseAdam(emb.parameters(), lr=0.1)
    emb(np.array([0, 1])).sum().backward()
    opt.step()
    m_before = opt.state[emb.weight]["exp_avg"].copy()
    w_before = emb.weight.data.copy()
    opt.zero_grad()
    emb(np.array([2])).sum().backward()
    opt.step()
    np.testing.assert_array_equal(opt.state[emb.weight]["exp_avg"][:2], m_before[:2])
    np.testing.assert_array_equal(emb.weight.data[[0, 1, 3]], w_before[[0, 1, 3]])
    assert opt.state[emb.weight]["step"] == 2.0


# ------------------------------------------------------------------ errors, as torch's
ERRORS = [
    ("Adam", {}, "Adam does not support sparse gradients, please consider SparseAdam instead"),
    ("RMSprop", {}, "RMSprop does not support sparse gradients"),
    ("SGD", dict(weight_decay=0.1), "SGD: weight_decay option is not compatible with sparse"),
    ("Adagrad", dict(weight_decay=0.1), "Adagrad: weight_decay option is not compatible"),
]


@pytest.mark.parametrize(
    ("name", "kwargs", "message"), ERRORS, ids=[e[0] for e in ERRORS[:2]] + ["SGD-wd", "Adagrad-wd"]
)
def test_sparse_gradient_errors(name, kwargs, message):
    emb = nn.Embedding(5, 2, sparse=True)
    opt = getattr(optim, name)(emb.parameters(), **kwargs)
    emb(np.array([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match=message):
        opt.step()


def test_sparse_adam_rejects_dense_gradients():
    emb = nn.Embedding(5, 2)
    opt = optim.SparseAdam(emb.parameters())
    emb(np.array([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients"):
        opt.step()


def test_zero_grad_keeps_an_empty_sparse_gradient():
    emb = nn.Embedding(5, 2, sparse=True)
    opt = optim.SparseAdam(emb.parameters())
    emb(np.array([1, 2])).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert isinstance(emb.weight.grad, RowSparseGrad) and len(emb.weight.grad.indices) == 0
    emb(np.array([4])).sum().backward()
    assert emb.weight.grad.indices.tolist() == [4]


# ------------------------------------------------------------------ in the trainer
class _Bag(nn.Module):
    """Embedding bag: the mean of the looked-up rows, then a linear head."""

    def __init__(self, sparse: bool) -> None:
        super().__init__()
        rng = np.random.default_rng(5)
        self.emb = nn.Embedding(
            30, 4, padding_idx=0, sparse=sparse, _weight=rng.normal(size=(30, 4))
        )
        self.head = nn.Linear(4, 3, dtype=np.float64)
        self.head.weight.data[...] = rng.normal(size=(3, 4))
        self.head.bias.data[...] = 0.0

    def forward(self, idx: Any) -> Any:
        return self.head(self.emb(idx).mean(1))


def test_trainer_with_sparse_gradients_equals_the_dense_run():
    """fit (gradient norm, clipping, accumulation) with SGD over a sparse embedding and a dense
    head gives the dense run's parameters; the recorded gradient norms agree too."""
    from gdlab.data import DataLoader, TensorDataset
    from gdlab.train import fit

    rng = np.random.default_rng(6)
    x, y = rng.integers(0, 30, size=(64, 5)), rng.integers(0, 3, size=64)
    runs = []
    for sparse in (True, False):
        model = _Bag(sparse)
        loader = DataLoader(TensorDataset(x, y), batch_size=16)
        opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
        history = fit(model, nn.functional.cross_entropy, opt, loader, epochs=3,
                      grad_clip_norm=0.25, accumulate=2)  # fmt: skip
        runs.append((model, history))
    (sparse_model, h_sparse), (dense_model, h_dense) = runs
    for a, b in zip(sparse_model.parameters(), dense_model.parameters(), strict=True):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(h_sparse.steps["grad_norm"], h_dense.steps["grad_norm"], rtol=1e-12)
    assert max(h_dense.steps["grad_norm"]) > 0.25  # the clipping acted


def test_lbfgs_densifies_a_sparse_gradient_as_torch():
    """torch's LBFGS reads a sparse gradient densified; so does gdlab's: 5 steps equal."""
    rng = np.random.default_rng(7)
    w, head, idx = rng.normal(size=(ROWS, DIM)), rng.normal(size=(DIM, 2)), _batches()[0]
    ours = nn.Embedding(ROWS, DIM, sparse=True, _weight=w.copy())
    theirs = torch.nn.Embedding(ROWS, DIM, sparse=True, _weight=torch.tensor(w))
    opt = optim.LBFGS(ours.parameters(), lr=0.5, max_iter=5, line_search_fn="strong_wolfe")
    ref = torch.optim.LBFGS(theirs.parameters(), lr=0.5, max_iter=5, line_search_fn="strong_wolfe")
    head_g, head_t = gdlab.tensor(head), torch.tensor(head)

    def closure_g():
        opt.zero_grad()
        loss = _loss(ours, head_g, idx, gdlab.sin)
        loss.backward()
        return loss

    def closure_t():
        ref.zero_grad()
        loss = _loss(theirs, head_t, torch.from_numpy(idx), torch.sin)
        loss.backward()
        return loss

    for _ in range(5):
        opt.step(closure_g)
        ref.step(closure_t)
        np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(), rtol=1e-9)
    assert np.abs(ours.weight.data - w).max() > 0.1


# ------------------------------------------------------------------ float32, max_norm
@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}-{kw}" for n, kw in CASES])
def test_sparse_optimizer_equals_torch_in_float32_with_max_norm(name, kwargs):
    """float32 tables renormed in place by max_norm (rows above norm 1.5), a padding row and
    repeated indices: torch's sparse step, 8 steps, within float32 rounding."""
    rng = np.random.default_rng(8)
    weight = rng.normal(size=(ROWS, DIM)).astype(np.float32)
    head = rng.normal(size=(DIM, 2)).astype(np.float32)
    options = dict(padding_idx=1, max_norm=1.5, sparse=True)
    ours = nn.Embedding(ROWS, DIM, _weight=weight.copy(), **options)
    theirs = torch.nn.Embedding(ROWS, DIM, _weight=torch.tensor(weight), **options)
    opt = getattr(optim, name)(ours.parameters(), **kwargs)
    ref = getattr(torch.optim, name)(theirs.parameters(), **kwargs)
    head_g, head_t = gdlab.tensor(head), torch.tensor(head)
    sign = -1.0 if kwargs.get("maximize") else 1.0
    for step, idx in enumerate(_batches()[:8], start=1):
        opt.zero_grad()
        ref.zero_grad()
        (sign * _loss(ours, head_g, idx, gdlab.sin)).backward()
        (sign * _loss(theirs, head_t, torch.from_numpy(idx), torch.sin)).backward()
        opt.step()
        ref.step()
        assert ours.weight.dtype == np.float32
        np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(), rtol=2e-5,
                                   atol=2e-6, err_msg=f"step {step}")  # fmt: skip
    assert np.array_equal(ours.weight.data[12:], weight[12:])  # untouched rows never move
    assert np.linalg.norm(ours.weight.data[:12], axis=1).max() < 1.5 + 0.5  # renormed


# ------------------------------------------------------------------ only the rows present
ROW_CASES = [  # optimizers whose sparse step equals the dense one exactly
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("Adagrad", dict(lr=0.1, eps_in_sqrt=True, initial_accumulator_value=0.1)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "kwargs"), ROW_CASES, ids=[f"{n}-{kw}" for n, kw in ROW_CASES])
def test_sparse_step_equals_the_dense_step_bit_for_bit(name, kwargs, dtype):
    """The rows present get exactly the dense update, the others keep their parameters (SGD
    without momentum, Adagrad: a zero-gradient row does not move); with momentum the sparse
    gradient is densified (torch's buffer decays every row it ever held)."""
    rng = np.random.default_rng(9)
    weight = rng.normal(size=(ROWS, DIM)).astype(dtype)
    embs = [nn.Embedding(ROWS, DIM, padding_idx=1, sparse=s, _weight=weight.copy())
            for s in (True, False)]  # fmt: skip
    opts = [getattr(optim, name)(e.parameters(), **kwargs) for e in embs]
    for idx in _batches()[:6]:
        for emb, opt in zip(embs, opts, strict=True):
            opt.zero_grad()
            (gdlab.sin(emb(idx)) ** 2).sum().backward()
            opt.step()
        assert embs[0].weight.data.tobytes() == embs[1].weight.data.tobytes()
    for key, value in opts[1].state[embs[1].weight].items():
        np.testing.assert_array_equal(opts[0].state[embs[0].weight][key], value)


KERNEL_CASES = [  # name, kwargs, fused (True: SGD's compiled row loops, numba_rows.py)
    ("SGD", dict(lr=0.05), None),
    ("SGD", dict(lr=0.05), True),
    ("SGD", dict(lr=0.05, maximize=True), True),
    ("SGD", dict(lr=0.05, momentum=0.9), None),  # densified, then the NumPy kernel
    ("SGD", dict(lr=0.05, momentum=0.9), True),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, maximize=True), True),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True), True),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01), None),
    ("Adagrad", dict(lr=0.1, eps_in_sqrt=True, initial_accumulator_value=0.1), None),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "kwargs", "fused"), KERNEL_CASES,
                         ids=["SGD", "SGD-compiled", "SGD-maximize-compiled", "SGD-momentum",
                              "SGD-momentum-compiled", "SGD-dampening-maximize-compiled",
                              "SGD-nesterov-compiled", "Adagrad",
                              "Adagrad-eps-in-sqrt"])  # fmt: skip
def test_sparse_row_kernel_equals_the_rule(name, kwargs, fused, dtype):
    """optim/_fast/sparse_rows.py (the seam's kernel) against the rule's rows branch; with
    momentum, the compiled loop over every row against the rule's densified step."""
    from gdlab.optim._fast import KERNELS

    if fused:
        pytest.importorskip("numba")

    optimizer = getattr(optim, name)
    rule = optimizer._rule
    rng = np.random.default_rng(10)
    param = rng.normal(size=(ROWS, DIM)).astype(dtype)
    grad = RowSparseGrad.from_rows(
        rng.integers(0, ROWS, 30), rng.normal(size=(30, DIM)).astype(dtype), (ROWS, DIM)
    )
    grad.values[0, :2] = -0.0  # a signed zero the dense step would keep
    hyper = {k: v for k, v in optimizer([nn.Parameter(param)], **kwargs).defaults.items()
             if k not in ("foreach", "fused", "differentiable")}  # fmt: skip
    by_rule, by_kernel = param.copy(), param.copy()
    rule_state: dict = {}
    kernel_state: dict = {}
    for _ in range(3):
        rule(by_rule, grad, rule_state, **hyper)
        KERNELS[rule].update(by_kernel, grad, kernel_state, fused=fused, **hyper)
    assert by_rule.tobytes() == by_kernel.tobytes()
    assert not np.array_equal(by_rule[grad.indices], param[grad.indices])
    untouched = np.setdiff1d(np.arange(ROWS), grad.indices)
    assert by_rule[untouched].tobytes() == param[untouched].tobytes()
    for key, value in rule_state.items():
        assert np.asarray(kernel_state[key]).tobytes() == np.asarray(value).tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", [dict(lr=0.05), dict(lr=0.02, betas=(0.8, 0.9), eps=1e-6,
                                                        maximize=True)])  # fmt: skip
def test_sparse_adam_compiled_rows_equal_the_rule(kwargs, dtype):
    """optim/_fast/sparse_adam.py's compiled loop (numba_rows.py) against sparse_adam_, bit
    for bit over 4 steps with repeated and changing rows."""
    pytest.importorskip("numba")
    from gdlab.optim._fast import KERNELS
    from gdlab.optim.sparse_adam import sparse_adam_

    rng = np.random.default_rng(11)
    param = rng.normal(size=(ROWS, DIM)).astype(dtype)
    by_rule, by_kernel = param.copy(), param.copy()
    rule_state: dict = {}
    kernel_state: dict = {}
    for _ in range(4):
        values = rng.normal(size=(30, DIM)).astype(dtype)
        grad = RowSparseGrad.from_rows(rng.integers(0, 12, 30), values, (ROWS, DIM))
        sparse_adam_(by_rule, grad, rule_state, **kwargs)
        KERNELS[sparse_adam_].update(by_kernel, grad, kernel_state, fused=True, **kwargs)
    assert by_rule.tobytes() == by_kernel.tobytes()
    assert by_rule[12:].tobytes() == param[12:].tobytes()
    assert rule_state["step"] == kernel_state["step"] == 4.0
    for key in ("exp_avg", "exp_avg_sq"):
        assert rule_state[key].tobytes() == kernel_state[key].tobytes()
