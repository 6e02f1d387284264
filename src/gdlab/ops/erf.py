"""The error function on arrays, vectorised: no Python call per element.

erf is piecewise polynomial (tables derived by ``gdlab.ops._erf_fit``; near-minimax
Chebyshev fits to 40-digit mpmath values):

- |x| < 1: erf(x) = x + x·R(x²), a polynomial R in x² (erf is odd; adding x last keeps the
  relative error of the small correction x·R from reaching the result's leading digits);
- 1 <= |x| < 6 (float64) or < 4 (float32): erf(x) = ±(1 − e^(−x²)·h(|x|)) with h the
  scaled complementary error function e^(x²)·erfc(x), one polynomial per interval;
- beyond: ±1 (erfc is below half an ulp of 1 there).

float64 is evaluated in float64 (error within 2 ulp of the correctly rounded value), float32
in float32 with shorter tables (within 2 float32 ulp); other dtypes go through float32.
tests/ops/test_erf.py checks both against mpmath, scipy.special.erf and torch.erf.
SciPy is not a core dependency, and its float32 erf runs a double-precision loop per element.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["erf"]


class _Piece(NamedTuple):
    lo: float
    hi: float
    coeffs: np.ndarray  # h(lo/2 + hi/2 + u), highest power of u first


_FLOAT64_SMALL = np.array(
    [
        5.957176147748911e-11,
        -1.1372848856791674e-09,
        1.4659775274047436e-08,
        -1.6350312701054695e-07,
        1.6461000484121368e-06,
        -1.4925595266831182e-05,
        0.0001205533111164271,
        -0.000854832698083379,
        0.0052239776248180145,
        -0.026866170645076792,
        0.11283791670954879,
        -0.3761263890318375,
        0.1283791670955126,
    ]
)
_FLOAT64_TAIL = (
    _Piece(
        1.0,
        2.0,
        np.array(
            [
                -4.932844202000261e-08,
                1.8038197652346406e-07,
                -5.946998373950516e-07,
                2.061689065129881e-06,
                -6.975285854904505e-06,
                2.286543658874603e-05,
                -7.265888759557882e-05,
                0.00022330981211640024,
                -0.0006619300686179933,
                0.0018861348854630824,
                -0.005145957547915988,
                0.013377340952802835,
                -0.03293090529956347,
                0.07615103985548055,
                -0.16362291773256007,
                0.3215854164543175,
            ]
        ),
    ),
    _Piece(
        2.0,
        3.5,
        np.array(
            [
                1.8069520510416326e-09,
                -8.01181001890603e-09,
                3.105710607611476e-08,
                -1.3192706697647487e-07,
                5.520418140550562e-07,
                -2.247676321583971e-06,
                8.940140785092413e-06,
                -3.469853951374473e-05,
                0.00013118180233874277,
                -0.0004821950932829294,
                0.001719581885194874,
                -0.005934337896564839,
                0.019758592987324287,
                -0.06323763756064137,
                0.1936620962790687,
            ]
        ),
    ),
    _Piece(
        3.5,
        6.0,
        np.array(
            [
                -3.637168322786334e-11,
                2.1605238078652918e-10,
                -1.0693784384105536e-09,
                6.173315508932439e-09,
                -3.5608039480012836e-08,
                2.0036663468155427e-07,
                -1.1115609470604207e-06,
                6.081073403414264e-06,
                -3.277578290599404e-05,
                0.00017392831480289404,
                -0.0009080988968563344,
                0.004661326367919034,
                -0.023503448598165916,
                0.1163027072102641,
            ]
        ),
    ),
)
_FLOAT32_SMALL = np.array(
    [
        7.875875062685488e-05,
        -0.000801686428716587,
        0.005189087423433974,
        -0.026854212010626412,
        0.11283594715160218,
        -0.37612626666720334,
        0.12837916584835093,
    ]
)
_FLOAT32_TAIL = (
    _Piece(
        1.0,
        2.0,
        np.array(
            [
                -7.717365433731468e-05,
                0.0002381395992225268,
                -0.0006609315042918834,
                0.0018828527945983834,
                -0.005146047147011788,
                0.013377635531289386,
                -0.03293090249333091,
                0.07615103062813995,
                -0.16362291774659718,
                0.32158541650047495,
            ]
        ),
    ),
    _Piece(
        2.0,
        4.0,
        np.array(
            [
                5.8510736220249926e-06,
                -2.400379347830881e-05,
                8.301259540876768e-05,
                -0.00032180661537294255,
                0.0012231910620997975,
                -0.004480082207895328,
                0.015884359715075888,
                -0.05437221097160281,
                0.17900115118138996,
            ]
        ),
    ),
)


class _Table(NamedTuple):
    """One dtype's coefficients, cast to that dtype once."""

    small: tuple[np.generic, ...]
    tail: tuple[tuple[float, float, np.generic, tuple[np.generic, ...]], ...]


def _table(small: np.ndarray, tail: tuple[_Piece, ...], dtype: type) -> _Table:
    cast = tuple(dtype(c) for c in small)
    pieces = tuple(
        (p.lo, p.hi, dtype((p.lo + p.hi) / 2), tuple(dtype(c) for c in p.coeffs)) for p in tail
    )
    return _Table(cast, pieces)


_TABLES = {
    np.dtype(np.float64): _table(_FLOAT64_SMALL, _FLOAT64_TAIL, np.float64),
    np.dtype(np.float32): _table(_FLOAT32_SMALL, _FLOAT32_TAIL, np.float32),
}


def _horner(coeffs: tuple[np.generic, ...], t: np.ndarray) -> np.ndarray:
    """Σ c_k·t^k, highest power first, on one new array updated in place."""
    acc = t * coeffs[0]
    acc += coeffs[1]
    for c in coeffs[2:]:
        acc *= t
        acc += c
    return acc


def _tail(a: np.ndarray, table: _Table) -> np.ndarray:
    """1 − e^(−a²)·h(a) for a >= 1 (1 beyond the last piece)."""
    out = np.ones_like(a)
    for lo, hi, centre, coeffs in table.tail:
        sel = np.flatnonzero((a >= lo) & (a < hi))
        if sel.size:
            x = a[sel]
            h = _horner(coeffs, x - centre)
            np.negative(x, out=x)
            x *= a[sel]
            np.exp(x, out=x)
            h *= x
            out[sel] = 1 - h
    return out


def erf(x: np.ndarray) -> np.ndarray:
    """erf(x) = 2/√π·∫₀ˣ e^(−t²) dt elementwise, in x's floating dtype (float64 for others).

    Example:
        >>> erf(np.array([0.0, 0.5, -2.0])).round(6).tolist()
        [0.0, 0.5205, -0.995322]
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    if x.ndim == 0:  # NumPy gives scalars, not arrays, for 0-d arithmetic: work on one element
        return erf(x.reshape(1)).reshape(())
    table = _TABLES.get(x.dtype)
    if table is None:  # float16 and friends: computed in float32
        return erf(x.astype(np.float32)).astype(x.dtype)
    with np.errstate(over="ignore", invalid="ignore"):
        out = _horner(table.small, x * x)  # R(x²) everywhere; the tail is overwritten below
        out *= x
        out += x
    flat_x = x.reshape(-1)
    far = np.flatnonzero(np.abs(flat_x) >= 1)  # NaN is not >= 1: it stays NaN from above
    if far.size:
        xf = flat_x[far]
        out.reshape(-1)[far] = np.copysign(_tail(np.abs(xf), table), xf)
    return out
