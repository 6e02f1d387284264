"""Matrix-preconditioned optimizers (SOAP, Shampoo) and SophiaG, step by step against their
authors' or a well-kept implementation (test-only dependencies: ``pip install 'gdlab[dev]'``).

The harness of ``test_vs_references.py`` on matrix- and tensor-shaped parameters: 50 float64
steps on Σ θ² + sin(3θ), two param groups (the second at half the learning rate), a
``state_dict`` reload into a fresh optimizer after step 25, the parameters compared after
every step (rtol 1e-9 unless a row states its bound and why). Adding a configuration adds a
row.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from gdlab import optim
from gdlab.nn import Parameter

torch = pytest.importorskip("torch")

STEPS = 50
RELOAD_AT = 25
SHAPES = ((6, 5), (4, 3, 2), (5,))

Factory = Callable[[list, dict[str, Any]], Any]


@dataclass(frozen=True)
class Row:
    """One configuration: gdlab's class and kwargs, and the reference built from its groups."""

    id: str
    gdlab: str
    kwargs: dict[str, Any]
    reference: Factory
    shapes: tuple[tuple[int, ...], ...] = SHAPES
    rtol: float = 1e-9
    atol: float = 1e-12
    hessian_every: int = 0  # SophiaG: update_hessian() on both every k steps


def _po(name: str, rename: dict[str, str] | None = None, **extra: Any) -> Factory:
    """pytorch-optimizer's class ``name``, gdlab's argument names mapped to its own."""

    def build(groups: list, kwargs: dict[str, Any]) -> Any:
        module = pytest.importorskip("pytorch_optimizer")
        ref = {(rename or {}).get(k, k): v for k, v in kwargs.items() if k != "maximize"}
        return getattr(module, name)(groups, **(ref | extra))

    return build


# ------------------------------------------------------------------ SOAP
def _numpy_eigh(m: Any) -> Any:
    return [torch.from_numpy(a) for a in np.linalg.eigh(m.numpy())]


def _numpy_qr(m: Any) -> Any:
    return [torch.from_numpy(a) for a in np.linalg.qr(m.numpy())]


def _soap(lapack: str) -> Factory:
    """pytorch-optimizer's SOAP (the authors' algorithm) with its float32 cast of the basis
    refresh removed, its eigh and QR run by NumPy's LAPACK (``lapack="numpy"``) or torch's.

    Both libraries compute the same decompositions, but their LAPACK builds differ in the last
    bits, and SOAP amplifies that: Adam's first steps divide every rotated coordinate by its
    own magnitude, so a coordinate near ε changes by its rounding relative to ε. With NumPy's
    decompositions the reference follows gdlab's rule to 3e-10 over 50 steps on the Intel
    host and to 3e-8 absolute on the AMD one (the products' rounding, see SOAP_ROWS); with
    torch's the same runs differ by up to 1e-5 (``SOAP_TORCH_LAPACK`` rows, bounded at rtol 1e-4).
    """
    po = pytest.importorskip("pytorch_optimizer")
    eigh = _numpy_eigh if lapack == "numpy" else torch.linalg.eigh
    qr = _numpy_qr if lapack == "numpy" else torch.linalg.qr

    class SOAP64(po.SOAP):
        @staticmethod
        def get_orthogonal_matrix(mat):
            return [[] if len(m) == 0 else torch.flip(eigh(m + 1e-30 * torch.eye(len(m),
                    dtype=m.dtype))[1], dims=[1]) for m in mat]  # fmt: skip

        def get_orthogonal_matrix_qr(self, state, max_precondition_dim=10000, merge_dims=False):
            exp_avg_sq, matrices = state["exp_avg_sq"], []
            for ind, (m, o) in enumerate(zip(state["GG"], state["Q"], strict=True)):
                if len(m) == 0:
                    matrices.append([])
                    continue
                product = m @ o
                order = torch.argsort((o * product).sum(dim=0), descending=True)
                exp_avg_sq = exp_avg_sq.index_select(ind, order)
                matrices.append(qr(product.index_select(1, order))[0])
            state["exp_avg_sq"] = exp_avg_sq
            return matrices

    rename = {"max_precond_dim": "max_precondition_dim", "normalize_grads": "normalize_gradient"}

    def build(groups: list, kwargs: dict[str, Any]) -> Any:
        return SOAP64(groups, **{rename.get(k, k): v for k, v in kwargs.items() if k != "maximize"})

    return build


