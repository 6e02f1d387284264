"""Run directories (atomic, deterministic files) and the self-contained HTML report."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from gdlab.lab.output.report import Report, format_cell
from gdlab.lab.output.rundir import (
    RunDir,
    RunDirError,
    atomic_write_text,
    format_value,
    to_jsonable,
)

matplotlib = pytest.importorskip("matplotlib")
from matplotlib.figure import Figure  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ROWS = [
    {"run": "adam", "epoch": 1, "loss": 0.5, "acc": 0.9, "diverged": False},
    {"run": "sgd", "epoch": 1, "loss": float("nan"), "acc": None, "diverged": True},
]


def _figure() -> Figure:
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    ax.plot(np.arange(5), np.arange(5) ** 2, color="C0", lw=3)
    return fig


@pytest.mark.parametrize(
    "value, text",
    [(0.1, "0.1"), (1 / 3, "0.3333333333333333"), (float("nan"), "nan"), (float("inf"), "inf"),
     (-float("inf"), "-inf"), (np.float32(0.5), "0.5"), (3, "3"), (True, "true"), (None, ""),
     ("a", "a")],
)  # fmt: skip
def test_format_value(value, text):
    assert format_value(value) == text


def test_to_jsonable_replaces_non_finite():
    assert to_jsonable({"a": np.float64("nan"), "b": np.arange(2), "c": (np.int64(1),)}) == {
        "a": None, "b": [0, 1], "c": [1]
    }  # fmt: skip


def test_rundir_writes_every_format(tmp_path):
    run = RunDir(tmp_path / "a" / "b")
    csv_path, jsonl_path = run.write_metrics(ROWS)
    run.write_json("summary.json", {"b": 1, "a": float("nan")})
    run.write_config({"seed": 0, "optimizer": {"name": "adam", "lr": 1e-3}})
    run.save_figure(_figure(), "fig")
    names = sorted(p.name for p in run.files())
    assert names == sorted(
        ["metrics.csv", "metrics.jsonl", "summary.json", "config.toml", "fig.png", "fig.svg"]
    )
    assert csv_path.read_text().splitlines() == [
        "run,epoch,loss,acc,diverged", "adam,1,0.5,0.9,false", "sgd,1,nan,,true"
    ]  # fmt: skip
    assert [json.loads(line)["loss"] for line in jsonl_path.read_text().splitlines()] == [0.5, None]
    assert json.loads((run.path / "summary.json").read_text()) == {"a": None, "b": 1}
    assert not [p for p in run.path.iterdir() if p.name.startswith(".")]  # no temp files left


def test_rundir_files_are_byte_identical(tmp_path):
    def make(d):
        run = RunDir(d)
        run.write_metrics(ROWS)
        run.write_json("summary.json", {"x": [1.0, 2.5]})
        run.save_figure(_figure(), "fig")
        return run

    a, b = make(tmp_path / "a"), make(tmp_path / "b")
    for name in ["metrics.csv", "metrics.jsonl", "summary.json", "fig.svg", "fig.png"]:
        assert (a.path / name).read_bytes() == (b.path / name).read_bytes(), name


def test_rundir_not_writable_names_the_path(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RunDirError, match=re.escape(str(blocker / "run"))):
        RunDir(blocker / "run")


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "m.csv"
    atomic_write_text(target, "old\n")

    def boom(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["m.csv"]


def test_atomic_writes_give_ordinary_files_in_new_directories(tmp_path):
    from gdlab.lab.output.fileio import atomic_path, atomic_write_bytes

    umask = os.umask(0)
    os.umask(umask)
    target = atomic_write_bytes(tmp_path / "new" / "x.bin", b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "new" / "y.png") as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("writer failed")
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["x.bin"]


@pytest.mark.parametrize(
    "value, text",
    [(0.123456, "0.1235"), (float("nan"), "diverged"), (None, "–"), (1e-5, "1.000e-05"),
     (float("inf"), "∞"), (True, "yes"), ("adam", "adam")],
)  # fmt: skip
def test_format_cell(value, text):
    assert format_cell(value) == text


def _report() -> Report:
    rep = Report("Optimizers", subtitle="gdlab compare", seed=7, settings={"lr": 0.1})
    rep.add_heading("Results")
    rep.add_text("Tuned with `3` trials.")
    rep.add_table(ROWS, caption="Final table", bad=[r["diverged"] for r in ROWS])
    rep.add_figure(_figure(), caption="Loss <curve>")
    return rep


def test_report_is_self_contained(tmp_path):
    path = _report().save(tmp_path)
    page = path.read_text()
    assert path.name == "report.html"
    assert page.startswith("<!DOCTYPE html>")
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 1 and base64.b64decode(images[0]).startswith(b"\x89PNG")
    assert "<caption>Final table</caption>" in page and page.count("<tr>") >= 3
    assert 'class="bad"' in page and "diverged" in page
    assert "Loss &lt;curve&gt;" in page  # escaped
    assert "<code>3</code>" in page
    for key in ["gdlab", "numpy", "python", "platform", "seed"]:
        assert f"<td>{key}</td>" in page
    assert "lr = 0.1" in page
    assert not re.search(r'(src|href)="(http|//)', page)  # nothing fetched from outside


def _cli_report(tmp_path):
    from gdlab import cli

    out = tmp_path / "schedule"
    assert cli.main(["schedule", "cosine", "--param", "t_max=50", "--out", str(out), "-q"]) == 0
    return out / "report.html"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
@pytest.mark.parametrize("make", [lambda tmp: _report().save(tmp), _cli_report],
                         ids=["report", "gdlab-schedule"])  # fmt: skip
def test_report_renders_in_headless_chromium(make, tmp_path):
    path = make(tmp_path)
    shot = tmp_path / "shot.png"
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
        "--window-size=1200,2000", path.resolve().as_uri(),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert shot.exists()
    from matplotlib.image import imread

    img = imread(shot)[..., :3]
    assert img.shape[:2] == (2000, 1200)
    # Not blank: dark text, and a figure's blue line (C0 = #1f77b4) is on the page.
    assert (img.mean(axis=2) < 0.3).mean() > 0.002
    blue = (np.abs(img - np.array([0x1F, 0x77, 0xB4]) / 255).max(axis=2) < 0.08).sum()
    assert blue > 50
