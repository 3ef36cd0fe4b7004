"""``poly(x, d, raw=True)`` in a formula, fitted without the digits raw powers lose.

A user who types ``I(x**10)`` hands least squares the float64-rounded powers of x: on a
narrow range (x in [1, 2]) those columns are so nearly collinear that the fit keeps only
a few correct digits, or none. Here the design holds Chebyshev polynomials Tₖ(z) of the
centred, scaled variable z = (x − c)/h — a basis with condition number near 1 — and the
fitted coefficients aₖ are mapped back to the raw powers exactly:

    Σₖ aₖ Tₖ((x − c)/h) = Σⱼ bⱼ xʲ,   b = M a,   cov(b) = M cov(a) M',

with M computed in rational arithmetic (c and h are dyadic, so M is exact). The user gets
raw-power coefficients, standard errors, fitted values and predictions that agree with
the exact least-squares fit of the exact powers of x to ~15 digits. ``raw=False`` (the
default) gives formulaic's orthogonal polynomials, as R's ``poly``.

When every power xʲ (j ≤ d) of the data is exact in float64 (x = 0, 1, …, 20 to the fifth, say),
the raw powers themselves are the design: exact data, which the refined solver fits to full
precision, where the rounded Chebyshev values would lose digits. The basis can only do better
than the direct design when the direct design's powers are rounded.
"""

from __future__ import annotations

import numbers
from fractions import Fraction
from math import comb
from typing import Any

import numpy as np
import pandas as pd
from formulaic.transforms.poly import poly as orthogonal_poly
from formulaic.utils.stateful_transforms import stateful_transform

STATE_KEY = "gradstat_chebyshev"
EXACT_KEY = "gradstat_exact_powers"


def powers_are_exact(values: np.ndarray, degree: int) -> bool:
    """Is xʲ exactly a float64 for every x and j ≤ degree? x = o 2ᵉ (o odd) needs oᵈ < 2⁵³ and no
    overflow or underflow of the extremes."""
    magnitudes = np.abs(values[np.isfinite(values) & (values != 0)])
    if magnitudes.size == 0 or degree <= 1:
        return True
    with np.errstate(over="ignore", under="ignore"):
        if not (np.isfinite(magnitudes.max() ** degree) and magnitudes.min() ** degree >= 2.0**-1022):
            return False
    fraction, _ = np.frexp(magnitudes)
    mantissa = np.ldexp(fraction, 53).astype(np.int64)
    odd = mantissa // (mantissa & -mantissa)
    return int(odd.max()) ** degree < 2**53


def _centre_and_halfwidth(x: np.ndarray) -> tuple[float, float]:
    """c: the midpoint, h: max|x − c| rounded up, both to 20 significant bits (dyadic, so M is exact)."""
    lo, hi = float(np.min(x)), float(np.max(x))
    mid = (lo + hi) / 2.0
    if mid == 0.0:
        c = 0.0
    else:
        exponent = int(np.frexp(mid)[1])
        c = float(np.ldexp(np.round(np.ldexp(mid, 20 - exponent)), exponent - 20))
    spread = max(hi - c, c - lo)
    if spread == 0.0:
        return c, 1.0
    exponent = int(np.frexp(spread)[1])
    h = float(np.ldexp(np.ceil(np.ldexp(spread, 20 - exponent)), exponent - 20))
    return c, h


