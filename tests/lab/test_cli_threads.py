"""``--threads N`` on every command that trains: one spelling, default 1, passed to
``gdlab.set_num_threads`` before the command runs, and to local worker processes."""

from __future__ import annotations

import pytest

import gdlab
from gdlab import cli
from gdlab.lab.config import Threads
from gdlab.lab.sweeps.executors import ProcessExecutor, make_executor

TRAINING = ["compare", "surface", "train", "lr-find", "reproduce", "suite"]


@pytest.mark.parametrize("command", TRAINING)
@pytest.mark.parametrize("argv, expected", [([], 1), (["--threads", "2"], 2)])
def test_commands_that_train_take_threads(command, argv, expected):
    inv = cli.parse(cli.build_parser(), [command, *argv])
    assert isinstance(inv.config, Threads)
    assert inv.config.threads == expected


@pytest.mark.parametrize("value", ["0", "-1", "1.5", "two"])
def test_a_bad_thread_count_is_a_usage_error(value, capsys):
    assert cli.main(["compare", "--threads", value]) == 2
    assert "--threads" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["gradcheck", "schedule", "datasets"])
def test_commands_that_do_not_train_do_not(command):
    with pytest.raises(SystemExit):
        cli.parse(cli.build_parser(), [command, "--threads", "2"])


def test_main_sets_the_threads_before_running(monkeypatch):
    calls = []
    monkeypatch.setattr(gdlab, "set_num_threads", calls.append)
    monkeypatch.setattr(cli, "execute", lambda run, config, session: calls.append("run") or 0)
    assert cli.main(["lr-find", "--threads", "2", "--out", "unused"]) == 0
    assert calls == [2, "run"]


@pytest.mark.parametrize(
    "cores, jobs, threads, expected", [(2, 2, None, 1), (4, 2, None, 2), (4, 2, 1, 1), (2, 1, 8, 2)]
)
def test_worker_processes_never_oversubscribe(monkeypatch, cores, jobs, threads, expected):
    """Each of ``jobs`` workers gets --threads, at most its share of the usable cores."""
    started = {}

    class Pool:
        def __init__(self, jobs, mp_context, initializer, initargs):
            started.update(jobs=jobs, threads=initargs[0])

    monkeypatch.setattr("gdlab.num_threads.usable_cores", lambda: cores)
    monkeypatch.setattr("gdlab.lab.sweeps.executors.ProcessPoolExecutor", Pool)
    executor = make_executor("processes", jobs=jobs, threads=threads)
    assert isinstance(executor, ProcessExecutor)
    executor._pool = None
    executor.close = lambda: None
    executor._fresh_pool()
    assert started == {"jobs": jobs, "threads": expected}
