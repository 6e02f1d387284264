"""Faults a run directory must survive (issue 14, "Verified"): a kill at every file operation of
checkpointing, SIGTERM, and resuming after each, bit for bit.

The kill test forks a child that trains with a checkpoint every step and dies (``os._exit``)
at its k-th file operation (a mkdir, a write cut in half, an fsync, a rename, a delete); the
parent then resumes from whatever is on disk and must reach the uninterrupted run's exact
state. ``GDLAB_FAULT_KILLS`` sets how many kill points are drawn (default 30; ``all`` tries
every one).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import traceback
from pathlib import Path

import numpy as np
import pytest

from gdlab import train
from gdlab.train.checkpoint import find_checkpoints

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the kill test forks")

EPOCHS = 2

BUILD = textwrap.dedent(
    """
    import numpy as np
    import gdlab
    from gdlab import nn, optim, train
    from gdlab.data import DataLoader, TensorDataset

    def build(run_dir, callbacks=()):
        gdlab.manual_seed(0)
        rng = np.random.default_rng(0)
        X = rng.normal(size=(40, 5))
        y = (X[:, 0] > X[:, 1]).astype(np.int64)
        model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 2))
        opt = optim.Adam(model.double().parameters(), lr=0.01)
        sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
        loader = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True, seed=3)
        ckpts = [train.Checkpoint(every_n_steps=1, keep_last=2)] if run_dir else []
        return train.Trainer(model, nn.CrossEntropyLoss(), opt, loader, scheduler=sched,
                             run_dir=run_dir, callbacks=[*ckpts, *callbacks],
                             config={"lr": 0.01})
    """
)
_namespace: dict = {}
exec(BUILD, _namespace)  # the same build in this process and in the SIGTERM child
build = _namespace["build"]


def _final_state(t: train.Trainer) -> list[np.ndarray]:
    out = [p.data.copy() for p in t.model.parameters()]
    for state in t.optimizer.state_dict()["state"].values():
        out += [np.asarray(v) for _, v in sorted(state.items())]
    return out + [np.float64(t.lr), np.float64(t.global_step)]


@pytest.fixture(scope="module")
def reference() -> list[np.ndarray]:
    t = build(None)
    t.fit(EPOCHS)
    return _final_state(t)


def _counting(kill_at: int, counter: list[int]):
    """Patches for every file operation a checkpoint makes; the kill_at-th one dies."""

    def tick() -> None:
        counter[0] += 1
        if counter[0] == kill_at:
            os._exit(9)

    def wrap(fn):
        def op(*args, **kwargs):
            tick()
            return fn(*args, **kwargs)

        return op

    def half_then(fn, write_half):
        def op(*args, **kwargs):
            if counter[0] + 1 == kill_at:
                write_half(*args, **kwargs)
            tick()
            return fn(*args, **kwargs)

        return op

    def half_json(obj, f, **kwargs):
        text = json.dumps(obj, **kwargs)
        f.write(text[: len(text) // 2])
        f.flush()

    def half_npz(f, **arrays):
        f.write(b"PK\x03\x04 partial")
        f.flush()

    return [
        (os, "mkdir", wrap(os.mkdir)),
        (os, "replace", wrap(os.replace)),
        (os, "fsync", wrap(os.fsync)),
        (os, "unlink", wrap(os.unlink)),
        (shutil, "rmtree", wrap(shutil.rmtree)),
        (json, "dump", half_then(json.dump, half_json)),
        (np, "savez", half_then(np.savez, half_npz)),
    ]


def _run_child(run_dir: Path, kill_at: int) -> int:
    """Fork a child that trains into run_dir and dies at file operation kill_at; return the
    number of operations it made (all of them if it finished)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        try:
            os.close(read)
            counter = [0]
            for module, name, fn in _counting(kill_at, counter):
                setattr(module, name, fn)
            build(run_dir).fit(EPOCHS, resume="auto")
            os.write(write, str(counter[0]).encode())
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        made = f.read()
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    assert code in (0, 9), code
    return int(made) if code == 0 else kill_at


