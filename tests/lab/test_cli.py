"""The gdlab command end to end: exit codes, files written, JSON output, config overrides."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from gdlab import cli
from gdlab.lab.compare import trials as compare_trials
from gdlab.lab.config import (
    ConfigError,
    apply_overrides,
    dumps_toml,
    loads_toml,
    parse_override,
)
from gdlab.lab.output.rundir import OWNER_FILE
from gdlab.lab.train_config import TRAIN_DEFAULTS

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")

SUBCOMMANDS = ["compare", "surface", "train", "lr-find", "schedule", "reproduce", "datasets",
               "gradcheck", "check-optimizer", "bench", "suite"]  # fmt: skip
TINY_COMPARE = ["compare", "--dataset", "iris", "--optimizers", "sgd", "adam", "--batch-modes",
                "bgd", "--hidden", "8", "--epochs", "2", "--trials", "2", "--tune-epochs", "1",
                "--seeds", "2", "--batch-size", "16"]  # fmt: skip
TINIER = [*TINY_COMPARE[:6], "--batch-modes", *TINY_COMPARE[8:]]  # no batch modes: quicker


def run_json(capsys, argv):
    code = cli.main([*argv, "--format", "json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


# --------------------------------------------------------------------------- config
@pytest.mark.parametrize(
    "item, path, value",
    [("optimizer.lr=1e-3", ["optimizer", "lr"], 1e-3), ("train.epochs=5", ["train", "epochs"], 5),
     ("data.standardize=false", ["data", "standardize"], False),
     ("model.hidden=[64, 32]", ["model", "hidden"], [64, 32]),
     ("optimizer.name=adam", ["optimizer", "name"], "adam"),
     ("optimizer.betas=[0.9, 0.99]", ["optimizer", "betas"], [0.9, 0.99]),
     ("schedule.name = cosine", ["schedule", "name"], "cosine")],
)  # fmt: skip
def test_parse_override_types(item, path, value):
    got_path, got = parse_override(item)
    assert got_path == path and got == value and type(got) is type(value)


@pytest.mark.parametrize("item", ["lr", "=3", "a..b=1", " =1"])
def test_parse_override_rejects_malformed(item):
    with pytest.raises(ConfigError, match="key=value"):
        parse_override(item)


def test_overrides_check_keys_but_optimizer_is_open():
    cfg = apply_overrides(TRAIN_DEFAULTS, ["optimizer.momentum=0.9", "train.epochs=3"])
    assert cfg["optimizer"]["momentum"] == 0.9 and cfg["train"]["epochs"] == 3
    assert TRAIN_DEFAULTS["train"]["epochs"] == 10  # the defaults are not mutated
    with pytest.raises(ConfigError, match=r"unknown setting 'train\.epoch'.*train\.epochs"):
        apply_overrides(TRAIN_DEFAULTS, ["train.epoch=3"])


def test_toml_round_trip():
    cfg = apply_overrides(TRAIN_DEFAULTS, ["optimizer.betas=[0.9, 0.99]", 'data.name="a \\"b\\""'])
    cfg["weird key"] = {"x": float("inf")}
    assert loads_toml(dumps_toml(cfg)) == cfg


# --------------------------------------------------------------------------- usage errors
@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_help_for_every_subcommand(command, capsys):
    assert cli.main([command, "--help"]) == 0
    assert f"usage: gdlab {command}" in capsys.readouterr().out


def test_version(capsys):
    assert cli.main(["--version"]) == 0
    assert re.fullmatch(r"gdlab \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)


@pytest.mark.parametrize(
    "argv, needle",
    [(["compare", "--optimizers", "adamz"], "invalid choice: 'adamz'; did you mean 'adam'?"),
     (["compare", "--dataset", "nope"], "argument --dataset: unknown data set 'nope'"),
     (["compare", "--lr", "-1"], "argument --lr: must be a positive number, got '-1'"),
     (["compare", "--epochs", "abc"], "argument --epochs: expected int, got 'abc'"),
     (["compare", "--epochs", "0"], "argument --epochs: must be a positive integer"),
     (["compare", "--target", "1.5"], "argument --target: must be between 0 and 1"),
     (["surface", "--function", "nope"], "argument --function: invalid choice"),
     (["lr-find", "--start-lr", "nan"], "argument --start-lr: must be finite"),
     (["lr-find", "--start-lr", "1", "--end-lr", "0.1"], "--start-lr (1) must be smaller"),
     (["schedule", "bogus"], "invalid choice: 'bogus'"),
     (["reproduce", "nope"], "invalid choice: 'nope'"), ([], "required: COMMAND"),
     (["compare", "--seed", "-3"], "argument --seed: must be a non-negative integer"),
     (["datasets", "--smoke"], "unrecognized arguments: --smoke")],
)  # fmt: skip
def test_usage_errors_exit_2(argv, needle, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err.replace("\n", " ").replace("  ", " ") or needle in err


def test_unknown_optimizer_lists_the_valid_ones(capsys):
    assert cli.main(["compare", "--optimizers", "adamz"]) == 2
    err = capsys.readouterr().err
    for name in ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]:
        assert f"'{name}'" in err


def test_output_dir_not_writable_exit_1(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = blocker / "run"
    assert cli.main(["schedule", "constant", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert str(out) in err and err.startswith("gdlab schedule: error:")


# --------------------------------------------------------------------------- commands
def test_compare_end_to_end_json(tmp_path, capsys):
    code, data = run_json(capsys, [*TINY_COMPARE, "--out", str(tmp_path / "a")])
    assert code == 0
    assert data["command"] == "compare" and data["run_dir"] == str(tmp_path / "a")
    assert {"metrics.csv", "summary.json", "report.html", "timing.csv"} <= set(data["files"])
    assert [r["variant"] for r in data["results"]] == ["sgd", "adam", "BGD (full batch)"]
    assert os.path.exists(data["report"])
    rows = (tmp_path / "a" / "metrics.csv").read_text().splitlines()
    epochs = [int(r.split(",")[rows[0].split(",").index("epoch")]) for r in rows[1:]]
    assert epochs[:3] == [0, 1, 2]  # every run starts at epoch 0, the untrained model


def test_compare_same_seed_same_bytes(tmp_path, capsys):
    # The second run is another process with another hash seed: no set or dict order leaks.
    assert cli.main([*TINIER, "--out", str(tmp_path / "a"), "--seed", "3", "-q"]) == 0
    env = dict(os.environ, PYTHONHASHSEED="123")
    cmd = [sys.executable, "-m", "gdlab", *TINIER, "--out", str(tmp_path / "b"),
           "--seed", "3", "-q"]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert capsys.readouterr().out.strip() == str(tmp_path / "a" / "report.html")
    assert proc.stdout.strip() == str(tmp_path / "b" / "report.html")
    for name in ["metrics.csv", "metrics.jsonl", "summary.json", "tuning.csv", "config.toml"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert b"seed = 3" in (tmp_path / "a" / "config.toml").read_bytes()


def test_ctrl_c_exits_130_with_partial_results(tmp_path, capsys, monkeypatch):
    real, calls = compare_trials.train_run, []

    def interrupt_after_two(*args, **kwargs):
        calls.append(1)
        if len(calls) > 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(compare_trials, "train_run", interrupt_after_two)
    out = tmp_path / "run"
    assert cli.main([*TINIER, "--out", str(out)]) == 130
    assert f"interrupted; partial results in {out}" in capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True
    assert (out / "report.html").exists() and (out / "metrics.csv").exists()
    temps = [p for p in out.iterdir() if p.name.startswith(".") and p.name != OWNER_FILE]
    assert not temps  # no temp files (the owner file names the command whose run this is)
    assert len(list((out / "trials").glob("*.json"))) == 2  # the finished trials are kept


def test_ctrl_c_anywhere_exits_130(monkeypatch, capsys):
    from gdlab.cli import datasets

    def boom(config, session):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.COMMANDS, "datasets", datasets.COMMAND._replace(run=boom))
    assert cli.main(["datasets"]) == 130


def test_missing_download_says_how_to_get_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GDLAB_DATA", str(tmp_path / "empty"))
    assert cli.main(["lr-find", "--dataset", "mnist", "--out", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert "Dataset not found" in err and "datasets.load('mnist', download=True)" in err
    assert not (tmp_path / "x").exists()  # failed before its first file: no empty run dir
    (tmp_path / "mine").mkdir()  # a directory the user made is kept, even empty
    assert cli.main(["lr-find", "--dataset", "mnist", "--out", str(tmp_path / "mine")]) == 1
    assert (tmp_path / "mine").is_dir()


def test_datasets_json(capsys):
    code, data = run_json(capsys, ["datasets"])
    names = [d["name"] for d in data["datasets"]]
    assert code == 0 and "digits" in names and "iris" in names


def test_gradcheck_json(capsys):
    code, data = run_json(capsys, ["gradcheck", "--model", "3-4-1", "--activation", "tanh"])
    assert code == 0 and data["passed"] is True
    assert [p["parameter"] for p in data["parameters"]] == ["0.weight", "0.bias", "2.weight",
                                                             "2.bias"]  # fmt: skip
    assert max(p["max_abs_error"] for p in data["parameters"]) < 1e-6


def test_gradcheck_bad_model_spec(capsys):
    assert cli.main(["gradcheck", "--model", "3-x"]) == 1
    assert "--model must be layer sizes like 3-4-1" in capsys.readouterr().err


def test_train_resume_and_config_errors(tmp_path, capsys):
    cfg = tmp_path / "run.toml"
    cfg.write_text('[data]\nname = "iris"\nbatch_size = 16\n[model]\nhidden = [8]\n'
                   '[optimizer]\nname = "momentum"\nlr = 0.05\n[train]\nepochs = 2\n')  # fmt: skip
    out = tmp_path / "t"
    code, data = run_json(capsys, ["train", str(cfg), "--out", str(out), "--set",
                                   "train.epochs=1"])  # fmt: skip
    assert code == 0 and data["final"]["epoch"] == 1
    resolved = loads_toml((out / "config.toml").read_text())
    assert resolved["optimizer"] == {"name": "momentum", "lr": 0.05}
    assert (out / "checkpoints").is_dir() and (out / "grad-norms.png").exists()
    assert (out / "activations.png").exists()
    page = (out / "report.html").read_text()
    assert f"gdlab train {cfg}" in page and "On the held-out test split" in page
    code, data = run_json(capsys, ["train", "--resume", str(out), "--set", "train.epochs=2"])
    assert code == 0 and data["final"]["epoch"] == 2 and data["run_dir"] == str(out)
    assert len((out / "metrics.csv").read_text().splitlines()) == 3  # header + 2 epochs
    bad = tmp_path / "bad.toml"
    bad.write_text("[train]\nepochs = = 3\n")
    assert cli.main(["train", str(bad), "--out", str(tmp_path / "x")]) == 2
    assert re.search(r"bad\.toml: invalid TOML: .*line 2", capsys.readouterr().err)
    assert cli.main(["train", "--set", "train.epoch=3", "--out", str(tmp_path / "y")]) == 2
    assert "unknown setting 'train.epoch'" in capsys.readouterr().err


def test_train_schedule_length_defaults_to_epochs(tmp_path, capsys):
    base = ["train", "--set", "data.name=iris", "--set", "model.hidden=[4]", "--set",
            "train.epochs=2"]  # fmt: skip
    code, _ = run_json(capsys, [*base, "--set", "schedule.name=cosine", "--out", str(tmp_path)])
    assert code == 0
    lrs = [line.split(",")[-1] for line in (tmp_path / "metrics.csv").read_text().splitlines()]
    assert lrs == ["lr", "0.1", "0.05"]  # cosine over the 2 epochs: t_max = train.epochs
    assert cli.main([*base, "--set", "schedule.name=step", "--out", str(tmp_path / "s")]) == 2
    assert "missing a required argument: 'step_size'" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()  # failed in setup: no lone config.toml left behind
    (tmp_path / "mine").mkdir()  # a directory the user made is kept, with what train wrote
    assert cli.main([*base, "--set", "schedule.name=step", "--out", str(tmp_path / "mine")]) == 2
    assert (tmp_path / "mine" / "config.toml").is_file()


def test_lr_find_json(tmp_path, capsys):
    code, data = run_json(capsys, ["lr-find", "--dataset", "iris", "--num-iter", "30",
                                   "--hidden", "8", "--out", str(tmp_path)])  # fmt: skip
    assert code == 0 and 0 < data["iterations"] <= 30
    assert data["lr_steepest"] is None or 1e-7 <= data["lr_steepest"] <= 10
    assert {"lr-find.png", "metrics.csv", "summary.json", "report.html"} <= set(data["files"])


def test_schedule(tmp_path, capsys):
    code, data = run_json(capsys, ["schedule", "step", "cosine", "--param", "step_size=10",
                                   "--param", "t_max=30", "--steps", "30",
                                   "--out", str(tmp_path)])  # fmt: skip
    assert code == 0 and data["final_lr"]["cosine"] == pytest.approx(0.0, abs=1e-12)
    assert data["final_lr"]["step"] == pytest.approx(0.1 * 0.1**3)
    lines = (tmp_path / "schedule.csv").read_text().splitlines()
    assert lines[0] == "step,lr_step,lr_cosine" and len(lines) == 32
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["final_lr"] == data["final_lr"] and summary["settings"]["steps"] == 30
    assert cli.main(["schedule", "step", "--out", str(tmp_path / "x")]) == 2  # a usage error
    assert "step_size" in capsys.readouterr().err  # a required argument is named


def test_schedule_length_defaults_to_steps(tmp_path, capsys):
    code, data = run_json(capsys, ["schedule", "cosine", "polynomial", "one_cycle", "--steps",
                                   "20", "--out", str(tmp_path)])  # fmt: skip
    assert code == 0 and data["final_lr"]["cosine"] == pytest.approx(0.0, abs=1e-12)
    assert data["final_lr"]["polynomial"] == pytest.approx(0.0, abs=1e-12)
    assert data["final_lr"]["one_cycle"] == pytest.approx(0.1 / 25 / 1e4)  # its minimum
    assert cli.main(["schedule", "join", "--out", str(tmp_path / "x")]) == 2  # not a choice
    assert "invalid choice: 'join'" in capsys.readouterr().err


def test_surface(tmp_path, capsys):
    code, data = run_json(capsys, ["surface", "--function", "ravine", "--optimizers", "sgd",
                                   "momentum", "--steps", "15", "--tune", "2", "--starts", "2",
                                   "--out", str(tmp_path)])  # fmt: skip
    assert code == 0 and [r["optimizer"] for r in data["results"]] == ["sgd", "momentum"]
    written = {p.name for p in tmp_path.iterdir()}
    assert {
        "paths.png",
        "paths.svg",
        "paths.gif",
        "paths.csv",
        "tuning.csv",
        "spread.png",
    } <= written
    rows = (tmp_path / "paths.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * 16
    assert all(r["lr_at_edge"] for r in data["results"])  # 2 trials: both lrs are ends
    from gdlab.lab import load_trajectories

    paths = load_trajectories(tmp_path / "paths.json")
    assert [t.optimizer for t in paths] == ["sgd", "momentum"] and len(paths[0].points) == 16
    assert [t.lr for t in paths] == [r["lr"] for r in data["results"]]
    with pytest.raises(ValueError, match="paths.csv is not a JSON file written by save_traj"):
        load_trajectories(tmp_path / "paths.csv")


@pytest.mark.parametrize("name", ["article_adam", "d2l_momentum"])
def test_reproduce(name, tmp_path, capsys):
    code, data = run_json(capsys, ["reproduce", name, "--out", str(tmp_path)])
    assert code == 0
    if name == "article_adam":
        assert data["max_abs_diff"] < 1e-9  # gdlab's Adam == the NumPy loop, per sample
        theta = [float(v) for v in data["results"][0]["theta"].strip("()").split(",")]
        np.testing.assert_allclose(theta, [1, 2, 3], atol=1e-3)  # y = x1 + 2 x2 + 3
    else:
        assert data["matches"] is True


def test_train_ctrl_c_writes_partial_results_and_resumes(tmp_path, capsys, monkeypatch):
    from gdlab.train import GradientHealth

    real = GradientHealth.on_before_optimizer_step

    def interrupt(self, step, logs):
        if step == 8:  # in the second epoch, after the first checkpoint
            raise KeyboardInterrupt
        return real(self, step, logs)

    monkeypatch.setattr(GradientHealth, "on_before_optimizer_step", interrupt)
    out = tmp_path / "t"
    argv = ["train", "--out", str(out), "--set", 'data.name="iris"', "--set", "model.hidden=[8]",
            "--set", "data.batch_size=16", "--set", "train.epochs=3"]  # fmt: skip
    assert cli.main(argv) == 130
    assert f"partial results in {out}" in capsys.readouterr().err
    assert json.loads((out / "summary.json").read_text())["interrupted"] is True
    assert len((out / "metrics.csv").read_text().splitlines()) == 2  # header + epoch 1
    monkeypatch.setattr(GradientHealth, "on_before_optimizer_step", real)
    code, data = run_json(capsys, ["train", "--resume", str(out)])
    assert code == 0 and data["final"]["epoch"] == 3 and data["interrupted"] is False


@pytest.mark.filterwarnings("ignore::gdlab.train.GradientWarning")  # expected at lr 1e6
def test_train_divergence_exit_1_with_results(tmp_path, capsys):
    argv = ["train", "--out", str(tmp_path), "--set", 'data.name="iris"', "--set",
            "optimizer.lr=1e6", "--set", "train.epochs=3"]  # fmt: skip
    code, data = run_json(capsys, argv)
    assert code == 1 and "step" in data["diverged"]
    assert json.loads((tmp_path / "summary.json").read_text())["diverged"] == data["diverged"]
    assert (tmp_path / "report.html").exists()


# --------------------------------------------------------------------------- bench
def _fake_checkout(root):
    (root / "benchmarks").mkdir(parents=True)
    (root / "benchmarks" / "__main__.py").write_text("")
    (root / "src" / "gdlab").mkdir(parents=True)
    return root


@pytest.mark.parametrize(
    "where, argv, passed",
    [("inside", ["--smoke", "--only", "digits"], ["--smoke", "--only", "digits"]),
     ("editable", ["--threads", "1", "x"], ["--threads", "1", "x"]),
     ("inside", ["--", "--help"], ["--help"]), ("editable", [], [])],
)  # fmt: skip
def test_bench_runs_the_suite_of_the_checkout(where, argv, passed, tmp_path, monkeypatch):
    import gdlab
    from gdlab.cli import bench

    repo = _fake_checkout(tmp_path / "repo")
    calls = []
    monkeypatch.setattr(bench.subprocess, "call", lambda cmd, cwd: calls.append((cmd, cwd)) or 3)
    monkeypatch.setattr(gdlab, "__file__", str(repo / "src" / "gdlab" / "__init__.py"))
    monkeypatch.chdir(repo / "src" if where == "inside" else tmp_path)
    assert cli.main(["bench", *argv]) == 3  # the suite's exit code
    assert calls == [([sys.executable, "-m", "benchmarks", *passed], repo)]


def test_bench_outside_a_checkout_exits_2(tmp_path, monkeypatch, capsys):
    import gdlab

    installed = tmp_path / "site-packages" / "gdlab"
    installed.mkdir(parents=True)
    monkeypatch.setattr(gdlab, "__file__", str(installed / "__init__.py"))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["bench", "--smoke"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == (
        "gdlab bench runs the benchmark suite from a source checkout "
        "(benchmarks/ is not installed with the package)\n"
    )


def test_bench_smoke_runs_for_real(capfd):
    from gdlab.cli.bench import find_checkout

    if find_checkout() is None:
        pytest.skip("not in a source checkout")
    assert cli.main(["bench", "--smoke", "--only", "engine_overhead", "--threads", "1"]) == 0
    assert "engine overhead" in capfd.readouterr().out


# --------------------------------------------------------------------------- typed configs
REQUIRED = {"reproduce": ["d2l_gd_2d"], "schedule": ["constant"], "check-optimizer": ["sgd"]}


@pytest.mark.parametrize("name", [n for n, c in cli.COMMANDS.items() if c.config is not None])
def test_parser_defaults_are_the_config_defaults(name):
    """Each option is spelled once, on its config field: the parser's defaults are the
    dataclass's and every field with a spelling is an argument."""
    command = cli.COMMANDS[name]
    inv = cli.parse(cli.build_parser(), [name, *REQUIRED.get(name, [])])
    assert inv.config == command.config()


