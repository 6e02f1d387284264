"""Derive the polynomial tables of ``gdlab.ops.erf`` (run once, offline; needs mpmath).

``python -m gdlab.ops._erf_fit`` prints the tables that ``gdlab/ops/erf.py`` holds. Each is a
near-minimax Chebyshev fit (``mpmath.chebyfit``, 40 digits) converted to monomial
coefficients, highest power first (``numpy.polyval``'s order):

- near zero, |x| < 1: erf(x) = x + x·R(x²) with R(t) = erf(√t)/√t − 1 on t in [0, 1];
- in the tail, erf(x) = 1 − e^(−x²)·h(x) with h = e^(x²)·erfc(x) (the scaled complementary
  error function, smooth and slowly varying) fitted piecewise in u = x − centre.

and, for the compiled float32 GELU kernels (``gdlab.ops._gelu_kernels``), erf itself on
[1, 2) and [2, 4) (absolute error below 1e-9: no exponential in the forward) and e^r on
[−ln2/2, ln2/2] (after the reduction y = n·ln 2 + r, for the backward): polynomials keep
the kernels free of calls, so they vectorise.

The numbers of terms are the smallest for which the fit's error in erf stays below a
quarter of the dtype's unit roundoff near 1 (checked on a dense grid with mpmath).
"""

from __future__ import annotations

import math
from typing import NamedTuple

__all__ = [
    "FLOAT32_PLAN",
    "FLOAT64_PLAN",
    "KERNEL_ERF_PIECES",
    "Piece",
    "fit_erf_pieces",
    "fit_exp",
    "fit_tables",
    "main",
]


class Piece(NamedTuple):
    """One tail interval [lo, hi) fitted in u = x − (lo + hi) / 2 with ``terms`` terms."""

    lo: float
    hi: float
    terms: int


class Plan(NamedTuple):
    small_terms: int
    pieces: tuple[Piece, ...]


FLOAT64_PLAN = Plan(13, (Piece(1.0, 2.0, 16), Piece(2.0, 3.5, 15), Piece(3.5, 6.0, 14)))
FLOAT32_PLAN = Plan(7, (Piece(1.0, 2.0, 10), Piece(2.0, 4.0, 9)))
KERNEL_ERF_PIECES = (Piece(1.0, 2.0, 10), Piece(2.0, 4.0, 12))


def fit_tables(plan: Plan) -> tuple[list[float], list[tuple[float, float, list[float]]]]:
    """The small-argument coefficients and, per tail piece, (lo, hi, coefficients)."""
    import mpmath as mp

    mp.mp.dps = 40

    def r(t):
        if t == 0:
            return 2 / mp.sqrt(mp.pi) - 1
        s = mp.sqrt(t)
        return mp.erf(s) / s - 1

    small = [float(c) for c in mp.chebyfit(r, [0, 1], plan.small_terms)]
    tail = []
    for p in plan.pieces:
        c = mp.mpf(p.lo + p.hi) / 2

        def h(u, c=c):
            x = u + c
            return mp.exp(x * x) * mp.erfc(x)

        coeffs = mp.chebyfit(h, [p.lo - c, p.hi - c], p.terms)
        tail.append((p.lo, p.hi, [float(v) for v in coeffs]))
    return small, tail


def fit_erf_pieces(pieces: tuple[Piece, ...]) -> list[tuple[float, float, list[float]]]:
    """erf on each piece in u = x − centre: (lo, hi, coefficients)."""
    import mpmath as mp

    mp.mp.dps = 40
    out = []
    for p in pieces:
        c = mp.mpf(p.lo + p.hi) / 2
        coeffs = mp.chebyfit(lambda u, c=c: mp.erf(u + c), [p.lo - c, p.hi - c], p.terms)
        out.append((p.lo, p.hi, [float(v) for v in coeffs]))
    return out


def fit_exp(lo: float, hi: float, terms: int) -> list[float]:
    """e^y on [lo, hi], highest power first."""
    import mpmath as mp

    mp.mp.dps = 40
    return [float(c) for c in mp.chebyfit(mp.exp, [lo, hi], terms)]


def main() -> None:
    for name, plan in (("FLOAT64", FLOAT64_PLAN), ("FLOAT32", FLOAT32_PLAN)):
        small, tail = fit_tables(plan)
        print(f"{name}_SMALL = {small!r}")
        print(f"{name}_TAIL = {tail!r}")
    print(f"KERNEL_ERF = {fit_erf_pieces(KERNEL_ERF_PIECES)!r}")
    half_ln2 = math.log(2.0) / 2
    print(f"EXP_REDUCED = {fit_exp(-half_ln2, half_ln2, 7)!r}")


if __name__ == "__main__":
    main()
