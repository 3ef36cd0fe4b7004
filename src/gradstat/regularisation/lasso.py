"""Lasso and elastic net: estimators and regularisation paths.

Objective, exactly scikit-learn's:
    1/(2n)‖y − Xβ − b‖² + α(l1_ratio‖β‖₁ + (1 − l1_ratio)/2 ‖β‖²),
the lasso being l1_ratio = 1 (the notes' (y − Xβ)'(y − Xβ) + λ‖β‖₁ with
λ = 2nα).  Solved by coordinate descent (``coordinate_descent``); converged
when the duality gap, divided by ‖y‖²/n, is at most ``tol``.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal, NamedTuple, Self

import numpy as np
from numpy.typing import NDArray

from gradstat.regularisation._base import LinearRegressor, center_scale
from gradstat.regularisation._validation import (
    check_alpha,
    check_alphas,
    check_eps,
    check_l1_ratio,
    check_positive_int,
    check_tol,
)
from gradstat.regularisation.coordinate_descent import enet_path_gram, enet_path_naive
from gradstat.validation import Array, ConvergenceWarning, check_weights, check_X, check_y

Precompute = bool | Literal["auto"]


class SolvedPath(NamedTuple):
    """A coordinate-descent path: coefficients, duality gaps and sweeps at each alpha."""

    alphas: Array
    coefs: Array  # (p, n_alphas) on the scale of the solver's X
    gaps: Array  # duality gaps in the objective's units (divided by n)
    n_iter: NDArray[np.int64]  # coordinate sweeps per alpha
    tol: float  # the gap tolerance in the objective's units


def alpha_grid(
    Xy: Array, n: int, l1_ratio: float, n_alphas: int = 100, eps: float = 1e-3
) -> Array:
    """Log-spaced α from α_max = max|X'y|/(n·l1_ratio) (all β = 0) down to eps·α_max.

    ``Xy`` is X'y of the centred (and scaled) data, ``n`` the number of samples.
    """
    eps = check_eps(eps)
    if l1_ratio == 0.0:
        raise ValueError(
            "an automatic alpha grid needs l1_ratio > 0 (with l1_ratio=0 every alpha "
            "keeps all coefficients non-zero); pass alphas explicitly"
        )
    alpha_max = float(np.max(np.abs(Xy))) / (n * l1_ratio)
    if alpha_max <= np.finfo(np.float64).resolution:
        return np.full(n_alphas, np.finfo(np.float64).resolution)
    return np.logspace(np.log10(alpha_max * eps), np.log10(alpha_max), n_alphas)[::-1]


def normalised_weights(sample_weight: Any, n: int) -> Array | None:
    """Weights rescaled to sum to n (scikit-learn's elastic net): 1/(2n) Σ wᵢrᵢ² = 1/(2Σw) Σ wᵢrᵢ²."""
    if sample_weight is None:
        return None
    w = check_weights(sample_weight, n)
    return w * (n / w.sum())


def use_gram(precompute: Precompute, n: int, p: int) -> bool:
    if precompute == "auto":
        return n > p
    if isinstance(precompute, bool | np.bool_):
        return bool(precompute)
    raise ValueError(f"precompute must be True, False or 'auto'; got {precompute!r}")


def solve_path(
    Xs: Array,
    yc: Array,
    alphas: Array,
    l1_ratio: float,
    *,
    tol: float,
    max_iter: int,
    precompute: Precompute = "auto",
    Xy: Array | None = None,
) -> SolvedPath:
    """Coordinate descent along ``alphas`` (decreasing) with warm starts, from β = 0.

    Covariance updates (Gram matrix) when ``precompute`` says so, else naive.
    """
    n, p = Xs.shape
    Xy = Xs.T @ yc if Xy is None else Xy
    # a single row or column is both C- and F-ordered, which numba would compile
    # separately; such problems are tiny, so the covariance solver takes them
    if use_gram(precompute, n, p) or min(n, p) == 1:
        return solve_path_gram(
            Xs.T @ Xs, Xy, float(yc @ yc), n, alphas, l1_ratio, tol=tol, max_iter=max_iter
        )
    yy = float(yc @ yc)
    tol_ss = tol * yy  # gap·n ≤ tol·‖y‖²  ⇔  gap/(‖y‖²/n) ≤ tol
    l1s, l2s = _penalties(n, alphas, l1_ratio)
    w = np.zeros(p)
    coefs = np.empty((p, alphas.size))
    gaps = np.empty(alphas.size)
    n_iter = np.zeros(alphas.size, dtype=np.int64)
    enet_path_naive(
        np.asfortranarray(Xs), np.ascontiguousarray(yc), l1s, l2s, tol_ss, tol,
        max_iter, w, coefs, gaps, n_iter,
    )
    return SolvedPath(alphas, coefs, gaps / n, n_iter, tol_ss / n)


def _penalties(n: int, alphas: Array, l1_ratio: float) -> tuple[Array, Array]:
    """Per-sample α to sum-of-squares units: λ₁ = nα·l1_ratio, λ₂ = nα(1 − l1_ratio)."""
    l1s = np.ascontiguousarray(n * alphas * l1_ratio, dtype=np.float64)
    l2s = np.ascontiguousarray(n * alphas * (1.0 - l1_ratio), dtype=np.float64)
    return l1s, l2s


def solve_path_gram(
    G: Array,
    Xy: Array,
    yy: float,
    n: int,
    alphas: Array,
    l1_ratio: float,
    *,
    tol: float,
    max_iter: int,
) -> SolvedPath:
    """The path from sufficient statistics only: G = X'X, X'y, y'y of the centred data."""
    p = G.shape[0]
    tol_ss = tol * yy
    l1s, l2s = _penalties(n, alphas, l1_ratio)
    w = np.zeros(p)
    coefs = np.empty((p, alphas.size))
    gaps = np.empty(alphas.size)
    n_iter = np.zeros(alphas.size, dtype=np.int64)
    enet_path_gram(
        np.ascontiguousarray(G), np.ascontiguousarray(Xy), yy, l1s, l2s, tol_ss, tol,
        max_iter, w, coefs, gaps, n_iter,
    )
    return SolvedPath(alphas, coefs, gaps / n, n_iter, tol_ss / n)


def warn_unconverged(solved: SolvedPath, max_iter: int, yy_over_n: float) -> None:
    bad = np.flatnonzero(solved.gaps > solved.tol)
    if bad.size:
        k = bad[-1]
        scaled = solved.gaps[k] / yy_over_n if yy_over_n > 0 else np.inf
        warnings.warn(
            f"coordinate descent did not converge within max_iter={max_iter} sweeps for "
            f"{bad.size} alpha(s); at alpha={solved.alphas[k]:.4g} the duality gap reached "
            f"{solved.gaps[k]:.3e} (gap/(‖y‖²/n) = {scaled:.3e} > tol). "
            "Increase max_iter or tol, or standardise the features.",
            ConvergenceWarning,
            stacklevel=3,
        )


def check_path_alphas(alphas: Any) -> Array:
    grid = check_alphas(alphas)
    if (grid == 0).any():
        raise ValueError(
            "alpha=0 is unpenalised least squares, which coordinate descent solves poorly; "
            "use gradstat.ols (or Ridge(alpha=0))"
        )
    return np.sort(grid)[::-1].copy()


def enet_path(
    X: Any,
    y: Any,
    *,
    l1_ratio: float = 0.5,
    alphas: Any = None,
    n_alphas: int = 100,
    eps: float = 1e-3,
    tol: float = 1e-4,
    max_iter: int = 1000,
    precompute: Precompute = "auto",
    fit_intercept: bool = False,
    standardize: bool = False,
) -> tuple[Array, Array]:
    """Elastic-net coefficients along a decreasing α grid → ``(alphas, coefs)``.

    ``coefs`` has shape (n_features, n_alphas), on the original scale of X.
    As in scikit-learn the default fits no intercept (centre the data, or pass
    ``fit_intercept=True``).
    """
    Xa = check_X(X)
    ya = check_y(y, Xa.shape[0])
    ratio = check_l1_ratio(l1_ratio)
    Xs, yc, _, _, x_scale = center_scale(Xa, ya, fit_intercept, standardize)
    Xy = Xs.T @ yc
    if alphas is None:
        grid = alpha_grid(Xy, Xa.shape[0], ratio, check_positive_int(n_alphas, "n_alphas"), eps)
    else:
        grid = check_path_alphas(alphas)
    iters = check_positive_int(max_iter, "max_iter")
    solved = solve_path(
        Xs, yc, grid, ratio, tol=check_tol(tol), max_iter=iters, precompute=precompute, Xy=Xy
    )
    warn_unconverged(solved, iters, float(yc @ yc) / Xa.shape[0])
    return grid, solved.coefs / x_scale[:, None]


def lasso_path(
    X: Any,
    y: Any,
    *,
    alphas: Any = None,
    n_alphas: int = 100,
    eps: float = 1e-3,
    tol: float = 1e-4,
    max_iter: int = 1000,
    precompute: Precompute = "auto",
    fit_intercept: bool = False,
    standardize: bool = False,
) -> tuple[Array, Array]:
    """Lasso coefficients along a decreasing α grid → ``(alphas, coefs)``; see ``enet_path``."""
    return enet_path(
        X, y, l1_ratio=1.0, alphas=alphas, n_alphas=n_alphas, eps=eps, tol=tol,
        max_iter=max_iter, precompute=precompute, fit_intercept=fit_intercept,
        standardize=standardize,
    )


class ElasticNet(LinearRegressor):
    """Elastic net, minimising 1/(2n)‖y − Xβ − b‖² + α(ρ‖β‖₁ + (1 − ρ)/2 ‖β‖²), ρ = l1_ratio.

    Attributes: ``coef_``, ``intercept_``, ``n_iter_`` (coordinate sweeps),
    ``dual_gap_`` (in the objective's units).

    ``fit(X, y, sample_weight)`` minimises 1/(2Σwᵢ) Σ wᵢ(yᵢ − xᵢ'β − b)² + the same penalty
    (scikit-learn's semantics: the weights are rescaled to sum to n, so their scale does not
    matter, and the centring uses weighted means).
    """

    def __init__(
        self,
        alpha: float = 1.0,
        l1_ratio: float = 0.5,
        fit_intercept: bool = True,
        standardize: bool = False,
        precompute: Precompute = "auto",
        max_iter: int = 1000,
        tol: float = 1e-4,
    ) -> None:
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:
        alpha = check_alpha(self.alpha)
        ratio = check_l1_ratio(self.l1_ratio)
        iters = check_positive_int(self.max_iter, "max_iter")
        tol = check_tol(self.tol)
        Xa, ya = self._validate_fit(X, y)
        grid = check_path_alphas([alpha])
        sw = normalised_weights(sample_weight, Xa.shape[0])
        Xs, yc, x_off, y_off, x_scale = center_scale(
            Xa, ya, self.fit_intercept, self.standardize, sw
        )
        solved = solve_path(
            Xs, yc, grid, ratio, tol=tol, max_iter=iters, precompute=self.precompute
        )
        warn_unconverged(solved, iters, float(yc @ yc) / Xa.shape[0])
        self.coef_ = solved.coefs[:, 0] / x_scale
        self.intercept_ = float(y_off - x_off @ self.coef_)
        self.n_iter_ = int(solved.n_iter[0])
        self.dual_gap_ = float(solved.gaps[0])
        return self


class Lasso(ElasticNet):
    """Lasso, minimising 1/(2n)‖y − Xβ − b‖² + α‖β‖₁ (``ElasticNet`` with l1_ratio = 1)."""

    def __init__(
        self,
        alpha: float = 1.0,
        fit_intercept: bool = True,
        standardize: bool = False,
        precompute: Precompute = "auto",
        max_iter: int = 1000,
        tol: float = 1e-4,
    ) -> None:
        super().__init__(
            alpha=alpha, l1_ratio=1.0, fit_intercept=fit_intercept, standardize=standardize,
            precompute=precompute, max_iter=max_iter, tol=tol,
        )