SOAP_CONFIGS = [
    dict(lr=0.01),
    dict(lr=0.02, betas=(0.9, 0.99), shampoo_beta=0.8, weight_decay=0.1, precondition_frequency=3),
    dict(lr=0.01, eps=1e-6, correct_bias=False, precondition_frequency=1, maximize=True),
    dict(lr=0.01, max_precond_dim=5, weight_decay=0.0, precondition_frequency=4),
    dict(lr=0.01, precondition_1d=True, precondition_frequency=5),
    # pytorch-optimizer adds ε to the rms where the authors add 1e-30 (gdlab follows them):
    # the normalised gradient then differs by a factor 1 − ε/rms for the whole tensor, which
    # Adam's m/(√v + ε) cancels but for ε. (ε = 1e-30 would make them coincide, but then
    # Adam divides the near-zero rotated coordinates of the null space of the first, rank-one
    # L = g gᵀ by their own size: ±1 from rounding alone, and MKL and OpenBLAS round the
    # products differently on some CPUs: the runs parted at step 2 on an AMD EPYC.)
    dict(lr=0.01, normalize_grads=True, precondition_frequency=3),
]
# Tolerances: torch's products (MKL) and NumPy's (OpenBLAS) round alike on the Intel host
# (3e-10 over 50 steps) but not on the AMD one (MKL's AMD path), where SOAP's division of the
# first, rank-one L's null-space coordinates by √v + ε carries the difference on: up to 1.2e-8
# absolute over 50 steps on unit-scale parameters, 3.3e-8 with normalised gradients
# (measured 2 December), bounded at 1e-7.
SOAP_ROWS = [
    Row(f"SOAP-{i}", "SOAP", kw, _soap("numpy"), rtol=1e-8, atol=1e-7)
    for i, kw in enumerate(SOAP_CONFIGS)
]
# With torch's LAPACK, not the last two: a 1-D parameter's first L = g gᵀ has rank 1, and any
# orthonormal basis of its null space is an eigenbasis, so each LAPACK build picks its own
# (a tie in the algorithm, not rounding: the runs part at step 2); ε = 1e-30 makes the
# division by near-zero rotated coordinates amplify rounding without bound.
SOAP_TORCH_LAPACK = [
    Row(f"SOAP-torch-lapack-{i}", "SOAP", kw, _soap("torch"), rtol=1e-4)
    for i, kw in enumerate(SOAP_CONFIGS[:4])
]


# ------------------------------------------------------------------ SophiaG
class _SophiaReference:
    """The authors' SophiaG (``sophia-opt`` 0.2.2, their sophia.py verbatim), whose ``step``
    takes the batch size B that gdlab keeps as the hyper-parameter ``bs``."""

    def __init__(self, groups: list, kwargs: dict[str, Any]) -> None:
        sophia_opt = pytest.importorskip("sophia_opt")
        self.bs = kwargs.get("bs", 5120)
        ref = {k: v for k, v in kwargs.items() if k not in ("bs", "maximize")}
        self.opt = sophia_opt.SophiaG(groups, **ref)

    def step(self) -> None:
        self.opt.step(bs=self.bs)

    def update_hessian(self) -> None:
        self.opt.update_hessian()


SOPHIA_ROWS = [
    Row(f"SophiaG-{i}", "SophiaG", kw, _SophiaReference, hessian_every=k)
    for i, (kw, k) in enumerate([
        (dict(lr=0.05), 3),
        (dict(lr=0.05, betas=(0.9, 0.95), rho=0.5, weight_decay=0.0, bs=8), 1),
        (dict(lr=0.02, rho=0.01, weight_decay=0.2, bs=64, maximize=True), 5),
        (dict(lr=0.05, bs=1), 0),  # no curvature ever: h = 0, pure sign steps
    ])
]  # fmt: skip

# ------------------------------------------------------------------ Shampoo
GRAFTS = {"none": 0, "sgd": 1, "adagrad": 2, "rmsprop": 3, "sqrtn": 4}  # pytorch-optimizer's


def _scalable_shampoo(groups: list, kwargs: dict[str, Any]) -> Any:
    """pytorch-optimizer's ScalableShampoo (Distributed Shampoo) with the inverse root by SVD
    and no merging of small axes (gdlab has neither the Newton iteration nor the merging)."""
    po = pytest.importorskip("pytorch_optimizer")
    ref = {k: v for k, v in kwargs.items() if k != "maximize"}
    ref["graft_type"] = GRAFTS[ref.get("graft_type", "sgd")]
    if "precondition_frequency" in ref:
        ref["preconditioning_compute_steps"] = ref.pop("precondition_frequency")
    return po.ScalableShampoo(groups, shape_interpretation=False, use_svd=True, **ref)


GUPTA = dict(graft_type="none", betas=(0.0, 1.0), start_preconditioning_step=1,
             precondition_frequency=1, nesterov=False)  # fmt: skip
