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
    """Elastic-net coefficients along a decreasing α grid, with warm starts.

    Minimises 1/(2n)‖y − Xβ − b‖² + α(ρ‖β‖₁ + (1 − ρ)/2 ‖β‖²) for every α on the grid. As in
    scikit-learn the default fits no intercept (centre the data, or pass ``fit_intercept=True``).

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
        The design.
    y : array-like, shape (n_samples,)
        The response.
    l1_ratio : float, default 0.5
        ρ in [0, 1].
    alphas : array-like, optional
        The grid; by default ``n_alphas`` log-spaced values from α_max down to ``eps`` · α_max.
    n_alphas : int, default 100
        Grid size when ``alphas`` is not given.
    eps : float, default 1e-3
        Ratio of the smallest to the largest α on the default grid.
    tol, max_iter, precompute, standardize
        As in :class:`ElasticNet`.
    fit_intercept : bool, default False
        Centre X and y first.

    Returns
    -------
    alphas : numpy.ndarray
        The grid, decreasing, shape (n_alphas,).
    coefs : numpy.ndarray
        β̂(α), shape (n_features, n_alphas), on the original scale of X.
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
    """Lasso coefficients along a decreasing α grid: :func:`enet_path` with l1_ratio = 1.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
        The design.
    y : array-like, shape (n_samples,)
        The response.
    alphas, n_alphas, eps, tol, max_iter, precompute, fit_intercept, standardize
        As in :func:`enet_path`.

    Returns
    -------
    alphas : numpy.ndarray
        The grid, decreasing.
    coefs : numpy.ndarray
        β̂(α), shape (n_features, n_alphas).

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import lasso_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 3))
    >>> y = X @ [2.0, 0.0, -1.0] + 0.1 * rng.normal(size=50)
    >>> alphas, coefs = lasso_path(X - X.mean(0), y - y.mean(), n_alphas=5)
    >>> coefs.shape, bool(abs(coefs[:, 0]).max() < 1e-12)     # at α_max every coefficient is zero
    ((3, 5), True)
    >>> (coefs[:, -1] != 0).tolist()                             # at the smallest α all are in
    [True, True, True]
    """
    return enet_path(
        X, y, l1_ratio=1.0, alphas=alphas, n_alphas=n_alphas, eps=eps, tol=tol,
        max_iter=max_iter, precompute=precompute, fit_intercept=fit_intercept,
        standardize=standardize,
    )


class ElasticNet(LinearRegressor):
    """Elastic net, minimising 1/(2n)‖y − Xβ − b‖² + α(ρ‖β‖₁ + (1 − ρ)/2 ‖β‖²), ρ = l1_ratio.

    scikit-learn's objective; solved by coordinate descent (compiled), convergence judged by the
    duality gap.

    Parameters
    ----------
    alpha : float, default 1.0
        Overall penalty α ≥ 0.
    l1_ratio : float, default 0.5
        ρ in [0, 1]: 1 is the lasso, 0 ridge (with this objective's scaling).
    fit_intercept : bool, default True
        Fit an unpenalised intercept (X and y are centred first).
    standardize : bool, default False
        Penalise standardised coefficients (columns scaled to unit population SD);
        ``coef_`` is always reported on the original scale of X.
    precompute : {"auto", True, False}, default "auto"
        Coordinate descent on the Gram matrix X'X (``True``; pays when n > p) or on residuals.
    max_iter : int, default 1000
        Most coordinate sweeps per α.
    tol : float, default 1e-4
        Convergence when the duality gap falls below ``tol`` times ‖y‖²/n (scikit-learn's scaling).

    Attributes
    ----------
    coef_ : numpy.ndarray
        β̂ on the original scale of X.
    intercept_ : float
        b̂.
    n_iter_ : int
        Coordinate sweeps used.
    dual_gap_ : float
        Final duality gap, in the objective's units.

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` sweeps do not reach ``tol``.

    Notes
    -----
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
    """Lasso, minimising 1/(2n)‖y − Xβ − b‖² + α‖β‖₁ (:class:`ElasticNet` with l1_ratio = 1).

    The notes leave the scaling of λ open; this is scikit-learn's, so α here is sklearn's α
    (glmnet's λ with the same 1/(2n)).

    Parameters
    ----------
    alpha : float, default 1.0
        Penalty α ≥ 0.
    fit_intercept : bool, default True
        Fit an unpenalised intercept (X and y are centred first).
    standardize : bool, default False
        Penalise standardised coefficients (columns scaled to unit population SD);
        ``coef_`` is always reported on the original scale of X.
    precompute : {"auto", True, False}, default "auto"
        Coordinate descent on the Gram matrix X'X (``True``; pays when n > p) or on residuals.
    max_iter : int, default 1000
        Most coordinate sweeps per α.
    tol : float, default 1e-4
        Convergence when the duality gap falls below ``tol`` times ‖y‖²/n (scikit-learn's scaling).

    Attributes
    ----------
    coef_ : numpy.ndarray
        β̂ on the original scale of X; exact zeros for the dropped predictors.
    intercept_ : float
        b̂.
    n_iter_ : int
        Coordinate sweeps used.
    dual_gap_ : float
        Final duality gap.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import Lasso
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 4))
    >>> y = 3.0 * X[:, 0] + 0.1 * rng.normal(size=100)
    >>> (Lasso(alpha=0.1).fit(X, y).coef_ != 0).tolist()     # only the real predictor survives
    [True, False, False, False]
    """

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
