"""``gdlab compare --config run.toml`` and ``--resume DIR``: the flags' typed config from TOML,
and a run interrupted by Ctrl-C finished without rerunning its finished trials."""

from __future__ import annotations

import json

import pytest

from gdlab import cli
from gdlab.lab.compare import trials as compare_trials
from gdlab.lab.compare.config import CompareConfig
from gdlab.lab.config import ConfigError, fields_from_toml, loads_toml

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")

TOML = """\
datasets = ["iris"]
optimizers = ["sgd", "adam"]
batch_modes = []
hidden = [8]
epochs = 2
trials = 2
tune_epochs = 1
seeds = 2
batch_size = 16
"""
FLAGS = ["--dataset", "iris", "--optimizers", "sgd", "adam", "--batch-modes", "--hidden", "8",
         "--epochs", "2", "--trials", "2", "--tune-epochs", "1", "--seeds", "2",
         "--batch-size", "16"]  # fmt: skip


def _config(argv):
    return cli.parse(cli.build_parser(), ["compare", *argv]).config


def test_a_toml_file_is_the_same_config_as_the_flags(tmp_path):
    (tmp_path / "run.toml").write_text(TOML)
    from_file = _config(["--config", str(tmp_path / "run.toml")])
    assert from_file == _config(FLAGS)
    # a flag given on the command line wins over the file
    assert _config(["--config", str(tmp_path / "run.toml"), "--epochs", "5"]).epochs == 5


def test_a_run_directory_config_round_trips(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["compare", *FLAGS, "--out", str(out), "-q"]) == 0
    assert _config(["--config", str(out / "config.toml")]) == _config(FLAGS)


@pytest.mark.parametrize(
    "toml, message",
    [
        ("momentom = 0.9", r"unknown setting 'momentom'"),
        ("epocs = 3", r"unknown setting 'epocs'; did you mean 'epochs'\?"),
        ("epochs = 0", r"epochs: must be a positive integer, got '0'"),
        ("epochs = 2.5", r"epochs: expected int, got '2.5'"),
        ("optimizers = 'sgd'", r"optimizers must be a list"),
        ("optimizers = ['sgdd']", r"invalid choice: 'sgdd'; did you mean 'sgd'\?"),
        ("activation = 3", r"activation: invalid choice 3"),
        ("target = 1.5", r"target: must be between 0 and 1"),
    ],
)  # fmt: skip
def test_bad_settings_in_the_file_name_the_key(toml, message):
    with pytest.raises(ConfigError, match=message):
        fields_from_toml(CompareConfig, loads_toml(toml), "run.toml")


def test_bad_files_are_usage_errors(tmp_path, capsys):
    assert cli.main(["compare", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "missing.toml: no such file" in capsys.readouterr().err
    (tmp_path / "bad.toml").write_text("epocs = 3\n")
    assert cli.main(["compare", "--config", str(tmp_path / "bad.toml")]) == 2
    assert "did you mean 'epochs'?" in capsys.readouterr().err
    assert cli.main(["compare", "--resume", str(tmp_path / "nowhere")]) == 2


def test_resume_after_ctrl_c_reruns_only_the_unfinished_trials(tmp_path, capsys, monkeypatch):
    real, calls = compare_trials.train_run, []

    def counted(*args, **kwargs):
        calls.append(1)
        if interrupt_at and len(calls) == interrupt_at:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(compare_trials, "train_run", counted)
    out = tmp_path / "run"
    interrupt_at = 3
    assert cli.main(["compare", *FLAGS, "--out", str(out), "-q"]) == 130
    assert len(list((out / "trials").glob("*.json"))) == 2
    calls.clear()
    interrupt_at = 0
    assert cli.main(["compare", "--resume", str(out), "-q"]) == 0
    total = 2 * (2 + 2)  # 2 optimizers x (2 tuning trials + 2 seeds)
    assert len(calls) == total - 2  # the two finished trials were reused
    resumed = json.loads((out / "summary.json").read_text())
    assert resumed["interrupted"] is False
    # the same numbers as an uninterrupted run
    fresh = tmp_path / "fresh"
    assert cli.main(["compare", *FLAGS, "--out", str(fresh), "-q"]) == 0
    assert (out / "metrics.csv").read_bytes() == (fresh / "metrics.csv").read_bytes()