def _kill_points(total: int) -> list[int]:
    wanted = os.environ.get("GDLAB_FAULT_KILLS", "30")
    points = np.arange(1, total + 1)
    if wanted != "all" and int(wanted) < total:
        points = np.sort(np.random.default_rng(14).choice(points, int(wanted), replace=False))
    return [int(k) for k in points]


def test_kill_at_any_file_operation_then_resume_is_bit_exact(tmp_path, reference):
    total = _run_child(tmp_path / "count", kill_at=-1)  # a full run: count the operations
    assert total > 10 * EPOCHS
    for k in _kill_points(total):
        run = tmp_path / f"kill-{k}"
        assert _run_child(run, kill_at=k) == k
        latest = find_checkpoints(run / "checkpoints")
        if latest:  # whatever is there under a checkpoint name loads
            train.load_checkpoint(latest[-1])
        resumed = build(run)
        resumed.fit(EPOCHS, resume="auto")
        got = _final_state(resumed)
        assert len(got) == len(reference), k
        for a, b in zip(got, reference, strict=True):
            assert np.array_equal(a, b), f"kill at file operation {k} of {total}"
        leftovers = [p.name for p in (run / "checkpoints").iterdir() if p.name.startswith(".")]
        assert leftovers == [], (k, leftovers)
        assert not [p.name for p in run.iterdir() if ".tmp" in p.name], k


_TERM_SCRIPT = BUILD + textwrap.dedent(
    """
    import sys
    stop = train.GracefulStop()
    slow = train.LambdaCallback(on_batch_end=lambda step, logs: __import__("time").sleep(0.05))
    t = build(sys.argv[1], callbacks=[slow, stop])
    t.fit(10**6)
    print(t.global_step, flush=True)
    sys.exit(stop.exit_code or 0)
    """
)


def test_sigterm_stops_after_the_step_saves_and_exits_143(tmp_path, reference):
    proc = subprocess.Popen(
        [sys.executable, "-c", _TERM_SCRIPT, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    deadline = time.monotonic() + 120
    while not find_checkpoints(tmp_path / "checkpoints"):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 143
    stopped_at = int(out.split()[-1])
    latest = find_checkpoints(tmp_path / "checkpoints")[-1]
    assert latest.name == f"step-{stopped_at:09d}"  # what was finished is on disk
    events = train.load_checkpoint(latest)["history"]["events"]
    assert {"event": "interrupted", "signal": "SIGTERM"}.items() <= events[-1].items()
    if stopped_at < 10 * EPOCHS:  # resume the rest: the uninterrupted run, bit for bit
        resumed = build(tmp_path)
        resumed.fit(EPOCHS, resume="auto")
        assert all(
            np.array_equal(a, b) for a, b in zip(_final_state(resumed), reference, strict=True)
        )


def test_graceful_stop_refuses_other_threads_and_restores_handlers(tmp_path):
    import threading

    before = signal.getsignal(signal.SIGTERM)
    build(tmp_path / "a", callbacks=[train.GracefulStop()]).fit(1)
    assert signal.getsignal(signal.SIGTERM) is before
    errors = []

    def run() -> None:
        try:
            build(tmp_path / "b", callbacks=[train.GracefulStop()]).fit(1)
        except ValueError as e:
            errors.append(str(e))

    thread = threading.Thread(target=run, name="worker")
    thread.start()
    thread.join()
    assert errors and "only be installed in the main thread" in errors[0]
    with pytest.raises(ValueError, match="at least one signal"):
        train.GracefulStop(signals=())


@pytest.mark.parametrize("fault", ["exception", "divergence"])
def test_graceful_stop_restores_handlers_when_fit_raises(tmp_path, fault):
    before = signal.getsignal(signal.SIGTERM)
    trainers = []

    def fault_at_step_3(step, logs):
        if step < 3:
            return
        if fault == "exception":
            raise RuntimeError("a bug in a callback")
        trainers[0].model[0].weight.data[:] = np.nan  # the next loss is NaN

    trainer = build(
        tmp_path,
        callbacks=[train.GracefulStop(), train.LambdaCallback(on_batch_end=fault_at_step_3)],
    )
    trainers.append(trainer)
    with pytest.raises(RuntimeError if fault == "exception" else train.DivergenceError):
        trainer.fit(2)
    assert signal.getsignal(signal.SIGTERM) is before
