"""The speed claims README quotes, and ``python -m benchmarks --check``, which re-measures them.

Each claim (``docs/benchmarks_claims.toml``, one ``[[claim]]`` table each) names the row of a
benchmark module it quotes (``bench``, ``name``, ``subject``, ``peer``, ``threads``), the
ratio README prints (``value``) and its measured noise (``noise``: how far the ratio moved
between the runs that set ``value``, see ``measured``), on one kind of CPU (``host``, words of
its model name: "Intel Xeon", "AMD EPYC"; the same code gives other ratios on another host,
whose BLAS and torch's differ). ``--check`` runs each module named once per thread count,
finds the rows, and fails (exit 1) when a ratio of this CPU's claims moved by more than its
noise or its row is gone: a claim a user cannot reproduce is caught, in either direction. On
a CPU no claim was measured on, it says so and exits 2.

The measurement is a parameter of :func:`check` (tests inject fake rows; the suite passes
``benchmarks.__main__.measure``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

__all__ = ["CLAIMS", "Claim", "Verdict", "check", "for_host", "load_claims", "render"]

CLAIMS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks_claims.toml"
_KEYS = {"readme": str, "host": str, "bench": str, "name": str, "subject": str, "peer": str,
         "threads": int, "value": float, "noise": float, "measured": str}  # fmt: skip


class Claim(NamedTuple):
    """One ratio README quotes, the row that measures it, and its noise band."""

    readme: str  # the README table's label of the figure
    host: str  # the CPU it was measured on: words of its model name ("AMD EPYC")
    bench: str  # the benchmark module (a key of benchmarks.__main__.BENCHMARKS)
    name: str  # the row's name, subject and peer
    subject: str
    peer: str
    threads: int
    value: float  # the quoted ratio
    noise: float  # the largest move that is still noise
    measured: str  # when, at what load, the runs behind value and noise

    def measured_on(self, cpu: str) -> bool:
        """Whether ``cpu`` (a model name, "Intel(R) Xeon(R) Processor") is this claim's host."""
        words = set(cpu.replace("(R)", " ").replace("(TM)", " ").lower().split())
        return set(self.host.lower().split()) <= words

    def matches(self, row: dict) -> bool:
        """Whether ``row`` (from a benchmark module) is the one this claim quotes."""
        return (row["name"], row.get("subject", "gdlab"), row["peer"]) == (
            self.name, self.subject, self.peer,
        )  # fmt: skip


class Verdict(NamedTuple):
    """A claim and what ``--check`` measured for it (``ratio`` None: its row was missing)."""

    claim: Claim
    ratio: float | None

    @property
    def ok(self) -> bool:
        return self.ratio is not None and abs(self.ratio - self.claim.value) <= self.claim.noise


def load_claims(path: str | Path = CLAIMS) -> list[Claim]:
    """The claims of a TOML file; ValueError naming the file and the claim when one is bad."""
    import tomllib

    with open(path, "rb") as f:
        tables = tomllib.load(f).get("claim", [])
    claims = []
    for i, table in enumerate(tables):
        missing = sorted(set(_KEYS) - set(table))
        unknown = sorted(set(table) - set(_KEYS))
        if missing or unknown:
            raise ValueError(f"{path}: claim {i}: missing keys {missing}, unknown keys {unknown}")
        try:
            claims.append(Claim(**{k: kind(table[k]) for k, kind in _KEYS.items()}))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: claim {i} ({table.get('readme')!r}): {exc}") from None
        if claims[-1].noise < 0 or claims[-1].threads < 1:
            raise ValueError(f"{path}: claim {i}: noise must be >= 0 and threads >= 1")
    return claims


def for_host(claims: list[Claim], cpu: str) -> list[Claim]:
    """The claims measured on ``cpu``'s kind of host."""
    return [c for c in claims if c.measured_on(cpu)]


def check(claims: list[Claim], measure: Callable[[str, int], list[dict]]) -> list[Verdict]:
    """Re-measure every claim: ``measure(bench, threads)`` runs once per (module, threads)."""
    rows: dict[tuple[str, int], list[dict]] = {}
    verdicts = []
    for claim in claims:
        key = (claim.bench, claim.threads)
        if key not in rows:
            rows[key] = measure(*key)
        found = [r for r in rows[key] if claim.matches(r) and r.get("ratio") is not None]
        verdicts.append(Verdict(claim, found[0]["ratio"] if found else None))
    return verdicts


def render(verdicts: list[Verdict]) -> str:
    """One line per claim: quoted value ± noise, measured ratio, ok / MOVED / MISSING."""
    lines = [f"{'claim (module: row, subject vs peer)':<64} {'quoted':>13} {'now':>6}  verdict"]
    for v in verdicts:
        c = v.claim
        quoted = f"{c.value:.2f} ± {c.noise:.2f}"
        now = "–" if v.ratio is None else f"{v.ratio:.2f}"
        verdict = "ok" if v.ok else ("MISSING (no such row)" if v.ratio is None else "MOVED")
        what = f"{c.bench}: {c.name}, {c.subject} vs {c.peer}"
        lines.append(f"{what[:64]:<64} {quoted:>13} {now:>6}  {verdict}")
    failed = sum(not v.ok for v in verdicts)
    lines.append(f"{len(verdicts) - failed} of {len(verdicts)} claims hold")
    return "\n".join(lines)
