"""Sweeps: results independent of the executor, resumable, worker deaths retried."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gdlab.lab.sweeps import (
    SweepProgress,
    TrialError,
    Trials,
    TrialSpec,
    TrialStore,
    make_executor,
    run_sweep,
)

TESTS = str(Path(__file__).resolve().parents[1])


@pytest.fixture(autouse=True)
def _workers_import_tests(monkeypatch):
    # Spawned workers, Dask nannies and Ray workers find the trial functions through this.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([TESTS, os.environ.get("PYTHONPATH", "")]))


def tiny_specs(n: int = 4) -> list[TrialSpec]:
    return [
        TrialSpec("lab.sweep_trials:train_tiny", {"lr": lr, "steps": 5}, seed=s, label=f"lr{lr}")
        for lr in (0.01, 0.1)
        for s in range(n // 2)
    ]


def trial_bytes(run_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((run_dir / "trials").glob("*.json"))}


def test_spec_key_is_stable_and_distinguishes_seed_and_params():
    a = TrialSpec("m:f", {"lr": 0.1, "n": 2}, seed=0, label="a b/c")
    assert a.key == TrialSpec("m:f", {"n": 2, "lr": 0.1}, seed=0, label="a b/c").key
    assert a.key != TrialSpec("m:f", {"lr": 0.1, "n": 2}, seed=1, label="a b/c").key
    assert a.key != TrialSpec("m:f", {"lr": 0.2, "n": 2}, seed=0, label="a b/c").key
    assert "/" not in a.key and " " not in a.key


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"function": "no_colon"}, ValueError, "module:function"),
        ({"function": "m:f", "seed": 1.5}, TypeError, "seed must be an int, got 1.5"),
        ({"function": "m:f", "params": {"x": object()}}, TypeError, "not JSON serializable"),
    ],
)
def test_spec_rejects_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        TrialSpec(**kwargs)


@pytest.mark.parametrize(
    ("name", "kwargs", "match"),
    [
        ("threads", {}, "executor must be one of serial, processes, dask, ray; got 'threads'"),
        ("processes", {"jobs": 0}, "jobs must be a positive integer, got 0"),
        ("dask", {"retries": -1}, "retries must be a non-negative integer, got -1"),
    ],
)
def test_make_executor_rejects_bad_input(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_executor(name, **kwargs)


def test_serial_sweep_writes_each_trial_and_a_rerun_reuses_them(tmp_path):
    specs = tiny_specs()
    first = run_sweep(specs, tmp_path)
    assert [first[s]["lr"] for s in specs] == [0.01, 0.01, 0.1, 0.1]
    assert len(first[specs[0]]["losses"]) == 5 and first.reused == 0
    assert len(trial_bytes(tmp_path)) == 4
    before = trial_bytes(tmp_path)
    seen: list[SweepProgress] = []
    again = run_sweep(specs, tmp_path, progress=seen.append)
    assert again.reused == 4 and again.results == first.results
    assert seen == [SweepProgress(total=4, done=4, failed=0, running=0, reused=4)]
    assert trial_bytes(tmp_path) == before


def test_duplicate_specs_run_once(tmp_path):
    spec = tiny_specs()[0]
    res = run_sweep([spec, spec], tmp_path)
    assert len(res.results) == 1 and len(trial_bytes(tmp_path)) == 1


def test_a_failing_trial_is_recorded_and_the_sweep_goes_on(tmp_path):
    specs = [TrialSpec("lab.sweep_trials:fail", seed=3), *tiny_specs(2)]
    res = run_sweep(specs, tmp_path)
    assert len(res.results) == 2
    [failure] = res.failures
    assert failure.reason == "ValueError: bad trial 3" and failure.attempts == 1
    assert (tmp_path / "trials" / f"{specs[0].key}.failed.json").is_file()
    assert not TrialStore(tmp_path).has(specs[0])


def test_interrupted_sweep_keeps_what_finished_and_resumes(tmp_path):
    specs = tiny_specs()

    def stop_after_two(p: SweepProgress) -> None:
        if p.done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(specs, tmp_path, progress=stop_after_two)
    assert len(trial_bytes(tmp_path)) == 2
    res = run_sweep(specs, tmp_path)
    assert res.reused == 2 and len(res.results) == 4
    fresh = tmp_path / "fresh"
    run_sweep(specs, fresh)
    assert trial_bytes(tmp_path) == trial_bytes(fresh)


@pytest.fixture(scope="module")
def serial_files(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("serial")
    run_sweep(tiny_specs(), run_dir)
    return trial_bytes(run_dir)


def test_processes_give_the_serial_files(tmp_path, serial_files):
    with make_executor("processes", jobs=2) as ex:
        res = run_sweep(tiny_specs(), tmp_path, ex)
    assert not res.failures
    assert trial_bytes(tmp_path) == serial_files


def test_processes_retry_a_trial_whose_worker_died(tmp_path):
    marker = tmp_path / "died"
    specs = [
        TrialSpec("lab.sweep_trials:die_once", {"marker": str(marker), "value": 1.5}, seed=1),
        *tiny_specs(2),
    ]
    with make_executor("processes", jobs=2, retries=1) as ex:
        res = run_sweep(specs, tmp_path / "run", ex)
    assert marker.read_text() == "died"
    assert not res.failures and res[specs[0]] == 2.5 and len(res.results) == 3


def test_processes_give_up_after_the_retries(tmp_path):
    specs = [TrialSpec("lab.sweep_trials:always_die", seed=0), *tiny_specs(2)]
    with make_executor("processes", jobs=1, retries=2) as ex:
        res = run_sweep(specs, tmp_path, ex)
    [failure] = res.failures
    assert failure.attempts == 3 and "worker died 3 times" in failure.reason
    assert len(res.results) == 2


@pytest.fixture(scope="module")
def dask_executor():
    pytest.importorskip("distributed")
    with pytest.MonkeyPatch.context() as mp, make_executor("dask", jobs=2, retries=2) as ex:
        mp.setenv("PYTHONPATH", os.pathsep.join([TESTS, os.environ.get("PYTHONPATH", "")]))
        yield ex


@pytest.mark.slow
def test_dask_gives_the_serial_files(tmp_path, serial_files, dask_executor):
    res = run_sweep(tiny_specs(), tmp_path, dask_executor)
    assert not res.failures
    assert trial_bytes(tmp_path) == serial_files
    assert dask_executor.dashboard_link.startswith("http")


@pytest.mark.slow
def test_dask_retries_a_trial_whose_worker_died(tmp_path, dask_executor):
    marker = tmp_path / "died"
    spec = TrialSpec("lab.sweep_trials:die_once", {"marker": str(marker), "value": 0.5}, seed=2)
    res = run_sweep([spec, *tiny_specs(2)], tmp_path / "run", dask_executor)
    assert marker.read_text() == "died"
    assert not res.failures and res[spec] == 2.5


@pytest.mark.slow
def test_dask_failure_of_the_function_is_recorded(tmp_path, dask_executor):
    res = run_sweep([TrialSpec("lab.sweep_trials:fail", seed=7)], tmp_path, dask_executor)
    [failure] = res.failures
    assert failure.reason == "ValueError: bad trial 7"


@pytest.fixture(scope="module")
def ray_executor():
    pytest.importorskip("ray")
    with pytest.MonkeyPatch.context() as mp, make_executor("ray", jobs=2, retries=2) as ex:
        mp.setenv("PYTHONPATH", os.pathsep.join([TESTS, os.environ.get("PYTHONPATH", "")]))
        yield ex


@pytest.mark.slow
def test_ray_gives_the_serial_files_and_retries_dead_workers(tmp_path, serial_files, ray_executor):
    res = run_sweep(tiny_specs(), tmp_path / "a", ray_executor)
    assert not res.failures
    assert trial_bytes(tmp_path / "a") == serial_files
    marker = tmp_path / "died"
    spec = TrialSpec("lab.sweep_trials:die_once", {"marker": str(marker), "value": 0.5}, seed=1)
    fail = TrialSpec("lab.sweep_trials:fail", seed=4)
    res = run_sweep([spec, fail], tmp_path / "b", ray_executor)
    assert marker.read_text() == "died" and res[spec] == 1.5
    assert [f.reason for f in res.failures] == ["ValueError: bad trial 4"]


# --------------------------------------------------------------------------- compare on sweeps
def small_compare():
    from gdlab.lab.compare import CompareConfig

    return CompareConfig(datasets=["iris"], optimizers=["sgd", "adam"], batch_modes=["bgd"],
                         hidden=[8], epochs=2, trials=2, tune_epochs=1, seeds=2)  # fmt: skip


def compare_files(tmp_path: Path, executor=None, config=None) -> dict[str, bytes]:
    from gdlab.lab.compare import run_compare, write_compare
    from gdlab.lab.output.rundir import RunDir

    result = run_compare(config or small_compare(), run_dir=tmp_path, executor=executor)
    assert not result.interrupted
    write_compare(result, RunDir(tmp_path))
    names = ("metrics.csv", "metrics.jsonl", "tuning.csv", "config.toml", "summary.json")
    return {n: (tmp_path / n).read_bytes() for n in names}


@pytest.fixture(scope="module")
def serial_compare(tmp_path_factory):
    return compare_files(tmp_path_factory.mktemp("compare-serial"))


@pytest.mark.slow
def test_compare_files_are_the_same_on_processes_dask_and_ray(
    tmp_path, serial_compare, dask_executor, ray_executor
):
    with make_executor("processes", jobs=2) as ex:
        assert compare_files(tmp_path / "processes", ex) == serial_compare
    assert compare_files(tmp_path / "dask", dask_executor) == serial_compare
    assert compare_files(tmp_path / "ray", ray_executor) == serial_compare


def test_compare_interrupted_keeps_finished_trials_and_resumes(tmp_path, serial_compare):
    from gdlab.lab.compare import run_compare

    calls = []

    def progress(message: str) -> None:
        calls.append(message)
        if len(calls) == 5:
            raise KeyboardInterrupt

    result = run_compare(small_compare(), progress, run_dir=tmp_path)
    assert result.interrupted
    finished = sorted((tmp_path / "trials").glob("*.json"))
    assert len(finished) == 5
    assert compare_files(tmp_path) == serial_compare
    assert set(finished) <= set((tmp_path / "trials").glob("*.json"))


# --------------------------------------------------------------------------- Trials, reproduce
def test_trials_map_returns_results_in_order_and_raises_on_a_failure(tmp_path):
    specs = tiny_specs()
    saved = Trials(tmp_path).map(specs)
    assert saved == Trials().map(specs)  # no run directory: the same numbers, nothing saved
    assert len(trial_bytes(tmp_path)) == len(specs)
    bad = [*specs, TrialSpec("lab.sweep_trials:fail", seed=4, label="bad")]
    for trials in (Trials(tmp_path / "b"), Trials()):
        with pytest.raises(TrialError, match="trial bad failed: ValueError: bad trial 4"):
            trials.map(bad)


def test_reproduce_runs_its_seeds_as_trials_on_any_executor_and_resumes(tmp_path):
    from gdlab.cli import main

    serial, procs = tmp_path / "serial", tmp_path / "procs"
    assert main(["reproduce", "lr_decay", "--out", str(serial), "--quiet"]) == 0
    assert len(trial_bytes(serial)) == 25  # 5 schedules x 5 seeds, one file each
    argv = ["reproduce", "lr_decay", "--out", str(procs), "--quiet", "--executor", "processes"]
    assert main(argv) == 0
    assert trial_bytes(procs) == trial_bytes(serial)
    assert (procs / "metrics.csv").read_bytes() == (serial / "metrics.csv").read_bytes()
    stamps = {p: p.stat().st_mtime_ns for p in (serial / "trials").glob("*.json")}
    assert main(["reproduce", "lr_decay", "--out", str(serial), "--quiet"]) == 0
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # nothing recomputed


def test_surface_tuning_runs_as_trials_on_any_executor_and_resumes(tmp_path):
    from gdlab.cli import main

    def files(out):
        names = ("metrics.csv", "tuning.csv", "paths.csv", "paths.json", "summary.json")
        return {n: (out / n).read_bytes() for n in names}

    args = ["surface", "--function", "ravine", "--optimizers", "sgd", "adam", "--tune", "4",
            "--starts", "2", "--steps", "30", "--no-gif", "--quiet"]  # fmt: skip
    serial, procs = tmp_path / "serial", tmp_path / "procs"
    assert main([*args, "--out", str(serial)]) == 0
    assert len(trial_bytes(serial)) == 2 * 4  # one trial per (optimizer, lr): every start
    assert main([*args, "--out", str(procs), "--executor", "processes"]) == 0
    assert files(procs) == files(serial) and trial_bytes(procs) == trial_bytes(serial)
    stamps = {p: p.stat().st_mtime_ns for p in (serial / "trials").glob("*.json")}
    assert main([*args, "--out", str(serial)]) == 0
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