SHAMPOO_ROWS = [
    Row(f"Shampoo-{i}", "Shampoo", kw, _scalable_shampoo)
    for i, kw in enumerate([
        dict(lr=0.01, start_preconditioning_step=5, precondition_frequency=3),
        dict(lr=0.01, graft_type="adagrad", nesterov=False, moving_average_for_momentum=True,
             weight_decay=0.1, start_preconditioning_step=2, precondition_frequency=1),
        dict(lr=0.02, betas=(0.8, 0.9), graft_type="rmsprop", weight_decay=0.1,
             decoupled_weight_decay=True, decoupled_learning_rate=False, block_size=4,
             start_preconditioning_step=10, precondition_frequency=4, maximize=True),
        dict(lr=0.01, graft_type="sqrtn", matrix_eps=1e-3, start_preconditioning_step=1,
             precondition_frequency=2, block_size=3),
        dict(lr=0.05, graft_type="none", betas=(0.5, 0.99), start_preconditioning_step=3,
             precondition_frequency=5, matrix_eps=1e-2),
    ])
]  # fmt: skip
# the original algorithm (Gupta et al.): pytorch-optimizer's Shampoo without momentum; it
# preconditions 1-D parameters too (gdlab leaves them to the graft), so matrices only here
SHAMPOO_ROWS.append(Row("Shampoo-gupta", "Shampoo", dict(lr=0.05, **GUPTA),
                        lambda groups, kw: _po("Shampoo")(groups, {"lr": kw["lr"]}),
                        shapes=((6, 5), (4, 3, 2), (3, 4))))  # fmt: skip

ROWS = [*SOAP_ROWS, *SOAP_TORCH_LAPACK, *SOPHIA_ROWS, *SHAMPOO_ROWS]


def _grad(x: np.ndarray) -> np.ndarray:
    return 2 * x + 3 * np.cos(3 * x)


def _hessian_grad(x: np.ndarray) -> np.ndarray:
    """A stand-in for the sampled-label gradient ĝ of the GNB estimate."""
    return 0.1 * x + np.sin(2 * x)


def _groups(params: list, lr: float) -> list[dict]:
    return [{"params": params[:2]}, {"params": params[2:], "lr": lr / 2}]


def _run(row: Row) -> None:
    start = [np.random.default_rng(i).uniform(-2, 2, size=s) for i, s in enumerate(row.shapes)]
    ours = [Parameter(x.copy()) for x in start]
    theirs = [torch.tensor(x.copy(), requires_grad=True) for x in start]
    lr = row.kwargs["lr"]
    opt = getattr(optim, row.gdlab)(_groups(ours, lr), **row.kwargs)
    ref = row.reference(_groups(theirs, lr), row.kwargs)
    sign = -1.0 if row.kwargs.get("maximize") else 1.0
    for step in range(1, STEPS + 1):
        for p, t in zip(ours, theirs, strict=True):
            p.grad = _grad(p.data)
            t.grad = torch.from_numpy(sign * _grad(t.detach().numpy()))
        opt.step()
        ref.step()
        for p, t in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=row.rtol, atol=row.atol,
                                       err_msg=f"step {step}")  # fmt: skip
        if row.hessian_every and step % row.hessian_every == 0:
            for p, t in zip(ours, theirs, strict=True):
                p.grad = _hessian_grad(p.data)
                t.grad = torch.from_numpy(_hessian_grad(t.detach().numpy()))
            opt.update_hessian()
            ref.update_hessian()
        if step == RELOAD_AT:  # a fresh optimizer resumes from the state dict
            saved = copy.deepcopy(opt.state_dict())
            opt = getattr(optim, row.gdlab)(_groups(ours, lr), **row.kwargs)
            opt.load_state_dict(saved)
    moved = [np.abs(p.data - x).max() for p, x in zip(ours, start, strict=True)]
    assert min(moved) > 0.05  # a real trajectory, not a standstill


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_equals_reference_step_by_step(row: Row):
    _run(row)


