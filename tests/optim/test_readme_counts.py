"""README's optimizer counts hold only what has an oracle test: the number of optimizers
beyond torch.optim it states is the number of classes in the step-by-step reference tables,
and every registry name beyond torch.optim has an oracle (a reference row, or the named test
file of a second-order method)."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from gdlab.optim.registry import OPTIMIZERS, TORCH_OPTIMIZERS

pytest.importorskip("torch")

README = Path(__file__).resolve().parents[2] / "README.md"
REFERENCE_TABLES = (
    "test_vs_references",
    "test_vs_references_drivers",
    "test_vs_references_preconditioned",
)
# second-order methods whose oracle is not a reference row: the test file that holds it
OTHER_ORACLES = {
    "AdaHessian": "test_hessian_optimizers.py",
    "SophiaH": "test_hessian_optimizers.py",
    "Newton": "test_newton.py",
    "DampedNewton": "test_newton.py",
}


def _reference_classes() -> set[str]:
    """The gdlab classes of the reference rows (a row's id starts with its class name)."""
    rows = [r for m in REFERENCE_TABLES for r in importlib.import_module(m).ROWS]
    return {r.id.split("-")[0] for r in rows}


def test_readme_counts_the_optimizers_with_a_reference_row():
    stated = re.search(r"(\d+) optimizers beyond `torch.optim`", README.read_text())
    assert stated is not None
    assert int(stated.group(1)) == len(_reference_classes())


def test_every_registry_name_beyond_torch_has_an_oracle():
    here = Path(__file__).parent
    with_rows = _reference_classes()
    for name, spec in OPTIMIZERS.items():
        if name in TORCH_OPTIMIZERS:
            continue
        cls = spec.cls.__name__
        if cls not in with_rows:
            assert cls in OTHER_ORACLES, f"{name}: {cls} has no oracle test"
            assert cls in (here / OTHER_ORACLES[cls]).read_text()
