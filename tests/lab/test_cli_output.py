"""What the gdlab command shows and writes for a person (issue 12, "Output a person reads, and
runs a person can browse"): defaults in --help, the commented default config, tables that fit
a terminal, metrics written as a run goes, TensorBoard runs, run directories never mixed."""

from __future__ import annotations

import argparse
import base64
import csv
import json
import sys
import types

import pytest

from gdlab import cli
from gdlab.lab import training
from gdlab.lab.compare.config import CompareConfig
from gdlab.lab.compare.trials import evaluations_per_step, expected_cost, trial_cost
from gdlab.lab.config import loads_toml
from gdlab.lab.output.tables import WIDTH, format_table
from gdlab.lab.train_config import COMMENTS, TRAIN_DEFAULTS, TrainConfig, resolve_train_config
from tensorboard_events import read_scalars

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")

TINY_TRAIN = ["train", "--set", 'data.name="iris"', "--set", "model.hidden=[8]",
              "--set", "train.epochs=3", "--set", "data.batch_size=30"]  # fmt: skip
TINY_COMPARE = ["compare", "--dataset", "iris", "--optimizers", "sgd", "adam", "--batch-modes",
                "--hidden", "8", "--epochs", "2", "--trials", "2", "--tune-epochs", "1",
                "--seeds", "1", "--batch-size", "16"]  # fmt: skip