def test_parsed_options_reach_the_config_and_config_toml(tmp_path):
    argv = [*TINIER, "--epochs", "1", "--target", "0.5", "--out", str(tmp_path), "-q"]
    inv = cli.parse(cli.build_parser(), argv)
    assert (inv.config.epochs, inv.config.target, inv.config.datasets) == (1, 0.5, ["iris"])
    assert inv.output.out == str(tmp_path) and inv.output.quiet
    assert cli.main(argv) == 0
    saved = loads_toml((tmp_path / "config.toml").read_text())
    want = {k: v for k, v in inv.config.settings().items() if v is not None}
    assert saved == want


# --------------------------------------------------------------------------- issue 12: bugs
class _FakeBar:
    """Stands in for tqdm: records when bars are opened and closed."""

    events: list[str] = []

    def __init__(self, *args, **kwargs):
        self.n = kwargs.get("initial", 0)
        _FakeBar.events.append("open")

    def set_description(self, *args, **kwargs):
        pass

    def set_postfix(self, *args, **kwargs):
        pass

    def update(self, n=1):
        self.n += n

    def close(self):
        _FakeBar.events.append("close")


@pytest.fixture
def fake_terminal(monkeypatch):
    import types

    from gdlab.cli.session import Session

    _FakeBar.events = []
    monkeypatch.setitem(sys.modules, "tqdm.auto", types.SimpleNamespace(tqdm=_FakeBar))
    monkeypatch.setattr(Session, "on_terminal", lambda self: True)
    return _FakeBar.events