# ------------------------------------------------------------------ the GNB estimator
def test_gnb_estimate_equals_authors_loop_and_closed_form():
    """update_hessian_gnb = the authors' loop (sample ŷ ~ softmax(logits), mean cross-entropy,
    backward, update_hessian) run in torch on the same labels, and the closed form of a linear
    model: ĝ_W = (softmax(XWᵀ + b) − onehot(ŷ))ᵀ X / B."""
    from gdlab import nn
    from gdlab.tensor import Tensor

    sophia_opt = pytest.importorskip("sophia_opt")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 5))
    model = nn.Linear(5, 4, dtype=np.float64)
    ref_model = torch.nn.Linear(5, 4).double()
    with torch.no_grad():
        ref_model.weight.copy_(torch.from_numpy(model.weight.data))
        ref_model.bias.copy_(torch.from_numpy(model.bias.data))
    opt = optim.SophiaG(model.parameters(), betas=(0.9, 0.8))
    ref = sophia_opt.SophiaG(ref_model.parameters(), betas=(0.9, 0.8))
    sample_rng = np.random.default_rng(1)
    for _ in range(3):
        labels = optim.update_hessian_gnb(opt, model, Tensor(x), rng=sample_rng)
        ref.zero_grad()
        logits = ref_model(torch.from_numpy(x))
        torch.nn.functional.cross_entropy(logits, torch.from_numpy(labels)).backward()
        ref.update_hessian()
    np.testing.assert_allclose(
        opt.state[model.weight]["hessian"],
        ref.state[ref_model.weight]["hessian"].numpy(),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        opt.state[model.bias]["hessian"], ref.state[ref_model.bias]["hessian"].numpy(), rtol=1e-12
    )
    # the first estimate alone, in closed form
    opt = optim.SophiaG(model.parameters(), betas=(0.9, 0.8))
    labels = optim.update_hessian_gnb(opt, model, Tensor(x), rng=np.random.default_rng(2))
    z = x @ model.weight.data.T + model.bias.data
    probs = np.exp(z - z.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    g_w = (probs - np.eye(4)[labels]).T @ x / len(x)
    np.testing.assert_allclose(opt.state[model.weight]["hessian"], 0.2 * g_w**2, rtol=1e-12)
    assert model.weight.grad is None  # the estimate leaves no gradient behind


def test_gnb_labels_follow_the_models_distribution():
    """The sampled labels are draws from softmax(logits): class frequencies over 40,000 draws
    within 4 standard errors of the probabilities, for logits of shape (..., C)."""
    logits = np.log(np.array([0.1, 0.2, 0.3, 0.4]))
    w = optim.SophiaG([Parameter(np.zeros(1))])
    n = 40_000

    class Fixed:
        def __call__(self, inputs):
            from gdlab.tensor import Tensor

            return Tensor(np.broadcast_to(logits, (n // 4, 4, 4)).copy(), requires_grad=True)

    labels = optim.update_hessian_gnb(w, Fixed(), None, rng=np.random.default_rng(3))
    assert labels.shape == (n // 4, 4)
    freq = np.bincount(labels.ravel(), minlength=4) / n
    p = np.exp(logits)
    np.testing.assert_array_less(np.abs(freq - p), 4 * np.sqrt(p * (1 - p) / n))


def test_gnb_helper_rejects_other_optimizers():
    w = Parameter(np.zeros(2))
    with pytest.raises(TypeError, match="update_hessian_gnb: optimizer must be a SophiaG, got SGD"):
        optim.update_hessian_gnb(optim.SGD([w]), lambda x: x, None, rng=np.random.default_rng())


def test_sophia_training_loop_equals_the_authors():
    """The authors' loop on a linear classifier, 30 steps: step on the data's labels, then
    every k = 3 steps the GNB estimate on labels sampled from the model (gdlab's sampled
    labels fed to torch, so both see the same draw); parameters equal to rtol 1e-9."""
    from gdlab import nn
    from gdlab.tensor import Tensor

    sophia_opt = pytest.importorskip("sophia_opt")
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(32, 6)), rng.integers(0, 4, size=32)
    model = nn.Linear(6, 4, dtype=np.float64)
    ref_model = torch.nn.Linear(6, 4).double()
    with torch.no_grad():
        ref_model.weight.copy_(torch.from_numpy(model.weight.data))
        ref_model.bias.copy_(torch.from_numpy(model.bias.data))
    kw = dict(lr=0.05, rho=0.5, weight_decay=0.1)
    opt = optim.SophiaG(model.parameters(), bs=32, **kw)
    ref = sophia_opt.SophiaG(ref_model.parameters(), **kw)
    tx, ty, sample_rng = torch.from_numpy(x), torch.from_numpy(y), np.random.default_rng(6)
    for step in range(30):
        opt.zero_grad()
        nn.functional.cross_entropy(model(Tensor(x)), y).backward()
        opt.step()
        ref.zero_grad()
        torch.nn.functional.cross_entropy(ref_model(tx), ty).backward()
        ref.step(bs=32)
        if step % 3 == 2:
            labels = optim.update_hessian_gnb(opt, model, Tensor(x), rng=sample_rng)
            ref.zero_grad()
            torch.nn.functional.cross_entropy(ref_model(tx), torch.from_numpy(labels)).backward()
            ref.update_hessian()
            ref.zero_grad()
        np.testing.assert_allclose(model.weight.data, ref_model.weight.detach().numpy(),
                                   rtol=1e-9, atol=1e-12, err_msg=f"step {step}")  # fmt: skip
    state = opt.state[model.weight]
    newton = np.abs(state["exp_avg"]) < 0.5 * 32 * state["hessian"]  # ratio below the clip
    assert newton.any() and not newton.all()  # both regimes of the update are exercised
