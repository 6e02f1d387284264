"""gdlab.set_num_threads / get_num_threads (torch's names) and the default that never
oversubscribes: threadpoolctl's view of the BLAS is the oracle."""

from __future__ import annotations

import sys

import pytest

import gdlab
from gdlab import num_threads

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_counts() -> list[int]:
    return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]


@pytest.fixture(autouse=True)
def restore_threads():
    before = _blas_counts()
    yield
    threadpoolctl.threadpool_limits(limits=max(before), user_api="blas")
    gdlab.optim.set_num_threads(1)


@pytest.mark.parametrize("n", [1, 2, 1])
def test_set_num_threads_sets_the_blas_and_the_optimizer_pool(n):
    gdlab.set_num_threads(n)
    assert _blas_counts() and set(_blas_counts()) == {n}
    assert gdlab.get_num_threads() == n
    assert gdlab.optim.get_num_threads() == n


@pytest.mark.parametrize("n", [1, 2])
def test_without_threadpoolctl_the_blas_entry_point_is_called(n, monkeypatch):
    gdlab.set_num_threads(3 - n)
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # import fails: the ctypes path
    gdlab.set_num_threads(n)
    assert gdlab.get_num_threads() == n
    monkeypatch.undo()
    assert set(_blas_counts()) == {n}


def test_numba_threads_follow_when_numba_is_loaded():
    numba = pytest.importorskip("numba")
    gdlab.set_num_threads(1)
    assert numba.get_num_threads() == 1
    gdlab.set_num_threads(2)
    assert numba.get_num_threads() == min(2, numba.config.NUMBA_NUM_THREADS)
    gdlab.set_num_threads(1)


@pytest.mark.parametrize(
    "n, error, message",
    [(0, ValueError, "positive integer, got 0"), (-2, ValueError, "got -2"),
     (1.5, TypeError, "must be an int, got float 1.5"), (True, TypeError, "got bool True"),
     ("2", TypeError, "got str '2'")],
)  # fmt: skip
def test_bad_thread_counts_are_rejected(n, error, message):
    with pytest.raises(error, match=f"set_num_threads: n .*{message}"):
        gdlab.set_num_threads(n)


@pytest.mark.parametrize(
    "files, expected",
    [({"cpu.max": "150000 100000\n"}, 1.5), ({"cpu.max": "max 100000\n"}, None),
     ({"cpu/cpu.cfs_quota_us": "200000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 2.0),
     ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
     ({"cpu,cpuacct/cpu.cfs_quota_us": "50000", "cpu,cpuacct/cpu.cfs_period_us": "100000"}, 0.5),
     ({}, None)],
    ids=["v2-quota", "v2-max", "v1-quota", "v1-unlimited", "v1-cpuacct", "none"],
)  # fmt: skip
def test_cgroup_cpu_limit(tmp_path, files, expected):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    assert num_threads.cgroup_cpu_limit(tmp_path) == expected


@pytest.mark.parametrize("limit, expected", [(None, 2), (0.5, 1), (1.5, 2), (8.0, 2)])
def test_usable_cores_is_the_affinity_capped_by_the_quota(monkeypatch, limit, expected):
    monkeypatch.setattr(num_threads.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(num_threads, "cgroup_cpu_limit", lambda: limit)
    assert num_threads.usable_cores() == expected


@pytest.mark.parametrize(
    "env, expected", [({}, 1), ({"OMP_NUM_THREADS": "2"}, 2), ({"OPENBLAS_NUM_THREADS": "2"}, 2)]
)
def test_the_import_default_lowers_the_blas_to_the_usable_cores(monkeypatch, env, expected):
    """A 1-CPU quota on a 2-core machine: 1 BLAS thread, unless a thread variable is set."""
    gdlab.set_num_threads(2)
    for var in num_threads.THREAD_VARIABLES:
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    monkeypatch.setattr(num_threads, "usable_cores", lambda: 1)
    monkeypatch.setattr(num_threads.os, "cpu_count", lambda: 2)
    num_threads.cap_to_usable_cores()
    assert set(_blas_counts()) == {expected}


def test_the_import_default_never_raises_the_count(monkeypatch):
    gdlab.set_num_threads(1)
    monkeypatch.setattr(num_threads, "usable_cores", lambda: 2)
    monkeypatch.setattr(num_threads.os, "cpu_count", lambda: 4)
    num_threads.cap_to_usable_cores()
    assert set(_blas_counts()) == {1}
