"""Optimizers beyond torch.optim, step by step against their authors' or a well-kept
implementation (test-only dependencies: ``pip install 'gdlab[dev]'``).

50 float64 steps on a non-convex loss, Σ θ² + sin(3θ), with two param groups (the second at
half the learning rate) and a ``state_dict`` reload into a fresh optimizer after step 25;
the parameters must agree after every step to rtol 1e-9. Adding an optimizer adds rows.
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


def _rows(
    gdlab: str, module: str, reference: str, configs: list[dict[str, Any]],
    rename: dict[str, str] | None = None, ref_extra: dict[str, Any] | None = None,
) -> list[Row]:  # fmt: skip
    """One row per config; ``rename`` maps gdlab's argument names to the reference's, and
    ``maximize`` becomes a negated gradient (the references minimize only)."""
    rename, rows = rename or {}, []
    for kw in configs:
        ref = {rename.get(k, k): v for k, v in kw.items() if k != "maximize"}
        name = "-".join(f"{k}={v}" for k, v in kw.items())
        rows.append(Row(f"{gdlab}-{name}", gdlab, kw, module, reference, ref | (ref_extra or {})))
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
]  # fmt: skip


def _grad(x: np.ndarray) -> np.ndarray:
    return 2 * x + 3 * np.cos(3 * x)


def _groups(params: list, lr: float) -> list[dict]:
    return [{"params": params[:2]}, {"params": params[2:], "lr": lr / 2}]


def _reference(row: Row) -> Callable[..., Any]:
    module = pytest.importorskip(row.module)
    return getattr(module, row.reference)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_equals_reference_step_by_step(row: Row):
    ref_cls = _reference(row)
    start = [np.random.default_rng(i).uniform(-2, 2, size=s) for i, s in enumerate(SHAPES)]
    ours = [Parameter(x.copy()) for x in start]
    theirs = [torch.tensor(x.copy(), requires_grad=True) for x in start]
    lr = row.kwargs["lr"]
    opt = getattr(optim, row.gdlab)(_groups(ours, lr), **row.kwargs)
    ref = ref_cls(_groups(theirs, lr), **row.ref_kwargs)
    sign = -1.0 if row.kwargs.get("maximize") else 1.0
    for step in range(1, STEPS + 1):
        for p, t in zip(ours, theirs, strict=True):
            p.grad = _grad(p.data)
            t.grad = torch.from_numpy(sign * _grad(t.detach().numpy()))
        opt.step()
        ref.step()
        for p, t in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=row.rtol, atol=1e-12,
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
