"""Exact least squares of a float64 design, and designs known to be hard.

Every float64 is a dyadic rational, so a column times a power of two is a
vector of Python ints: the Gram matrix is then exact integer arithmetic, and
the normal equations are solved exactly with :class:`fractions.Fraction`.
The result is *the* least-squares solution of the given float64 data, the
yardstick for counting correct significant digits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import statsmodels.datasets.longley


@dataclass(frozen=True)
class ExactFit:
    coef: list[Fraction]
    cov_diag: list[Fraction]  # diag((X'X)^-1)
    fitted: list[Fraction]
    sse: Fraction
    leverage: list[Fraction]  # diag(X (X'X)^-1 X')


def _int_column(values: np.ndarray) -> tuple[list[int], int]:
    """``values = ints / 2**e`` exactly."""
    ratios = [float(v).as_integer_ratio() for v in values]
    e = max(q.bit_length() - 1 for _, q in ratios)
    return [p << (e - (q.bit_length() - 1)) for p, q in ratios], e


def exact_least_squares(X: np.ndarray, y: np.ndarray) -> ExactFit:
    """Exact solution of ``min ||y - X b||`` for a full-column-rank float64 ``X``."""
    n, k = X.shape
    cols = [_int_column(X[:, j]) for j in range(k)]
    yi, ey = _int_column(y)
    ints = [c for c, _ in cols]
    # M g = c with M = A'A, c = A'y_int, A = X 2**e (integer), b_j = g_j 2**(e_j - e_y)
    m = [
        [Fraction(sum(a * b for a, b in zip(ints[i], ints[j], strict=True))) for j in range(k)]
        for i in range(k)
    ]
    c = [Fraction(sum(a * b for a, b in zip(ints[i], yi, strict=True))) for i in range(k)]
    aug = [row + [c[i]] + [Fraction(int(i == j)) for j in range(k)] for i, row in enumerate(m)]
    for p in range(k):  # Gauss-Jordan with exact pivots
        piv = next(i for i in range(p, k) if aug[i][p] != 0)
        aug[p], aug[piv] = aug[piv], aug[p]
        inv = 1 / aug[p][p]
        aug[p] = [v * inv for v in aug[p]]
        for i in range(k):
            if i != p and aug[i][p] != 0:
                f = aug[i][p]
                aug[i] = [a - f * b for a, b in zip(aug[i], aug[p], strict=True)]
    coef = [aug[j][k] * Fraction(2) ** (cols[j][1] - ey) for j in range(k)]
    cov_diag = [aug[j][k + 1 + j] * Fraction(2) ** (2 * cols[j][1]) for j in range(k)]
    fitted = [sum((Fraction(float(X[i, j])) * coef[j] for j in range(k)), Fraction(0)) for i in range(n)]
    sse = sum(((Fraction(float(y[i])) - fitted[i]) ** 2 for i in range(n)), Fraction(0))
    # h_i = a_i' M^-1 a_i on the integer rows a_i = x_i 2**e
    inverse = [row[k + 1 :] for row in aug]
    leverage = []
    for i in range(n):
        a = [ints[j][i] for j in range(k)]
        leverage.append(
            sum(
                (a[p] * sum((inverse[p][q] * a[q] for q in range(k)), Fraction(0)) for p in range(k)),
                Fraction(0),
            )
        )
    return ExactFit(coef, cov_diag, fitted, sse, leverage)


def rel_error(computed: np.ndarray | float, exact: list[Fraction] | Fraction) -> float:
    """Largest elementwise relative error ``|computed - exact| / |exact|``."""
    values = np.atleast_1d(np.asarray(computed, dtype=np.float64))
    targets = exact if isinstance(exact, list) else [exact]
    worst = 0.0
    for v, t in zip(values, targets, strict=True):
        if not math.isfinite(v):
            return math.inf
        err = abs(Fraction(float(v)) - t)
        worst = max(worst, math.inf if t == 0 and err else float(err / abs(t)) if t else 0.0)
    return worst


def digits(err: float) -> float:
    """Correct significant digits for a relative error (17 for an exact answer)."""
    return 17.0 if err == 0 else min(17.0, -math.log10(err))


# ---- hard designs (float64 data whose exact solution is the reference) -------------------


def polynomial_design(lo: float, hi: float, n: int, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Raw powers ``1, x, ..., x^d`` of ``x`` in the narrow range ``[lo, hi]``, smooth ``y``."""
    x = np.linspace(lo, hi, n)
    X = np.vander(x, degree + 1, increasing=True)
    y = np.exp(x) + 0.01 * np.sin(37.0 * x)
    return X, y


def longley() -> tuple[np.ndarray, np.ndarray]:
    """Longley (1967): employment on six collinear macroeconomic series plus intercept."""
    data = statsmodels.datasets.longley.load_pandas()
    X = np.column_stack([np.ones(len(data.exog)), data.exog.to_numpy(dtype=np.float64)])
    return X, data.endog.to_numpy(dtype=np.float64)


def wampler_like() -> tuple[np.ndarray, np.ndarray]:
    """NIST Wampler-style: quintic in ``x = 0..20`` plus huge alternating residuals."""
    x = np.arange(21.0)
    X = np.vander(x, 6, increasing=True)
    y = X.sum(axis=1) + 1.0e5 * np.where(np.arange(21) % 2 == 0, 1.0, -1.0) * (1 + x / 7)
    return X, y


def huge_residual_cubic() -> tuple[np.ndarray, np.ndarray]:
    """Cubic in a narrow range whose residuals dwarf the fit: the kappa^2 ||r|| regime."""
    rng = np.random.default_rng(7)
    x = np.linspace(10.0, 11.0, 80)
    X = np.vander(x, 4, increasing=True)
    y = 1.0 + 0.5 * x + 1.0e6 * rng.standard_normal(80)
    return X, y


def random_design(n: int = 150, k: int = 5, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """A well-conditioned design with an intercept and Gaussian predictors."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.standard_normal((n, k - 1))])
    y = X @ rng.standard_normal(k) + rng.standard_normal(n)
    return X, y


HARD_DESIGNS = {
    "poly10 x in [0.4, 1.4]": lambda: polynomial_design(0.4, 1.4, 60, 10),
    "longley": longley,
    "wampler-like quintic": wampler_like,
    "cubic, huge residuals": huge_residual_cubic,
}
