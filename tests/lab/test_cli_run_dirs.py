"""``gdlab train`` run directories that never lie (issue 14, command side): resume may change
only what is safe, nothing is written before the checks, a directory holds one run, one
writer at a time, the last good state on divergence, SIGTERM, and the config checked once."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from gdlab import cli
from gdlab.lab.config import loads_toml
from gdlab.train import latest_checkpoint, load_checkpoint, load_checkpoint_config
from gdlab.train.checkpoint import find_checkpoints

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")

IRIS = ["--set", 'data.name="iris"', "--set", "model.hidden=[8]", "--set", "data.batch_size=16"]


def _train(out, *more: str) -> int:
    return cli.main(["train", "--out", str(out), *IRIS, *more, "--quiet"])


@pytest.fixture
def finished_run(tmp_path, capsys):
    """A finished 2-epoch momentum run."""
    out = tmp_path / "run"
    assert _train(out, "--set", "optimizer.name=momentum", "--set", "train.epochs=2") == 0
    capsys.readouterr()
    return out


# ------------------------------------------------------------------ 0, 1: resume
@pytest.mark.parametrize(
    "override, message",
    [
        ("optimizer.name=sgd", "optimizer.name = 'sgd' differs from the run's 'momentum'"),
        ("train.epochs=1", "train.epochs = 1 is fewer than the run's 2"),
        ("model.hidden=[64]", "model.hidden = [64] differs from the run's [8]"),
        ('data.name="digits"', "data.name = 'digits' differs from the run's 'iris'"),
        ("data.batch_size=8", "data.batch_size = 8 differs from the run's 16"),
        ("optimizer.lr=0.5", "optimizer.lr = 0.5 differs"),
    ],
)
def test_resume_refuses_unsafe_changes_and_writes_nothing(finished_run, capsys, override,
                                                          message):  # fmt: skip
    before = {p.name: p.read_bytes() for p in finished_run.iterdir() if p.is_file()}
    code = cli.main(["train", "--resume", str(finished_run), "--set", override])
    err = capsys.readouterr().err
    assert code == 2 and f"gdlab train: error: --resume: {message}" in err
    after = {p.name: p.read_bytes() for p in finished_run.iterdir() if p.is_file()}
    assert after == before  # config.toml and everything else untouched


def test_resume_may_add_epochs_and_each_checkpoint_stores_the_config(finished_run, capsys):
    code = cli.main(["train", "--resume", str(finished_run), "--set", "train.epochs=3", "-q"])
    assert code == 0
    config = loads_toml((finished_run / "config.toml").read_text())
    assert config["train"]["epochs"] == 3
    for ckpt in find_checkpoints(finished_run / "checkpoints"):
        stored = load_checkpoint_config(ckpt)
        assert stored["optimizer"]["name"] == "momentum" and stored["model"]["hidden"] == [8]
    assert load_checkpoint_config(latest_checkpoint(finished_run)) == config


# ------------------------------------------------------------------ 2: one run per directory
def test_reusing_a_run_directory_needs_resume_or_overwrite(finished_run, capsys):
    before = (finished_run / "config.toml").read_bytes()
    assert _train(finished_run, "--set", "optimizer.name=adam") == 2
    assert "already holds a run (config.toml, checkpoints)" in capsys.readouterr().err
    assert (finished_run / "config.toml").read_bytes() == before
    assert _train(finished_run, "--set", "optimizer.name=adam", "--set", "train.epochs=1",
                  "--overwrite") == 0  # fmt: skip
    steps = [load_checkpoint(p)["counters"]["global_step"]
             for p in find_checkpoints(finished_run / "checkpoints")]  # fmt: skip
    assert steps == sorted(steps) and max(steps) <= 8  # only the new run's checkpoints
    assert loads_toml((finished_run / "config.toml").read_text())["optimizer"]["name"] == "adam"


# ------------------------------------------------------------------ 3: one writer
_HOLD = textwrap.dedent(
    """
    import sys, time
    from gdlab._runlock import RunLock
    with RunLock(sys.argv[1]):
        print("locked", flush=True)
        time.sleep(60)
    """
)


@pytest.mark.parametrize("command", [["train", *IRIS], ["schedule", "cosine", "--steps", "5"]])
def test_a_second_command_on_a_locked_run_directory_fails(tmp_path, capsys, command):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(out)], stdout=subprocess.PIPE,
                            text=True)  # fmt: skip
    try:
        assert proc.stdout.readline().strip() == "locked"
        assert cli.main([*command, "--out", str(out)]) == 1
        assert f"is in use by process {proc.pid}" in capsys.readouterr().err
    finally:
        proc.kill()
        proc.wait()
    assert sorted(p.name for p in out.iterdir()) == [".gdlab.lock"]  # nothing else written


# ------------------------------------------------------------------ 5: divergence
@pytest.mark.filterwarnings("ignore::gdlab.train.GradientWarning")
def test_divergence_keeps_the_last_good_state_and_says_why_when_quiet(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train(out, "--set", "optimizer.lr=1e3", "--set", "train.epochs=3") == 1
    err = capsys.readouterr().err
    assert "gdlab train: diverged: fit: training diverged at step" in err
    step = json.loads((out / "summary.json").read_text())["diverged"].split("step ")[1]
    step = int(step.split()[0])
    assert latest_checkpoint(out).name == f"step-{step - 1:09d}"


# ------------------------------------------------------------------ 9: config checked once
@pytest.mark.parametrize(
    "override, message",
    [
        ('train.epochs="ten"', "invalid setting train.epochs = 'ten': expected a positive integer"),
        ("train.epochs=2.7", "invalid setting train.epochs = 2.7: expected a positive integer"),
        ("train.epochs=0", "invalid setting train.epochs = 0"),
        ("seed=1.5", "invalid setting seed = 1.5: expected a non-negative integer"),
        ("model.hidden=[0]", "invalid setting model.hidden = [0]: expected a list of positive"),
        ('data.standardize="false"', "invalid setting data.standardize = 'false': expected true"),
        ("data.batch_size=-1", "invalid setting data.batch_size = -1"),
        ("data.val_fraction=1.5", "invalid setting data.val_fraction = 1.5: expected a number"),
        ("optimizer.lr=-0.1", "invalid setting optimizer.lr = -0.1: expected a finite number"),
        ('model.activation="swish"', "invalid setting model.activation = 'swish': expected one"),
        ("train.grad_clip_norm=-1", "invalid setting train.grad_clip_norm = -1"),
        ("train.checkpoint_every=0", "invalid setting train.checkpoint_every = 0"),
        ("train.checkpoint_every_steps=-2", "invalid setting train.checkpoint_every_steps = -2"),
    ],
)
def test_bad_settings_exit_2_naming_key_value_and_what_is_allowed(tmp_path, capsys, override,
                                                                  message):  # fmt: skip
    out = tmp_path / "run"
    assert _train(out, "--set", override) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


# ------------------------------------------------------------------ 11, 12
def test_a_full_disk_exits_1_naming_the_file(tmp_path, capsys, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    assert _train(tmp_path / "run", "--set", "train.epochs=1") == 1
    err = capsys.readouterr().err
    assert "No space left on device while writing" in err and str(tmp_path / "run") in err


def test_resume_cleans_killed_writers_temporaries(finished_run, capsys):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    leftover = finished_run / f".metrics.{proc.pid}-0123abcd.tmp.csv"
    leftover.write_text("partial")
    assert cli.main(["train", "--resume", str(finished_run), "--set", "train.epochs=3", "-q"]) == 0
    assert not leftover.exists()


# ------------------------------------------------------------------ 14: SIGTERM, step checkpoints
def test_sigterm_writes_what_is_finished_exits_143_and_resumes(tmp_path):
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "gdlab", "train", "--out", str(out), *IRIS,
            "--set", "train.epochs=400", "--set", "train.checkpoint_every_steps=1"]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})  # fmt: skip
    deadline = time.monotonic() + 120
    while not find_checkpoints(out / "checkpoints"):  # a checkpoint long before an epoch ends
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "gdlab train: terminated (SIGTERM) after step" in err
    stopped = int(err.split("after step ")[1].split(";")[0])
    latest = latest_checkpoint(out)
    assert latest.name == f"step-{stopped:09d}"
    events = load_checkpoint(latest)["history"]["events"]
    assert events[-1]["event"] == "interrupted" and events[-1]["signal"] == "SIGTERM"
    assert json.loads((out / "summary.json").read_text())["interrupted"] is True
    assert not (out / ".gdlab.lock").exists()
