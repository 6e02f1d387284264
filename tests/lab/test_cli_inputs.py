"""The CLI's inputs (issue 12): ``gdlab datasets --download NAME`` verified by checksum, and a
CSV file as ``--dataset path.csv`` (target column, header, clear errors)."""

from __future__ import annotations

import gzip
import hashlib
import json

import numpy as np
import pytest

from gdlab import cli
from gdlab.datasets import vision, write_idx
from gdlab.lab.tasks import load_task

pytest.importorskip("matplotlib")

FILES = vision._IDX_FILES


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A local mirror of a tiny "mnist" (file:// URLs) with its published checksums."""
    site = tmp_path / "mirror"
    site.mkdir()
    rng = np.random.default_rng(0)
    arrays = [rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
              rng.integers(0, 10, 12, dtype=np.uint8),
              rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
              rng.integers(0, 10, 5, dtype=np.uint8)]  # fmt: skip
    sums = {}
    for name, array in zip(FILES, arrays, strict=True):
        write_idx(site / name, array)
        sums[name] = hashlib.sha256((site / name).read_bytes()).hexdigest()
    spec = dict(vision.IDX_SETS["mnist"], mirrors=(site.as_uri() + "/",), sha256=sums)
    monkeypatch.setitem(vision.IDX_SETS, "mnist", spec)
    return site


def test_download_fetches_and_verifies(mirror, tmp_path, capsys):
    cache = tmp_path / "cache"
    code = cli.main(["datasets", "--download", "mnist", "--data-dir", str(cache),
                     "--format", "json"])  # fmt: skip
    assert code == 0
    (done,) = json.loads(capsys.readouterr().out)["downloaded"]
    assert (done["name"], done["train"], done["test"]) == ("mnist", 12, 5)
    for f in done["files"]:
        data = (cache / "mnist" / f["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"]
    # a second call finds the files and verifies them without fetching
    for name in FILES:
        (mirror / name).unlink()
    assert cli.main(["datasets", "--download", "mnist", "--data-dir", str(cache)]) == 0
    assert "4 files in" in capsys.readouterr().out


def test_a_corrupt_download_is_refused(mirror, tmp_path, capsys):
    raw = gzip.decompress((mirror / FILES[1]).read_bytes())
    (mirror / FILES[1]).write_bytes(gzip.compress(raw[:-1] + bytes([raw[-1] ^ 1])))
    cache = tmp_path / "cache"
    assert cli.main(["datasets", "--download", "mnist", "--data-dir", str(cache)]) == 1
    assert "SHA256 checksum" in capsys.readouterr().err
    assert not (cache / "mnist" / FILES[1]).exists()  # nothing half-verified is kept


def test_download_names_are_checked(capsys):
    assert cli.main(["datasets", "--download", "digits"]) == 2
    assert "invalid choice: 'digits'" in capsys.readouterr().err


# --------------------------------------------------------------------------- CSV files
def _csv(path, header=True, label_names=True):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 3))
    y = (x[:, 0] - x[:, 2] > 0).astype(int)
    lines = ["f1,f2,label,f3"] if header else []
    for row, t in zip(x, y, strict=True):
        label = ("yes" if t else "no") if label_names else str(t)
        lines.append(f"{row[0]:.5f},{row[1]:.5f},{label},{row[2]:.5f}")
    path.write_text("\n".join(lines) + "\n")
    return x, y


@pytest.mark.parametrize(
    "header, flags",
    [(True, ["--target-column", "label"]), (True, ["--target-column", "2"]),
     (False, ["--target-column", "2", "--csv-header", "no"])],
)  # fmt: skip
def test_compare_on_a_csv_file(tmp_path, capsys, header, flags):
    path = tmp_path / "points.csv"
    _csv(path, header=header, label_names=header)
    out = tmp_path / "run"
    argv = ["compare", "--dataset", str(path), *flags, "--optimizers", "adam", "--batch-modes",
            "--epochs", "3", "--trials", "1", "--seeds", "1", "--lr", "0.05", "--out", str(out),
            "--format", "json"]  # fmt: skip
    assert cli.main(argv) == 0
    (row,) = json.loads(capsys.readouterr().out)["results"]
    assert row["val_acc"] > 0.8  # a linear boundary: learnt, so the label column was right
    assert (out / "curves-points-optimizers.png").exists()


def test_csv_task_reads_the_right_columns(tmp_path):
    path = tmp_path / "points.csv"
    x, y = _csv(path)
    task = load_task(str(path), target_column="label", standardize=False, dtype=np.float64)
    assert task.kind == "classification" and task.n_features == 3
    rows = {tuple(np.round(r, 5)) for r in np.concatenate([task.x_train, task.x_val,
                                                           task.x_test])}  # fmt: skip
    assert rows == {tuple(np.round(r, 5)) for r in x}


@pytest.mark.parametrize(
    "flags, code, message",
    [(["--dataset", "missing.csv"], 2, "no such CSV file: 'missing.csv'"),
     (["--dataset", "{csv}", "--target-column", "price"], 1,
      "target column 'price' not in ['f1', 'f2', 'label', 'f3']"),
     (["--dataset", "{csv}", "--target-column", "9"], 1, "target column index 9 is out of range"),
     (["--dataset", "{bad}"], 1, "data row 2, column 'a': could not convert 'x' to float"),
     (["--dataset", "{csv}", "--csv-header", "maybe"], 2, "invalid choice: 'maybe'")],
)  # fmt: skip
def test_csv_errors_are_clear(tmp_path, capsys, flags, code, message):
    _csv(tmp_path / "points.csv")
    (tmp_path / "bad.csv").write_text("a,b\n1,2\nx,3\n")
    names = {"csv": str(tmp_path / "points.csv"), "bad": str(tmp_path / "bad.csv")}
    argv = ["compare", *[f.format(**names) for f in flags], "--optimizers", "sgd",
            "--batch-modes", "--out", str(tmp_path / "run")]  # fmt: skip
    assert cli.main(argv) == code
    assert message in capsys.readouterr().err


def test_lr_find_on_a_csv_file(tmp_path, capsys):
    path = tmp_path / "points.csv"
    _csv(path)
    argv = ["lr-find", "--dataset", str(path), "--target-column", "label", "--num-iter", "30",
            "--out", str(tmp_path / "run"), "--format", "json"]  # fmt: skip
    assert cli.main(argv) == 0
    assert json.loads(capsys.readouterr().out)["iterations"] > 10
