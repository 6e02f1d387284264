"""The tutorial's "Your own optimizer" section runs as written: its module file, its Python
snippet and its ``gdlab`` commands (each must exit 0), in a scratch directory."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from gdlab import cli

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"
SECTION = "## 10. Your own optimizer, with no glue"

pytest.importorskip("matplotlib")


def _blocks() -> list[tuple[str, str]]:
    text = TUTORIAL.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    return re.findall(r"```(\w*)\n(.*?)```", text[start:end], flags=re.S)


def test_the_section_runs(tmp_path, monkeypatch, capsys):
    blocks = _blocks()
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    modules = [code for lang, code in blocks if lang == "python" and code.startswith("# my_optim")]
    assert len(modules) == 1
    (tmp_path / "my_optim.py").write_text(modules[0], encoding="utf-8")
    snippets = [code for lang, code in blocks if lang == "python" and code not in modules]
    assert snippets
    for code in snippets:
        namespace: dict = {}
        exec(compile(code, "tutorial", "exec"), namespace)  # noqa: S102 - the docs' own code
    assert namespace["opt"].state_dict()["param_groups"][0]["momentum"] == 0.8
    commands = [line for lang, code in blocks if lang == "bash" for line in code.splitlines()]
    assert len(commands) == 3
    for line in commands:
        argv = shlex.split(line)
        assert argv[0] == "gdlab"
        out = ["--out", str(tmp_path / f"run{len(list(tmp_path.iterdir()))}")]
        argv = argv[1:] + ([] if argv[1] == "check-optimizer" else out)
        assert cli.main(argv) == 0, line
    printed = [code for lang, code in blocks if lang == ""]
    assert printed and printed[0].strip() in capsys.readouterr().out  # the table shown is true
