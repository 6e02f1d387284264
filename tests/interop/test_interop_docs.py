"""The Python examples in docs/interop.md run (the DDP recipe is tested in test_interop_ddp)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("torch")

DOC = Path(__file__).resolve().parents[2] / "docs" / "interop.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
RUNNABLE = [b for b in BLOCKS if not b.startswith("# ddp_recipe.py")]


def test_the_doc_has_examples_and_the_ddp_recipe():
    assert len(RUNNABLE) >= 3 and len(BLOCKS) == len(RUNNABLE) + 1


@pytest.mark.parametrize("code", RUNNABLE, ids=[f"block{i}" for i in range(len(RUNNABLE))])
def test_doc_example_runs(code):
    exec(compile(code, str(DOC), "exec"), {"__name__": "doc_example"})


@pytest.mark.parametrize("name", ["gdlab.interop._torch_optim", "gdlab.interop._torch_state"])
def test_docstring_examples(name):
    import doctest
    import importlib

    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0, f"{name}: {result}"
