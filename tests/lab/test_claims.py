"""The articles' claims (``gdlab reproduce NAME`` for the experiments without published
numbers): each one, run at its quick size, writes its table, checks, pictures and report, and
every check passes; a failed check makes the exit code 1."""

from __future__ import annotations

import json

import pytest

from gdlab.lab.articles import EXPERIMENTS, write_experiment
from gdlab.lab.articles.claims import Check, ClaimResult, write_claim
from gdlab.lab.output.rundir import RunDir

CLAIMS = sorted(n for n, e in EXPERIMENTS.items() if e.run is None)


def test_every_article_idea_of_issue_11_has_an_experiment():
    ideas = {"overfitting", "vanishing_gradients", "why_activations", "momentum_escape",
             "lr_decay", "batch_cost", "article_adam", "article_batch_modes"}  # fmt: skip
    assert ideas <= set(CLAIMS)


@pytest.mark.parametrize("name", CLAIMS)
def test_claim_writes_its_files_and_every_check_passes(name, tmp_path):
    out = write_experiment(name, RunDir(tmp_path), seed=0)
    checks = json.loads((tmp_path / "checks.json").read_text())
    failed = [c for c in checks["checks"] if not c["passed"]]
    assert checks["checks"] and not failed, failed
    assert checks["passed"] is True and "exit_code" not in out
    assert "all checks passed" in out["text"]
    written = {p.name for p in tmp_path.iterdir()}
    assert {"config.toml", "metrics.csv", "checks.json", "report.html"} <= written
    assert any(n.endswith(".png") for n in written)
    assert len((tmp_path / "metrics.csv").read_text().splitlines()) >= 2


def test_a_failed_check_is_exit_code_1_and_shown(tmp_path):
    result = ClaimResult(
        [{"x": 1.0}], [Check("x is small", False, "1.0 < 0.5"), Check("x > 0", True, "1.0 > 0")], {}
    )
    out = write_claim("demo", "a demo", "nowhere", result, RunDir(tmp_path), seed=0)
    assert out["exit_code"] == 1 and out["matches"] is False
    checks = json.loads((tmp_path / "checks.json").read_text())
    assert checks["passed"] is False and [c["passed"] for c in checks["checks"]] == [False, True]
