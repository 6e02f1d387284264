"""Optimizers beyond torch.optim, step by step against their authors' or a well-kept
implementation (test-only dependencies: ``pip install 'gdlab[dev]'``).

50 float64 steps on a non-convex loss, Σ θ² + sin(3θ), with two param groups (the second at
half the learning rate) and a ``state_dict`` reload into a fresh optimizer after step 25;
the parameters must agree after every step to rtol 1e-9. Adding an optimizer adds rows.
A reference is a torch optimizer class (``module.Class``) or an optax optimizer (module
``optax`` or ``optax.contrib``: JAX in float64, one optax optimizer per param group at that
group's lr).
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from gdlab import optim
from gdlab.nn import Parameter

torch = pytest.importorskip("torch")

STEPS = 50
RELOAD_AT = 25
SHAPES = [(4, 3), (3,), (5,)]


@dataclass(frozen=True)
class Row:
    """One configuration: gdlab's class and kwargs, the reference's module, class and kwargs."""

    id: str
    gdlab: str
    kwargs: dict[str, Any]
    module: str
    reference: str
    ref_kwargs: dict[str, Any] = field(default_factory=dict)
    rtol: float = 1e-9


Config = dict[str, Any] | tuple[dict[str, Any], dict[str, Any]]


def _rows(
    gdlab: str, module: str, reference: str, configs: list[Config],
    rename: dict[str, str | None] | None = None, ref_extra: dict[str, Any] | None = None,
) -> list[Row]:  # fmt: skip
    """One row per config (``kw`` or ``(kw, the reference's extra kwargs)``); ``rename`` maps
    gdlab's argument names to the reference's (None: not passed), ``ref_extra`` sets the
    reference's other arguments, and ``maximize`` becomes a negated gradient (the references
    minimize only)."""
    rename, rows = rename or {}, []
    for config in configs:
        kw, extra = config if isinstance(config, tuple) else (config, {})
        ref = {rename.get(k, k): v for k, v in kw.items() if k != "maximize"}
        ref = {k: v for k, v in ref.items() if k is not None}
        name = "-".join(f"{k}={v}" for k, v in kw.items())
        ref_kwargs = (ref_extra or {}) | ref | extra
        rows.append(Row(f"{gdlab}-{name}", gdlab, kw, module, reference, ref_kwargs))
    return rows


ROWS = [
    *_rows("Lion", "lion_pytorch", "Lion", [
        dict(lr=0.01),
        dict(lr=0.02, betas=(0.8, 0.95), weight_decay=0.1),
        dict(lr=0.01, weight_decay=0.05, maximize=True),
    ]),
    *_rows("AdaBelief", "adabelief_pytorch", "AdaBelief", [
        dict(lr=0.05),  # rectified (the authors' default), SGD steps while ρ_t < 5
        dict(lr=0.05, eps=1e-8, weight_decay=0.1, rectify=False),
        dict(lr=0.05, amsgrad=True, rectify=False, maximize=True),
        dict(lr=0.05, amsgrad=True, weight_decay=0.1, decoupled_weight_decay=False),
        dict(lr=0.05, betas=(0.5, 0.9), degenerated_to_sgd=False),
    ], rename={"decoupled_weight_decay": "weight_decouple"}, ref_extra={"print_change_log": False}),
    *_rows("Yogi", "pytorch_optimizer", "Yogi", [
        dict(lr=0.05),
        dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, initial_accumulator=0.1, weight_decay=0.1),
        dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True),
    ], rename={"decoupled_weight_decay": "weight_decouple"}, ref_extra={"weight_decouple": False}),
    *_rows("Yogi", "optax", "yogi", [dict(lr=0.05), dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6)]),
    *_rows("Adan", "pytorch_optimizer", "Adan", [
        dict(lr=0.02),
        dict(lr=0.02, betas=(0.9, 0.8, 0.95), eps=1e-4, weight_decay=0.1),
        dict(lr=0.02, weight_decay=0.1, no_prox=True, maximize=True),
    ], rename={"no_prox": "weight_decouple"}),
    *_rows("LAMB", "optax", "lamb", [
        dict(lr=0.05),
        dict(lr=0.05, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.1),
        dict(lr=0.05, weight_decay=0.05, maximize=True),
    ]),
    *_rows("LARS", "pytorch_optimizer", "LARS", [
        dict(lr=0.05, trust_coefficient=0.5),
        dict(lr=0.05, momentum=0.5, dampening=0.1, weight_decay=0.1, trust_coefficient=0.3),
        dict(lr=0.05, nesterov=True, weight_decay=0.05, trust_coefficient=0.5, maximize=True),
        dict(lr=0.02, momentum=0.0, trust_coefficient=0.5),
    ]),
    *_rows("NovoGrad", "pytorch_optimizer", "NovoGrad", [
        dict(lr=0.05),
        dict(lr=0.05, betas=(0.9, 0.99), weight_decay=0.1, grad_averaging=True),
        dict(lr=0.05, eps=1e-3, maximize=True),
    ]),
    *_rows("MADGRAD", "madgrad", "MADGRAD", [
        dict(lr=0.05),
        dict(lr=0.05, momentum=0.0, weight_decay=0.1),
        dict(lr=0.05, weight_decay=0.1, decouple_decay=True, maximize=True),
        dict(lr=0.05, momentum=0.5, eps=1e-3),
    ]),
    *_rows("AdaBound", "adabound", "AdaBound", [
        dict(lr=0.05),
        dict(lr=0.05, final_lr=0.5, gamma=0.1, weight_decay=0.1),
        dict(lr=0.05, amsbound=True, maximize=True),
        dict(lr=0.05, betas=(0.8, 0.99), eps=1e-3, gamma=0.5, amsbound=True),
    ]),
    *_rows("AdaBound", "pytorch_optimizer", "AdaBound", [
        dict(lr=0.05, weight_decay=0.1),
        dict(lr=0.05, amsbound=True),
    ], rename={"amsbound": "ams_bound"}, ref_extra={"weight_decouple": False}),
    *_rows("ADOPT", "optax.contrib", "adopt", [
        dict(lr=0.05),
        dict(lr=0.05, betas=(0.8, 0.99), eps=1e-3),
        (dict(lr=0.05, clip_exponent=None), {"use_clipping": False}),
        (dict(lr=0.05, clip_exponent=0.5, maximize=True), {"clip_value_fn": lambda t: t**0.5}),
    ], rename={"clip_exponent": None}),
    *_rows("ADOPT", "pytorch_optimizer", "ADOPT", [  # its clipping is one step off the paper's
        dict(lr=0.05, weight_decay=0.1, clip_exponent=None),
        dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1, clip_exponent=None, maximize=True),
    ], rename={"clip_exponent": None}, ref_extra={"clip_lambda": None}),
    *_rows("AdEMAMix", "pytorch_optimizer", "AdEMAMix", [
        dict(lr=0.02),
        dict(lr=0.02, betas=(0.8, 0.99, 0.999), alpha=2.0, eps=1e-4, weight_decay=0.1),
        (dict(lr=0.02, beta3_warmup=30, alpha_warmup=30, weight_decay=0.05, maximize=True),
         {"t_alpha_beta3": 30}),
    ], rename={"beta3_warmup": None, "alpha_warmup": None}, ref_extra={"weight_decouple": True}),
    *_rows("AdEMAMix", "optax.contrib", "ademamix", [
        dict(lr=0.02),
        dict(lr=0.02, betas=(0.8, 0.99, 0.999), alpha=2.0, eps=1e-4, weight_decay=0.1),
    ]),
]  # fmt: skip


def _grad(x: np.ndarray) -> np.ndarray:
    return 2 * x + 3 * np.cos(3 * x)


def _groups(params: list, lr: float) -> list[dict]:
    return [{"params": params[:2]}, {"params": params[2:], "lr": lr / 2}]


class _TorchReference:
    """A torch optimizer class stepped on torch copies of the parameters."""

    def __init__(self, row: Row, start: list[np.ndarray]) -> None:
        cls = getattr(pytest.importorskip(row.module), row.reference)
        self.params = [torch.tensor(x.copy(), requires_grad=True) for x in start]
        self.opt = cls(_groups(self.params, row.kwargs["lr"]), **row.ref_kwargs)

    def step(self, grad: Callable[[np.ndarray], np.ndarray]) -> list[np.ndarray]:
        for t in self.params:
            t.grad = torch.from_numpy(grad(t.detach().numpy()))
        self.opt.step()
        return [t.detach().numpy() for t in self.params]


class _OptaxReference:
    """An optax optimizer in float64, one per param group (the second at half the lr)."""

    def __init__(self, row: Row, start: list[np.ndarray]) -> None:
        jax = pytest.importorskip("jax")
        self.optax = pytest.importorskip("optax")
        jax.config.update("jax_enable_x64", True)
        kw = dict(row.ref_kwargs)
        lr = kw.pop("lr")
        if "betas" in kw:  # (b1, b2) or (b1, b2, b3)
            kw.update(zip(("b1", "b2", "b3"), kw.pop("betas"), strict=False))
        module = importlib.import_module(row.module)
        make = getattr(module, row.reference)
        self.txs = [make(learning_rate=lr, **kw), make(learning_rate=lr / 2, **kw)]
        self.params = [[jax.numpy.asarray(x) for x in start[:2]],
                       [jax.numpy.asarray(x) for x in start[2:]]]  # fmt: skip
        self.states = [tx.init(p) for tx, p in zip(self.txs, self.params, strict=True)]

    def step(self, grad: Callable[[np.ndarray], np.ndarray]) -> list[np.ndarray]:
        for i, tx in enumerate(self.txs):
            g = [grad(np.asarray(x)) for x in self.params[i]]
            updates, self.states[i] = tx.update(g, self.states[i], self.params[i])
            self.params[i] = self.optax.apply_updates(self.params[i], updates)
        return [np.asarray(x) for x in self.params[0] + self.params[1]]


def _reference(row: Row, start: list[np.ndarray]) -> _TorchReference | _OptaxReference:
    optax = row.module.split(".")[0] == "optax"
    return (_OptaxReference if optax else _TorchReference)(row, start)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_equals_reference_step_by_step(row: Row):
    start = [np.random.default_rng(i).uniform(-2, 2, size=s) for i, s in enumerate(SHAPES)]
    ref = _reference(row, start)
    ours = [Parameter(x.copy()) for x in start]
    lr = row.kwargs["lr"]
    opt = getattr(optim, row.gdlab)(_groups(ours, lr), **row.kwargs)
    sign = -1.0 if row.kwargs.get("maximize") else 1.0
    for step in range(1, STEPS + 1):
        theirs = ref.step(lambda x: sign * _grad(x))
        for p in ours:
            p.grad = _grad(p.data)
        opt.step()
        for p, t in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(p.data, t, rtol=row.rtol, atol=1e-12,
                                       err_msg=f"step {step}")  # fmt: skip
        if step == RELOAD_AT:  # a fresh optimizer resumes from the state dict
            saved = copy.deepcopy(opt.state_dict())
            opt = getattr(optim, row.gdlab)(_groups(ours, lr), **row.kwargs)
            opt.load_state_dict(saved)
    moved = [np.abs(p.data - x).max() for p, x in zip(ours, start, strict=True)]
    assert min(moved) > 10 * row.kwargs["lr"] * 0.5  # a real trajectory, not a standstill


def test_every_reference_module_is_importable_or_listed():
    """The rows name real modules (a typo would skip silently)."""
    for module in {r.module for r in ROWS}:
        try:
            importlib.import_module(module)
        except ImportError:
            pytest.fail(f"{module} is not installed: pip install 'gdlab[dev]'")