# ------------------------------------------------------------------ --help
def _actions_with_a_default():
    parser = cli.build_parser()
    for name, sub in parser.subcommands.items():
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction | argparse._VersionAction):
                continue
            d = action.default
            if d is None or d is False or d == [] or d is argparse.SUPPRESS:
                continue
            yield name, action


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_help_shows_every_default(command, capsys):
    """Every option with a default says it in --help, with its value."""
    assert cli.main([command, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    actions = [a for name, a in _actions_with_a_default() if name == command]
    for action in actions:
        assert "default" in action.help, (command, action.option_strings)
        if action.nargs in ("*", "+") and isinstance(action.default, list):
            shown = " ".join(map(str, action.default))
        else:
            shown = str(action.default)
        if "%(default)s" in action.help or f"(default: {shown})" in action.help:
            assert f"default: {shown}" in text, (command, action.option_strings)


def test_help_defaults_are_the_config_defaults(capsys):
    assert cli.main(["compare", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    cfg = CompareConfig()
    assert f"--epochs EPOCHS epochs per final run (default: {cfg.epochs})" in text
    assert f"(default: {' '.join(cfg.optimizers)})" in text


# ------------------------------------------------------------------ --print-config
def test_print_config_is_complete_commented_and_loads_back_to_the_defaults(capsys):
    assert cli.main(["train", "--print-config"]) == 0
    text = capsys.readouterr().out
    assert resolve_train_config_from_text(text) == TrainConfig()
    assert loads_toml(text) == TRAIN_DEFAULTS
    lines = text.splitlines()
    keys = [line.split(" = ")[0] for line in lines if " = " in line and not line.startswith("#")]
    flat = [k for k, v in TRAIN_DEFAULTS.items() if not isinstance(v, dict)]
    flat += [sub for v in TRAIN_DEFAULTS.values() if isinstance(v, dict) for sub in v]
    assert sorted(keys) == sorted(flat)
    for i, line in enumerate(lines):  # every key and every section has a comment above it
        if (" = " in line or line.startswith("[")) and not line.startswith("#"):
            assert lines[i - 1].startswith("# "), line
    assert set(COMMENTS) == set(TRAIN_DEFAULTS) | {
        f"{k}.{sub}" for k, v in TRAIN_DEFAULTS.items() if isinstance(v, dict) for sub in v
    }


def resolve_train_config_from_text(text, tmp=None):
    import pathlib
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = pathlib.Path(d) / "run.toml"
        path.write_text(text)
        return resolve_train_config(path)


def test_print_config_is_printed_when_quiet(capsys):
    """The config is the product (``gdlab train --print-config -q > run.toml``)."""
    assert cli.main(["train", "--print-config"]) == 0
    loud = capsys.readouterr().out
    assert cli.main(["train", "--print-config", "-q"]) == 0
    assert capsys.readouterr().out == loud


def test_print_config_writes_no_run_directory(tmp_path, capsys):
    assert cli.main(["train", "--print-config", "--out", str(tmp_path / "x")]) == 0
    assert not (tmp_path / "x").exists()


# ------------------------------------------------------------------ tables
@pytest.mark.parametrize("n_cols", [1, 3, 11, 30])
def test_tables_fit_in_100_columns_and_keep_every_column(n_cols):
    rows = [{"variant": f"optimizer-{i}", **{f"column {j}": 1.23456e-5 * (i + j)
             for j in range(n_cols)}} for i in range(3)]  # fmt: skip
    text = format_table(rows)
    assert max(map(len, text.splitlines())) <= WIDTH
    for j in range(n_cols):
        assert f"column {j}" in text
    blocks = text.split("\n\n")
    assert all(b.startswith("variant") for b in blocks)  # the key column repeats
    for i in range(3):  # each row's key starts one line per block
        assert sum(line.startswith(f"optimizer-{i}") for line in text.splitlines()) == len(blocks)


@pytest.mark.parametrize("n_words", [5, 40, 120])
def test_long_text_cells_wrap_inside_their_column(n_words):
    words = [f"word{i}" for i in range(n_words)]
    rows = [{"check": " ".join(words), "measured": "max |Δθ| = 0.0e+00", "passed": True},
            {"check": "short", "measured": " ".join(words[::-1]), "passed": False}]  # fmt: skip
    text = format_table(rows)
    lines = text.splitlines()
    assert max(map(len, lines)) <= WIDTH
    assert text.split().count("word0") == 2 and all(w in text.split() for w in words)
    assert "…" not in text and len(text.split("\n\n")) == 1  # wrapped, not cut or split
    yes = [line for line in lines if line.endswith("yes")]
    assert len(yes) == 1 and yes[0].startswith("word0")  # the row's first line holds the flag


# ------------------------------------------------------------------ train, as it goes
def test_train_writes_its_metrics_every_epoch(tmp_path, monkeypatch, capsys):
    """Read metrics.csv and steps.csv mid-run, from a callback at each epoch's end."""
    seen = []
    real = training._LiveFiles.on_epoch_end

    def look(self, epoch, logs=None):
        real(self, epoch, logs)
        with open(tmp_path / "run" / "metrics.csv") as f:
            metrics = list(csv.DictReader(f))
        with open(tmp_path / "run" / "steps.csv") as f:
            steps = list(csv.DictReader(f))
        seen.append((len(metrics), len(steps), metrics[-1]["val_loss"]))

    monkeypatch.setattr(training._LiveFiles, "on_epoch_end", look)
    assert cli.main([*TINY_TRAIN, "--out", str(tmp_path / "run")]) == 0
    final = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    assert [(m, s) for m, s, _ in seen] == [(1, 3), (2, 6), (3, 9)]  # 90 samples / 30 a batch
    assert [v for _, _, v in seen] == [row["val_loss"] for row in final]


def test_train_prints_one_line_per_epoch(tmp_path, capsys):
    assert cli.main([*TINY_TRAIN, "--out", str(tmp_path / "run")]) == 0
    out, err = capsys.readouterr()
    metrics = list(csv.DictReader(open(tmp_path / "run" / "metrics.csv")))
    lines = [line for line in err.splitlines() if line.startswith("epoch ")]
    assert len(lines) == 3
    for line, row in zip(lines, metrics, strict=True):
        assert line.startswith(f"epoch {row['epoch']}/3 - ")
        assert f"val_loss {float(row['val_loss']):.4g}" in line
        assert f"val_accuracy {float(row['val_accuracy']):.4g}" in line
    assert max(map(len, out.splitlines())) <= WIDTH


def test_train_json_and_quiet_print_no_epoch_lines(tmp_path, capsys):
    assert cli.main([*TINY_TRAIN, "--out", str(tmp_path / "a"), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    json.loads(out)
    assert "epoch 1/3" not in err
    assert cli.main([*TINY_TRAIN, "--out", str(tmp_path / "b"), "--quiet"]) == 0
    assert "epoch 1/3" not in capsys.readouterr().err


def test_train_report_shows_figures_before_the_table(tmp_path, capsys):
    assert cli.main([*TINY_TRAIN, "--out", str(tmp_path / "run")]) == 0
    html = (tmp_path / "run" / "report.html").read_text()
    assert html.index("<img") < html.index("<table")


# ------------------------------------------------------------------ TensorBoard
def _event_runs(directory):
    return sorted(p.parent.name for p in directory.rglob("events.out.tfevents.*"))


def test_train_tensorboard_one_run_per_train(tmp_path, capsys):
    pytest.importorskip("tensorboardX")
    for name in ("a", "b"):
        assert cli.main([*TINY_TRAIN, "--out", str(tmp_path / name),
                         "--tensorboard", str(tmp_path / "tb")]) == 0  # fmt: skip
    assert _event_runs(tmp_path / "tb") == ["a", "b"]
    metrics = list(csv.DictReader(open(tmp_path / "a" / "metrics.csv")))
    scalars = read_scalars(tmp_path / "tb" / "a")
    got = [v for _, v in scalars["epoch/val_accuracy"]]
    assert got == pytest.approx([float(r["val_accuracy"]) for r in metrics], rel=1e-6)


def test_compare_tensorboard_one_run_per_trial_and_a_table_that_fits(tmp_path, capsys):
    pytest.importorskip("tensorboardX")
    argv = [*TINY_COMPARE, "--out", str(tmp_path / "c"), "--tensorboard", str(tmp_path / "tb")]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert max(map(len, out.splitlines())) <= WIDTH
    trials = sorted(p.stem for p in (tmp_path / "c" / "trials").glob("*.json"))
    runs = _event_runs(tmp_path / "tb")
    assert len(runs) == len(trials) == 2 * 2 + 2  # 2 lr trials + 1 final run per optimizer
    assert all(r.startswith("iris-") for r in runs)


# ------------------------------------------------------------------ compare's bar
class _Bar:
    def __init__(self, total=None, **kwargs):
        self.total, self.n, self.amounts = total, 0, []
        _Bar.made.append(self)

    def set_description(self, *args, **kwargs):
        pass

    def update(self, n=1):
        self.n += n
        self.amounts.append(n)

    def close(self):
        pass


def test_compare_bar_advances_by_each_trials_expected_cost(tmp_path, monkeypatch, capsys):
    from gdlab.cli.session import Session

    _Bar.made = []
    monkeypatch.setitem(sys.modules, "tqdm.auto", types.SimpleNamespace(tqdm=_Bar))
    monkeypatch.setattr(Session, "on_terminal", lambda self: True)
    argv = [*TINY_COMPARE[:6], "--batch-modes", "bgd", "sgd", *TINY_COMPARE[7:]]
    assert cli.main([*argv, "--out", str(tmp_path / "c")]) == 0
    (bar,) = _Bar.made
    assert bar.n == pytest.approx(bar.total)  # ends at 100 %
    cfg = CompareConfig(datasets=["iris"], batch_size=16)
    n = 90  # iris' training split
    assert trial_cost(cfg, "iris", "sgd", "sgd", 1) == n * 8.0 + n  # batch 1: 90 steps
    assert trial_cost(cfg, "iris", "sgd", "bgd", 1) == 1 * 8.0 + n
    assert trial_cost(cfg, "iris", "adam", "mbgd", 2) == 2 * (6 * 8.0 + n)  # 6 batches of 16
    # batch-1 trials weigh the most: the largest steps of the bar are theirs
    assert max(bar.amounts) == trial_cost(cfg, "iris", "sgd", "sgd", 2)


def test_expected_cost_sums_the_trials():
    cfg = CompareConfig(datasets=["iris"], optimizers=["sgd", "adam"], batch_modes=["bgd"],
                        trials=3, seeds=2, epochs=4, tune_epochs=1, batch_size=16)  # fmt: skip
    mb, bgd = (trial_cost(cfg, "iris", "sgd", m, 1) for m in ("mbgd", "bgd"))
    mb4, bgd4 = (trial_cost(cfg, "iris", "adam", m, 4) for m in ("mbgd", "bgd"))
    assert expected_cost(cfg) == pytest.approx(2 * (3 * mb + 2 * mb4) + 3 * bgd + 2 * bgd4)
    fixed = CompareConfig(**{**cfg.__dict__, "lr": 0.1})
    assert expected_cost(fixed) == pytest.approx(2 * 2 * mb4 + 2 * bgd4)


@pytest.mark.parametrize("optimizer, evaluations", [("sgd", 1), ("adam", 1), ("lbfgs", 25)])
def test_a_closure_optimizer_weighs_its_evaluations(optimizer, evaluations):
    """L-BFGS calls its closure up to max_eval = max_iter·5/4 = 25 times a step (torch)."""
    assert evaluations_per_step(optimizer) == evaluations
    cfg = CompareConfig(datasets=["iris"], batch_size=16)
    assert trial_cost(cfg, "iris", optimizer, "bgd", 3) == 3 * evaluations * (8.0 + 90)


# ------------------------------------------------------------------ run directories
@pytest.mark.parametrize(
    "first, second",
    [(["schedule", "cosine"], ["lr-find"]),
     (["lr-find"], [*TINY_TRAIN]),
     (["reproduce", "d2l_momentum"], ["reproduce", "d2l_gd_1d"])],
)  # fmt: skip
def test_an_out_holding_another_commands_run_is_refused(first, second, tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main([*first, "--out", str(out)]) == 0
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    capsys.readouterr()
    assert cli.main([*second, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"--out {out} holds a run of '" in err and "give another --out" in err
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before  # untouched


def test_the_same_command_may_write_its_run_again(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["schedule", "cosine", "--out", str(out)]) == 0
    assert cli.main(["schedule", "step", "--param", "step_size=3", "--out", str(out)]) == 0


def test_surface_report_embeds_the_gif(tmp_path, capsys):
    argv = ["surface", "--function", "ravine", "--optimizers", "sgd", "--steps", "10",
            "--tune", "2", "--out", str(tmp_path)]  # fmt: skip
    assert cli.main(argv) == 0
    gif = (tmp_path / "paths.gif").read_bytes()
    page = (tmp_path / "report.html").read_text()
    assert f"data:image/gif;base64,{base64.b64encode(gif).decode()}" in page
