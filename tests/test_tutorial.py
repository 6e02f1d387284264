"""Every Python snippet in docs/tutorial.md runs as a script, and prints the numbers the text
states (the ```text block right after it, when there is one)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def _snippets() -> list[tuple[str, str | None]]:
    """(code, expected output or None) for every ```python block, in order; a block that is a
    file the text goes on to import (its first line ``# name.py``) is in ``FILES`` instead."""
    blocks = re.findall(r"```(\w*)\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    out = []
    for i, (lang, body) in enumerate(blocks):
        if lang == "python" and not re.match(r"# [\w/]+\.py\n", body):
            follows = blocks[i + 1] if i + 1 < len(blocks) else ("", "")
            out.append((body, follows[1] if follows[0] == "text" else None))
    return out


SNIPPETS = _snippets()
#: The files the snippets import (section 10's ``my_optim.py``), written beside each snippet.
FILES = dict(
    re.findall(r"```python\n# ([\w/]+\.py)\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
)


def test_the_tutorial_has_snippets():
    assert len(SNIPPETS) >= 3


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_snippet_runs_and_prints_what_the_text_says(index, tmp_path):
    code, expected = SNIPPETS[index]
    for name, body in FILES.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    script = tmp_path / f"snippet_{index}.py"
    script.write_text(code, encoding="utf-8")
    env = dict(os.environ, MPLBACKEND="Agg")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip(), "a snippet prints what it computes"
    if expected is not None:
        got, want = NUMBER.findall(done.stdout), NUMBER.findall(expected)
        assert len(got) == len(want), (done.stdout, expected)
        # printed to 3-4 significant digits: the same digits, up to the last one
        np.testing.assert_allclose([float(g) for g in got], [float(w) for w in want],
                                   rtol=2e-3, atol=2e-4)  # fmt: skip
        words = re.sub(NUMBER, "#", done.stdout).split()
        assert words == re.sub(NUMBER, "#", expected).split()
