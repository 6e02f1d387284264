"""``import gdlab`` keeps a step's freed memory mapped (gdlab._allocator): the kernel's
minor-fault counter of a fresh process is the oracle, and the user's settings win."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

from gdlab import _allocator

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="mallopt's thresholds are glibc's",
)

# A step's pattern: a few multi-MB arrays allocated, written and freed, again and again
# (the LSTM's gate buffers are 3.2 MB); the minor faults of the last 20 rounds.
_ROUNDS = """
import json, resource, sys
import numpy as np
if sys.argv[1] == "gdlab":
    import gdlab
def step():
    arrays = [np.ones((200, 4096), np.float32) for _ in range(12)]  # 12 x 3.2 MB
    return sum(float(a[0, 0]) for a in arrays)
for _ in range(5):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(json.dumps((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20))
"""


def _faults_per_round(*, importing: str, **env: str) -> float:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    environ.pop(_allocator.OPT_OUT, None)
    out = subprocess.run(
        [sys.executable, "-c", _ROUNDS, importing],
        env={**environ, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout)


@glibc
def test_import_gdlab_stops_the_refaulting_of_freed_arrays():
    plain = _faults_per_round(importing="numpy")
    assert plain > 1000  # 38 MB freed and faulted in again each round (~9,400 pages)
    assert _faults_per_round(importing="gdlab") < 50
    assert _faults_per_round(importing="gdlab", GDLAB_TUNE_MALLOC="0") > 1000


@glibc
def test_the_thresholds_are_set_once_on_glibc():
    assert _allocator.keep_freed_memory({}) is True


@pytest.mark.parametrize(
    "environ",
    [
        {"GDLAB_TUNE_MALLOC": "0"},
        {"MALLOC_TRIM_THRESHOLD_": "0"},
        {"MALLOC_MMAP_THRESHOLD_": "131072"},
        {"MALLOC_TOP_PAD_": "0"},
    ],
)
def test_the_users_own_choice_leaves_glibc_alone(environ):
    assert _allocator.keep_freed_memory(environ) is False


def test_other_systems_are_left_alone(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert _allocator.keep_freed_memory({}) is False
