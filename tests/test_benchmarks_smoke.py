"""The benchmark suite in smoke mode (tiny sizes) and its timing/report utilities.

Benchmarks are not unit tests: these only check that the suite runs end to end, that the
hand-written NumPy floor computes the same step as PyTorch, and that the report is built
from the rows it is given.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ is not installed

from benchmarks import __main__ as suite  # noqa: E402
from benchmarks import models, report  # noqa: E402
from benchmarks.harness import Stats, compare, row, thread_limit  # noqa: E402


def test_compare_interleaves_and_counts_repeats():
    calls: list[str] = []
    stats = compare(
        {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
        repeats=4,
        min_time=0.0,
        warmup=1,
    )
    assert [len(s.times) for s in stats.values()] == [4, 4]
    timed = calls[-8:]  # after warmup and calibration: one call each, order rotated
    assert timed == ["a", "b", "b", "a", "a", "b", "b", "a"]


@pytest.mark.parametrize(
    "times, median, iqr",
    [([1.0], 1.0, 0.0), ([1.0, 2.0, 3.0, 4.0, 100.0], 3.0, 2.0), ([], float("nan"), 0.0)],
)
def test_stats_median_and_iqr(times, median, iqr):
    s = Stats(times=times)
    assert s.median == pytest.approx(median, nan_ok=True)
    assert s.iqr == pytest.approx(iqr)


@pytest.mark.parametrize(
    "gdlab_s, peer_s, ratio",
    [(1.0, 2.0, 0.5), (Stats([3.0, 3.0]), 1.5, 2.0), (None, 1.0, None), (1.0, None, None)],
)
def test_row_ratio(gdlab_s, peer_s, ratio):
    r = row("x", gdlab_s, "torch", peer_s, target=1.0)
    assert r["ratio"] == (pytest.approx(ratio) if ratio is not None else None)
    assert {"name", "gdlab_s", "peer", "peer_s", "ratio", "notes", "target"} <= set(r)


def test_thread_limit_sets_and_restores_torch_threads():
    before = torch.get_num_threads()
    with thread_limit(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_numpy_floor_step_matches_torch_sgd():
    sizes = (12, 10, 8, 5)
    params = models.init_params(sizes, seed=3)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 12), dtype=np.float32)
    y = rng.integers(0, 5, 6)
    floor = models.NumpyMLP(sizes, params)
    loss = floor.step(x, y, lr=0.1)
    model = models.build_mlp(torch, sizes, params)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    expected = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
    expected.backward()
    opt.step()
    assert loss == pytest.approx(expected.item(), rel=1e-5)
    for mine, theirs in zip(floor.params, model.parameters(), strict=True):
        np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "value, unit, text",
    [(1.5, "s", "1.5 s"), (0.00123, "s", "1.23 ms"), (2.5e-6, "s", "2.5 µs"),
     (300.0, "MiB", "300 MiB"), (None, "s", "–")],
)  # fmt: skip
def test_fmt_value(value, unit, text):
    assert report.fmt_value(value, unit) == text


def test_report_puts_thread_counts_side_by_side_and_keeps_analysis(tmp_path):
    rows = []
    for t, ratio in ((1, 0.5), (2, 2.0)):
        r = row("MLP step b=32", ratio * 1e-3, "torch", 1e-3, "n", target=1.0)
        rows.append({**r, "bench": "numpy_floor", "threads": t})
    text = report.render(rows, {}, [1, 2], {"numpy_floor": "ok"}, analysis="my notes")
    line = next(x for x in text.splitlines() if x.startswith("| MLP step b=32"))
    assert "0.50" in line and "2.00" in line and "met / **missed**" in line
    path = tmp_path / "b.md"
    report.write(path, text)
    assert report.existing_analysis(path) == "my notes"
    assert report.existing_analysis(tmp_path / "missing.md") == report.DEFAULT_ANALYSIS


@pytest.mark.parametrize(
    "load, verdict", [((0.2, 1.3), "quiet before (< 0.5)"), ((0.6, 0.9), "not quiet")]
)
def test_report_gives_the_two_thread_speed_ups_and_the_load(load, verdict):
    rows = []
    for name, per_thread in (
        ("mlp step batch 1024", {1: (10e-3, 12e-3), 2: (5e-3, 8e-3)}),
        ("cnn step batch 64", {1: (4e-3, 6e-3), 2: (4e-3, 3e-3)}),
        ("mlp step batch 32", {1: (1e-3, 1e-3), 2: (1e-3, 1e-3)}),  # not a 2-thread workload
    ):
        for t, (ours, theirs) in per_thread.items():
            rows.append({**row(name, ours, "torch", theirs), "bench": "m", "threads": t})
    info = {"load_before": (load[0],), "load": (load[1],)}
    text = report.render(rows, info, [1, 2], {})
    section = text.split("## Two threads", 1)[1].split("\n## ", 1)[0]
    assert "| mlp step batch 1024 (m) | 2.00x | 1.50x | 0.62 |" in section
    assert "| cnn step batch 64 (m) | 1.00x | 2.00x | 1.33 |" in section
    assert "batch 32" not in section
    assert verdict in section
    assert "## Two threads" not in report.render(rows[:1], info, [1], {})


def test_suite_smoke_runs_every_module_and_writes_the_report(tmp_path, capsys):
    out = tmp_path / "benchmarks.md"
    assert suite.main(["--smoke", "--threads", "1", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    status = text.split("## Status of the benchmark modules", 1)[1].split("##", 1)[0]
    assert "failed" not in status, status
    assert "| MLP step b=8 (numpy_floor) | gdlab vs numpy floor |" in text
    assert "peak RSS" in text and "digits to 97%" in text
    assert (tmp_path / "img" / "benchmark_scaling.png").stat().st_size > 1000
    assert report.ANALYSIS_START in text


@pytest.mark.parametrize("argv", [["--only", "nope"], ["--threads", "0"], ["--threads", "a"]])
def test_suite_rejects_bad_arguments(argv):
    with pytest.raises(SystemExit):
        suite.main(argv)
