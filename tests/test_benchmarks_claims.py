"""The benchmark suite's checks of its own conditions: ``--check`` against a claims file (the
measurement injected: no timing here), the GEMM-peak sanity flags, the thread flags, and
README's speed table quoting exactly the claims ``--check`` verifies."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # benchmarks/ is not installed

from benchmarks import __main__ as suite  # noqa: E402
from benchmarks import claims  # noqa: E402
from benchmarks.harness import row, sanity_flags, thread_flags, tuning_variables  # noqa: E402
from benchmarks.separate_processes import default_environment  # noqa: E402

CLAIMS_TOML = """
[[claim]]
readme = "MLP step, batch 1024, vs torch"
host = "AMD EPYC"
bench = "mlp_cnn_step"
name = "mlp step batch 1024"
subject = "gdlab"
peer = "torch"
threads = 1
value = 0.85
noise = 0.10
measured = "fake"

[[claim]]
readme = "first training step vs torch"
host = "AMD EPYC"
bench = "memory"
name = "first training step"
subject = "gdlab"
peer = "torch"
threads = 1
value = 0.5
noise = 0.2
measured = "fake"

[[claim]]
readme = "MLP step, batch 1024, vs torch"
host = "Intel Xeon"
bench = "mlp_cnn_step"
name = "mlp step batch 1024"
subject = "gdlab"
peer = "torch"
threads = 1
value = 1.00
noise = 0.10
measured = "fake"
"""
AMD, INTEL = "AMD EPYC 7B13 64-Core Processor", "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz"


def _rows(**ratios):
    """Fake module rows: name -> ratio (times 1 ms over ratio ms)."""
    return [row(name.replace("_", " "), r * 1e-3, "torch", 1e-3) for name, r in ratios.items()]


@pytest.fixture
def claims_file(tmp_path):
    path = tmp_path / "claims.toml"
    path.write_text(CLAIMS_TOML)
    return path


@pytest.mark.parametrize(
    "mlp, first, ok",
    [(0.85, 0.5, [True, True]), (0.95, 0.31, [True, True]), (0.96, 0.5, [False, True]),
     (0.74, 0.71, [False, False]), (None, 0.5, [False, True])],
    ids=["as-claimed", "at-the-edges", "slower", "both-moved", "row-gone"],
)  # fmt: skip
def test_check_compares_each_claim_with_its_noise(claims_file, mlp, first, ok):
    calls = []

    def measure(bench, threads):
        calls.append((bench, threads))
        if bench == "memory":
            return _rows(first_training_step=first, peak_RSS=0.3)
        return _rows(mlp_step_batch_32=0.7) + (
            [] if mlp is None else _rows(mlp_step_batch_1024=mlp)
        )

    verdicts = claims.check(claims.for_host(claims.load_claims(claims_file), AMD), measure)
    assert [v.ok for v in verdicts] == ok
    assert calls == [("mlp_cnn_step", 1), ("memory", 1)]  # each module measured once
    text = claims.render(verdicts)
    assert f"{ok.count(True)} of 2 claims hold" in text
    if mlp is None:
        assert "MISSING" in text


def test_check_mode_exits_1_when_a_claim_moved(claims_file, monkeypatch, capsys):
    monkeypatch.setattr(suite, "cpu_model", lambda: AMD)
    monkeypatch.setattr(suite, "measure", lambda bench, t: _rows(mlp_step_batch_1024=2.0))
    assert suite.main(["--check", str(claims_file)]) == 1
    assert "MOVED" in capsys.readouterr().out
    fine = {
        "mlp_cnn_step": _rows(mlp_step_batch_1024=0.8),
        "memory": _rows(first_training_step=0.6),
    }
    monkeypatch.setattr(suite, "measure", lambda bench, t: fine[bench])
    assert suite.main(["--check", str(claims_file)]) == 0
    out = capsys.readouterr().out
    assert "2 of 2 claims hold" in out
    assert "1 claims measured on other hosts were not checked" in out


@pytest.mark.parametrize(
    "cpu, claimed",
    [(AMD, [0.85, 0.5]), (INTEL, [1.00]), ("Intel(R) Core(TM) i7-8700", []),
     ("AMD Ryzen 9 7950X", []), ("Apple M2", [])],
)  # fmt: skip
def test_each_cpu_is_held_to_its_own_hosts_claims(claims_file, cpu, claimed):
    assert [c.value for c in claims.for_host(claims.load_claims(claims_file), cpu)] == claimed


def test_check_mode_exits_2_on_a_cpu_no_claim_was_measured_on(claims_file, monkeypatch, capsys):
    def measure(bench, threads):
        raise AssertionError("nothing to measure")

    monkeypatch.setattr(suite, "measure", measure)
    monkeypatch.setattr(suite, "cpu_model", lambda: "Apple M2")
    assert suite.main(["--check", str(claims_file)]) == 2
    assert "no claim was measured on this CPU (Apple M2)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "text, message",
    [(CLAIMS_TOML.replace('noise = 0.10\n', ''), "missing keys ['noise']"),
     (CLAIMS_TOML.replace('noise = 0.10', 'noise = 0.10\nspeed = 1'), "unknown keys ['speed']"),
     (CLAIMS_TOML.replace('value = 0.85', 'value = "fast"'), "could not convert"),
     (CLAIMS_TOML.replace('noise = 0.10', 'noise = -0.1'), "noise must be >= 0")],
)  # fmt: skip
def test_a_bad_claims_file_names_the_claim(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(message)):
        claims.load_claims(path)


@pytest.mark.parametrize(
    "seconds, threads, flagged",
    [(12.4e-3, 1, False), (6.24e-3, 1, True), (6.24e-3, 2, False), (3.0e-3, 2, True)],
)
def test_a_row_implying_more_than_the_gemm_peak_is_flagged(seconds, threads, flagged):
    """Issue 20's case: 1.24 GFLOP in 6.24 ms at "1 thread" implies ~199 GFLOP/s on a core
    whose float32 GEMM peaks at ~100."""
    r = {**row("mlp step batch 1024", seconds, "torch", 20e-3, flop=1.24e9), "threads": threads}
    flags = sanity_flags([r, row("no flop count", 1e-9, "torch", 1e-9)], peak_gflops=100.0)
    assert len(flags) == flagged
    if flagged:
        assert flags[0].startswith(f"mlp step batch 1024 ({threads}T), gdlab: implies")


@pytest.mark.parametrize(
    "used, threads, flags",
    [({"blas": [1], "openmp": [2], "torch": 1}, 1, []),
     ({"blas": [2], "openmp": [], "torch": 1}, 1, ["BLAS threads [2], not 1"]),
     ({"blas": [1, 2], "openmp": [], "torch": 2}, 1, ["BLAS threads [1, 2], not 1",
                                                      "torch threads 2, not 1"]),
     ({"blas": [], "openmp": [], "torch": None}, 2,
      ["no BLAS found: its thread count is unverified"])],
)  # fmt: skip
def test_thread_flags(used, threads, flags):
    assert thread_flags(used, threads) == flags


def test_tuning_variables_are_the_users_not_those_libraries_set_on_import():
    set_on_import = {"KMP_INIT_AT_FORK": "FALSE", "KMP_DUPLICATE_LIB_OK": "True"}
    tuned = {
        "OPENBLAS_CORETYPE": "Haswell",
        "MALLOC_TRIM_THRESHOLD_": "0",
        "GDLAB_TUNE_MALLOC": "0",
    }
    env = {**tuned, **set_on_import, "HOME": "/root"}
    assert tuning_variables(env) == tuned
    assert default_environment(env) == {k: v for k, v in env.items() if k not in tuned}
    untouched = {"KMP_INIT_AT_FORK": "FALSE", "HOME": "/root"}  # scikit-learn's, on import
    assert default_environment(untouched) == untouched


def _readme_ratios() -> dict[tuple[str, str], list[float]]:
    """README's speed table as (label, host) -> ratios: a ratio column and a noise column
    per host, the host named in the header."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Speed\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| ")]
    hosts = [h.strip() for h in rows[0][1::2]]
    table = {}
    for label, *cells in rows[1:]:
        for host, ratio in zip(hosts, cells[::2], strict=True):
            table[label.strip(), host] = [float(x) for x in re.findall(r"\d+\.\d+", ratio)]
    return table


def test_every_ratio_readme_quotes_is_a_claim_check_verifies():
    by_cell: dict[tuple[str, str], list[float]] = {}
    for c in claims.load_claims():
        by_cell.setdefault((c.readme, c.host), []).append(round(c.value, 2))
    table = _readme_ratios()
    assert table, "README's speed table is missing"
    assert {cell for cell, ratios in table.items() if ratios} == set(by_cell)
    for cell, ratios in by_cell.items():
        assert table[cell] == ratios, cell