@stateful_transform
def poly(x: Any, degree: int = 1, raw: bool = False, _state: dict = {}) -> Any:  # noqa: B006 (formulaic's state)
    """Polynomial basis of x: orthogonal (raw=False, R's default) or raw powers fitted stably."""
    if isinstance(degree, bool) or not isinstance(degree, numbers.Integral) or degree < 1:
        raise ValueError(f"poly(): degree must be an integer >= 1, got {degree!r}")
    if not isinstance(raw, bool | np.bool_):
        raise ValueError(f"poly(): raw must be True or False, got {raw!r}")
    if not raw:
        return orthogonal_poly(x, degree, raw=False, _state=_state)
    values = np.asarray(x, dtype=np.float64)
    if EXACT_KEY not in _state and STATE_KEY not in _state and powers_are_exact(values, int(degree)):
        _state[EXACT_KEY] = {"degree": int(degree)}
    if EXACT_KEY in _state:
        powers = np.vander(values, int(degree) + 1, increasing=True)[:, 1:]
        return pd.DataFrame(powers, columns=list(range(1, int(degree) + 1)), index=getattr(x, "index", None))
    if STATE_KEY not in _state:
        c, h = _centre_and_halfwidth(values)
        _state[STATE_KEY] = {"centre": c, "halfwidth": h, "degree": int(degree)}
    state = _state[STATE_KEY]
    z = (values - state["centre"]) / state["halfwidth"]
    basis = np.polynomial.chebyshev.chebvander(z, int(degree))[:, 1:]
    return pd.DataFrame(basis, columns=list(range(1, int(degree) + 1)), index=getattr(x, "index", None))


def raw_power_map(centre: float, halfwidth: float, degree: int) -> list[list[Fraction]]:
    """M with bⱼ = Σₖ M[j][k] aₖ, j, k = 0…degree (index 0 is the intercept), exactly."""
    c, h = Fraction(centre), Fraction(halfwidth)
    m = [[Fraction(0)] * (degree + 1) for _ in range(degree + 1)]
    m[0][0] = Fraction(1)
    for k in range(1, degree + 1):
        t_k = np.polynomial.chebyshev.cheb2poly([0] * k + [1])  # integer coefficients of Tₖ in z
        for power, coefficient in enumerate(t_k):
            if coefficient == 0:
                continue
            # zᵖ = ((x − c)/h)ᵖ = Σⱼ C(p, j) xʲ (−c)ᵖ⁻ʲ / hᵖ
            for j in range(power + 1):
                m[j][k] += int(coefficient) * comb(power, j) * (-c) ** (power - j) / h**power
    return m


def _exact(values: np.ndarray) -> list[list[Fraction]]:
    return [[Fraction(float(v)) for v in row] for row in np.atleast_2d(values)]


def _product(a: list[list[Fraction]], b: list[list[Fraction]]) -> list[list[Fraction]]:
    """A B in exact arithmetic."""
    return [
        [sum((x * y for x, y in zip(row, col, strict=True)), Fraction(0)) for col in zip(*b, strict=True)]
        for row in a
    ]


def _rounded(a: list[list[Fraction]]) -> np.ndarray:
    return np.array([[float(v) for v in row] for row in a])


def reparametrise(
    coef: np.ndarray, cov: np.ndarray, maps: list[tuple[list[int], list[list[Fraction]]]]
) -> tuple[np.ndarray, np.ndarray]:
    """For each (positions S = [intercept, x¹…xᵈ], M): b_S = M a_S, cov_SS = M cov_SS M', cov_S· = M cov_S·.

    Every product is exact; each result is rounded to float64 once.
    """
    coef, cov = coef.copy(), cov.copy()
    for positions, m in maps:
        s = np.asarray(positions)
        if not (np.isfinite(coef[s]).all() and np.isfinite(cov[s]).all()):
            continue  # an aliased power: keep the fitted basis rather than map NaN
        coef[s] = _rounded(_product(m, _exact(coef[s][:, None])))[:, 0]
        m_cov = _product(m, _exact(cov[s]))  # M cov_S·, exact
        m_t = [list(col) for col in zip(*m, strict=True)]
        m_cov_ss = [[row[j] for j in s] for row in m_cov]
        cov[s] = _rounded(m_cov)
        cov[:, s] = cov[s].T
        cov[np.ix_(s, s)] = _rounded(_product(m_cov_ss, m_t))
    return coef, cov