def test_compare_bar_is_closed_before_the_table(tmp_path, capsys, fake_terminal):
    """Issue 12, bug 1: the table started on the line of a stale bar."""
    assert cli.main([*TINIER, "--lr", "0.05", "--out", str(tmp_path / "a")]) == 0
    assert fake_terminal == ["open", "close"]


def test_compare_bar_is_closed_on_ctrl_c(tmp_path, capsys, monkeypatch, fake_terminal):
    from gdlab.lab.compare import trials

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(trials, "train_run", interrupt)
    assert cli.main([*TINIER, "--out", str(tmp_path / "a")]) == 130
    assert fake_terminal == ["open", "close"]


def test_train_bar_is_closed_on_ctrl_c(tmp_path, capsys, monkeypatch, fake_terminal):
    from gdlab.train import GradientHealth

    def interrupt(self, step, logs):
        raise KeyboardInterrupt

    monkeypatch.setattr(GradientHealth, "on_before_optimizer_step", interrupt)
    argv = ["train", "--out", str(tmp_path / "t"), "--set", 'data.name="iris"', "--set",
            "model.hidden=[8]", "--set", "train.epochs=2"]  # fmt: skip
    assert cli.main(argv) == 130
    assert fake_terminal == ["open", "close"]


@pytest.mark.parametrize(
    "argv, message",
    [(["train", "--config", "run.toml"], "usage: gdlab train"),  # the subcommand's usage
     (["compare", "--optimizers", "--batch-modes"], "nothing to compare"),
     (["schedule", "step"], "missing a required argument: 'step_size'"),
     (["schedule", "cosine", "--param", "t_max=abc"], "--param t_max must be a number, got 'abc'"),
     (["schedule", "step", "--param", "step_size=3", "--param", "gama=0.5"],
      "takes --param gama; did you mean 'gamma'?"),
     (["train", "--set", "optimizer.lr=abc"],
      "invalid setting optimizer.lr = 'abc': expected a finite number >= 0"),
     (["train", "--set", "train.epochs=2.5"],
      "invalid setting train.epochs = 2.5: expected a positive integer"),
     (["train", "--set", "optimizer.momentom=0.9"],
      "optimizer.momentom: SGD takes no argument 'momentom'; did you mean 'momentum'?"),
     (["train", "--set", "train.epoch=3"], "did you mean 'train.epochs'?")],
)  # fmt: skip
def test_usage_errors_exit_2_and_teach(argv, message, tmp_path, capsys):
    """Issue 12: usage errors exit 2 (not 1), name the key and suggest the nearest one."""
    assert cli.main([*argv, "--out", str(tmp_path / "x")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_misspelled_toml_key_names_the_section(tmp_path, capsys):
    cfg = tmp_path / "run.toml"
    cfg.write_text('[data]\nname = "iris"\n[optimizer]\nname = "sgd"\nmomentom = 0.9\n')
    assert cli.main(["train", str(cfg), "--out", str(tmp_path / "x")]) == 2
    assert "optimizer.momentom" in capsys.readouterr().err


def test_schedule_help_example_is_a_real_argument(capsys):
    assert cli.main(["schedule", "--help"]) == 0
    out = capsys.readouterr().out
    assert "decay_rate" not in out and "--param gamma=0.5" in out


def test_train_lr_zero_with_a_schedule(tmp_path, capsys):
    """Issue 12: lr 0 and a schedule divided by zero; a zero lr is a schedule of zeros."""
    argv = ["train", "--set", 'data.name="iris"', "--set", "model.hidden=[4]", "--set",
            "train.epochs=2", "--set", "optimizer.lr=0", "--set", "schedule.name=cosine",
            "--out", str(tmp_path)]  # fmt: skip
    code, data = run_json(capsys, argv)
    assert code == 0 and data["final"]["lr"] == 0.0


def test_an_optimizer_named_twice_is_one_variant(tmp_path, capsys):
    argv = ["compare", "--dataset", "iris", "--optimizers", "sgd", "sgd", "--batch-modes",
            "--hidden", "4", "--epochs", "1", "--seeds", "2", "--lr", "0.05",
            "--out", str(tmp_path)]  # fmt: skip
    code, data = run_json(capsys, argv)
    assert code == 0 and [r["variant"] for r in data["results"]] == ["sgd"]
    assert data["results"][0]["diverged"] == "0/2"
