"""Ridge regression: β̂ = (X'X + αI)⁻¹X'y on centred data, and its path from one SVD.

Objective (scikit-learn's scaling): ‖y − Xβ − b‖² + α‖β‖², the intercept b
not penalised — centring X and y removes it (errata, DL4).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Self

import numpy as np
import scipy.linalg

from gradstat.regularisation._base import LinearRegressor, center_scale
from gradstat.regularisation._validation import check_alpha, check_alphas
from gradstat.validation import Array, check_flag, check_weights, check_X, check_y


def _rank_deficient_error(rank: int, p: int) -> ValueError:
    return ValueError(
        f"ridge with alpha=0 is ordinary least squares, and this design is singular "
        f"(rank {rank} < {p} columns after centring): the solution is not unique. "
        "Use gradstat.ols for the rank-deficient fit, or pass alpha > 0."
    )


def _numerical_rank(d: Array, shape: tuple[int, int]) -> int:
    if d.size == 0 or d[0] == 0.0:
        return 0
    return int(np.sum(d > d[0] * max(shape) * np.finfo(np.float64).eps))


def ridge_solve(Xc: Array, yc: Array, alpha: float) -> Array:
    """β̂ = (X'X + αI)⁻¹X'y for centred ``Xc``, ``yc`` (the dual form when p > n)."""
    n, p = Xc.shape
    if alpha == 0.0:
        U, d, Vt = np.linalg.svd(Xc, full_matrices=False)
        rank = _numerical_rank(d, Xc.shape)
        if rank < p:
            raise _rank_deficient_error(rank, p)
        return np.asarray(Vt.T @ ((U.T @ yc) / d))
    if n >= p:
        A = Xc.T @ Xc
        A[np.diag_indices_from(A)] += alpha
        return np.asarray(scipy.linalg.solve(A, Xc.T @ yc, assume_a="pos"))
    # β̂ = X'(XX' + αI)⁻¹y, the same solution through the n×n system
    K = Xc @ Xc.T
    K[np.diag_indices_from(K)] += alpha
    return np.asarray(Xc.T @ scipy.linalg.solve(K, yc, assume_a="pos"))


def _is_dask(data: Any) -> bool:
    return type(data).__module__.split(".")[0] == "dask"


def ridge_from_r(
    R: Array, n: int, alpha: float, fit_intercept: bool, standardize: bool
) -> tuple[Array, float]:
    """Ridge from the triangle R of [1 | X | y] (or [X | y]): least squares on an augmented R.

    With R = [[r₀₀, r₀ₓ, r₀ᵧ], [0, Rₓₓ, rₓᵧ], [0, 0, rᵧᵧ]] the intercept absorbs the first row, and
    ‖y − b − Xβ‖² + α‖Dβ‖² is minimised by the least-squares solution of [Rₓₓ; √α D] β ≈ [rₓᵧ; 0],
    then b = (r₀ᵧ − r₀ₓ β)/r₀₀. D holds the column SDs ‖Rₓₓ[:, j]‖/√n when standardising, else I.
    """
    first = int(fit_intercept)
    r_xx, r_xy = R[first:-1, first:-1], R[first:-1, -1]
    p = r_xx.shape[1]
    scale = np.sqrt(np.sum(r_xx**2, axis=0) / n) if standardize else np.ones(p)
    if standardize and (scale == 0).any():
        raise ValueError(
            f"column(s) {np.flatnonzero(scale == 0).tolist()} of X are constant; they cannot be standardised"
        )
    augmented = np.vstack([r_xx, np.sqrt(alpha) * np.diag(scale)])
    rank = np.linalg.matrix_rank(augmented)
    if rank < p:
        raise _rank_deficient_error(int(rank), p)
    beta = np.linalg.lstsq(augmented, np.concatenate([r_xy, np.zeros(p)]), rcond=None)[0]
    intercept = float((R[0, -1] - R[0, 1:-1] @ beta) / R[0, 0]) if fit_intercept else 0.0
    return beta, intercept


class Ridge(LinearRegressor):
    """Ridge regression, minimising ‖y − Xβ − b‖² + α‖β‖².

    The intercept b is not penalised. Dask arrays (chunked by rows) are fitted out of core: the
    rows are reduced to the triangle R of [1 | X | y] by TSQR and ridge is least squares on the
    augmented [R; √α I].

    Parameters
    ----------
    alpha : float, default 1.0
        Penalty α ≥ 0 (α = 0 is least squares and needs a full-rank design).
    fit_intercept : bool, default True
        Fit an unpenalised intercept by centring X and y.
    standardize : bool, default False
        Penalise standardised coefficients (columns scaled to unit population SD); ``coef_`` is
        always reported on the original scale.

    Dask arrays (chunked by rows) are fitted out of core: the rows are reduced to the
    triangle R of [1 | X | y] by TSQR and ridge is least squares on an augmented R.

    ``fit(X, y, sample_weight)`` minimises Σ wᵢ(yᵢ − xᵢ'β − b)² + α‖β‖² (scikit-learn's
    semantics: the weights are not normalised, so multiplying them by k acts as α/k).

    Attributes
    ----------
    coef_ : numpy.ndarray
        β̂, one per column of X.
    intercept_ : float
        b̂ (0.0 without an intercept).

    See Also
    --------
    RidgeCV : α chosen by leave-one-out, GCV or k-fold cross-validation.
    ridge_path : β̂ for many α from one SVD.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import Ridge
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
    >>> y = np.array([1.0, 2.0, 3.0, 4.0])
    >>> Ridge(alpha=0.0).fit(X, y).coef_.round(6).tolist()     # least squares
    [1.0, 2.0]
    >>> Ridge(alpha=1.0).fit(X, y).coef_.round(4).tolist()     # shrunk towards 0
    [0.6667, 0.8571]
    >>> Xc, yc = X - X.mean(0), y - y.mean()                   # the same, from its formula
    >>> np.linalg.solve(Xc.T @ Xc + np.eye(2), Xc.T @ yc).round(4).tolist()
    [0.6667, 0.8571]
    """

    def __init__(self, alpha: float = 1.0, fit_intercept: bool = True, standardize: bool = False) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.standardize = standardize

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:
        alpha = check_alpha(self.alpha)
        check_flag(self.fit_intercept, "fit_intercept")
        check_flag(self.standardize, "standardize")
        if _is_dask(X) or _is_dask(y):
            if sample_weight is not None:
                raise ValueError("sample_weight is supported for in-memory X and y only")
            from gradstat.linear.distributed import r_factor_arrays

            R, n = r_factor_arrays(X, y, self.fit_intercept)
            self.n_features_in_ = R.shape[1] - 1 - int(self.fit_intercept)
            self.coef_, self.intercept_ = ridge_from_r(R, n, alpha, self.fit_intercept, self.standardize)
            return self
        Xa, ya = self._validate_fit(X, y)
        sw = None if sample_weight is None else check_weights(sample_weight, Xa.shape[0])
        Xs, yc, x_off, y_off, x_scale = center_scale(Xa, ya, self.fit_intercept, self.standardize, sw)
        self.coef_ = ridge_solve(Xs, yc, alpha) / x_scale
        self.intercept_ = float(y_off - x_off @ self.coef_)
        return self


class RidgePath(NamedTuple):
    """Ridge coefficients for every α, from one SVD of the (centred) design; :func:`ridge_path`
    returns it.

    Parameters
    ----------
    alphas : numpy.ndarray
        The penalties, shape (n_alphas,).
    coefs : numpy.ndarray
        β̂(α), shape (n_features, n_alphas).
    intercepts : numpy.ndarray
        b̂(α), shape (n_alphas,) (zeros without an intercept).
    df : numpy.ndarray
        Effective degrees of freedom df(α) = Σ d²/(d² + α), shape (n_alphas,).
    """

    alphas: Array
    coefs: Array  # (n_features, n_alphas)
    intercepts: Array  # (n_alphas,)
    df: Array  # effective degrees of freedom Σ d²/(d² + α) per α


def ridge_path(
    X: Any,
    y: Any,
    alphas: Any,
    *,
    fit_intercept: bool = False,
    standardize: bool = False,
) -> RidgePath:
    """Ridge coefficients for many α at once: β̂(α) = V diag(d/(d² + α)) U'y from one SVD X = UDV'.

    With ``fit_intercept=False`` (the default, as in the notes) this is exactly
    (X'X + αI)⁻¹X'y; with ``True`` X and y are centred first.

    Parameters
    ----------
    X : array-like, shape (n_samples, n_features)
        The design.
    y : array-like, shape (n_samples,)
        The response.
    alphas : array-like
        Penalties α ≥ 0, in any order.
    fit_intercept : bool, default False
        Centre X and y and report the intercepts.
    standardize : bool, default False
        Penalise standardised coefficients; reported on the original scale.

    Returns
    -------
    RidgePath
        ``alphas``, ``coefs`` (n_features, n_alphas), ``intercepts`` and ``df``.

    Raises
    ------
    ValueError
        For a negative or non-finite α, or X and y of different lengths.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import ridge_path
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> path = ridge_path(X, np.array([1.0, 2.0, 3.0]), [0.0, 1.0])
    >>> path.coefs.round(4)       # α = 1: (X'X + I)⁻¹X'y = [7, 11]/8
    array([[1.   , 0.875],
           [2.   , 1.375]])
    >>> path.df.tolist()          # X'X has eigenvalues 3 and 1: df(1) = 3/4 + 1/2
    [2.0, 1.25]
    """
    Xa = check_X(X)
    ya = check_y(y, Xa.shape[0])
    grid = check_alphas(alphas)
    Xs, yc, x_off, y_off, x_scale = center_scale(Xa, ya, fit_intercept, standardize)
    U, d, Vt = np.linalg.svd(Xs, full_matrices=False)
    if (grid == 0).any():
        rank = _numerical_rank(d, Xs.shape)
        if rank < Xs.shape[1]:
            raise _rank_deficient_error(rank, Xs.shape[1])
    d2 = d[:, None] ** 2
    shrink = d[:, None] / (d2 + grid[None, :])  # d / (d² + α), (k, n_alphas)
    coefs = (Vt.T @ (shrink * (U.T @ yc)[:, None])) / x_scale[:, None]
    intercepts = y_off - x_off @ coefs
    return RidgePath(grid, coefs, np.asarray(intercepts, dtype=np.float64), ridge_df(d, grid))


def ridge_df(singular_values: Array, alphas: Array) -> Array:
    """Effective degrees of freedom df(α) = tr H(α) = Σ d²/(d² + α)."""
    d2 = np.asarray(singular_values, dtype=np.float64)[:, None] ** 2
    return np.asarray(np.sum(d2 / (d2 + np.asarray(alphas)[None, :]), axis=0))
