"""Choosing the penalty by cross-validation: RidgeCV, LassoCV, ElasticNetCV.

k-fold splits are contiguous blocks in row order (scikit-learn's
``KFold(k)``), so cross-validated errors compare with scikit-learn's one to
one.  Besides the α of minimum CV error, the one-standard-error choice (the
largest α whose mean error is within one SE of the minimum, as glmnet
offers) is reported; ``selection`` picks which one the final fit uses.
"""

from __future__ import annotations

import numbers
from typing import Any, Literal, Self

import numpy as np
from numpy.typing import NDArray

from gradstat.regularisation._base import LinearRegressor, center_scale
from gradstat.regularisation._validation import (
    check_alphas,
    check_l1_ratio,
    check_positive_int,
    check_tol,
)
from gradstat.regularisation.lasso import (
    Precompute,
    SolvedPath,
    alpha_grid,
    check_path_alphas,
    normalised_weights,
    solve_path,
    solve_path_gram,
    use_gram,
    warn_unconverged,
)
from gradstat.regularisation.ridge import ridge_df, ridge_solve
from gradstat.validation import Array, check_weights

Selection = Literal["min", "1se"]


def kfold(n_samples: int, n_folds: int) -> list[tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """(train, test) index pairs of k contiguous folds; the first n mod k get one extra row."""
    if n_folds < 2:
        raise ValueError(f"cv must be at least 2 folds; got {n_folds}")
    if n_samples < n_folds:
        raise ValueError(
            f"n_samples={n_samples} is fewer than the cv={n_folds} folds; "
            "use fewer folds or more samples"
        )
    sizes = np.full(n_folds, n_samples // n_folds)
    sizes[: n_samples % n_folds] += 1
    stops = np.cumsum(sizes)
    idx = np.arange(n_samples)
    return [
        (np.concatenate([idx[: stop - size], idx[stop:]]), idx[stop - size : stop])
        for size, stop in zip(sizes, stops, strict=True)
    ]


def _fold_mse(y: Array, pred: Array, sw: Array | None, test: NDArray[np.intp]) -> Array:
    """Mean squared error of a test fold per α (weighted by the fold's sample weights)."""
    weights = None if sw is None else sw[test]
    if weights is not None and weights.sum() == 0:
        raise ValueError(f"every sample_weight of the test fold of rows {test[0]}..{test[-1]} is 0")
    return np.asarray(np.average((y[:, None] - pred) ** 2, axis=0, weights=weights))


Folds = list[tuple[NDArray[np.intp], NDArray[np.intp]]]


def _check_cv(cv: Any) -> int:
    if isinstance(cv, bool) or not isinstance(cv, numbers.Integral):
        raise ValueError(
            f"cv must be an integer number of folds or a list of (train, test) index pairs; got {cv!r}"
        )
    return int(cv)


def is_splits(cv: Any) -> bool:
    """An explicit list of (train, test) index pairs, as scikit-learn's ``cv`` accepts."""
    return not isinstance(cv, str | bytes | numbers.Number) and cv is not None and hasattr(cv, "__iter__")


def make_folds(cv: Any, n: int) -> Folds:
    """k contiguous folds for an integer ``cv``; an iterable of (train, test) pairs checked and kept."""
    if not is_splits(cv):
        return kfold(n, _check_cv(cv))
    folds = []
    for i, pair in enumerate(cv):
        try:
            train, test = (np.asarray(part, dtype=np.intp).reshape(-1) for part in pair)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"cv split {i} is not a (train, test) pair of index arrays") from exc
        for part in (train, test):
            if part.size == 0 or part.min() < -n or part.max() >= n:
                raise ValueError(f"cv split {i} has an empty index set or an index outside 0..{n - 1}")
        folds.append((train, test))
    if len(folds) < 2:
        raise ValueError(f"cv must give at least 2 splits; got {len(folds)}")
    return folds


def one_se_choice(alphas: Array, mse: Array) -> tuple[int, int, Array, Array]:
    """Indices of the minimum-error α and the 1-SE α, with the mean and SE curves.

    ``mse`` has shape (n_alphas, n_folds); SE = SD over folds / √k.
    """
    mean = mse.mean(axis=1)
    se = mse.std(axis=1, ddof=1) / np.sqrt(mse.shape[1])
    i_min = int(np.argmin(mean))
    within = mean <= mean[i_min] + se[i_min]
    i_1se = int(np.flatnonzero(within & (alphas >= alphas[i_min]))[np.argmax(
        alphas[within & (alphas >= alphas[i_min])]
    )])
    return i_min, i_1se, mean, se


def _check_selection(selection: Any) -> Selection:
    if selection not in ("min", "1se"):
        raise ValueError(f"selection must be 'min' or '1se'; got {selection!r}")
    return selection


# ---------------------------------------------------------------------------
# Ridge
# ---------------------------------------------------------------------------


class RidgeCV(LinearRegressor):
    """Ridge with α chosen by exact leave-one-out (default), GCV, or k-fold cross-validation.

    From one SVD of the centred design X = UDV', for every α: hat values
    h_ii = [1/n] + Σ_j U_ij² d_j²/(d_j² + α), residuals r = y − U diag(d²/(d² + α)) U'y, and
    the exact leave-one-out errors r_i/(1 − h_ii); GCV replaces h_ii by tr H/n. Effective
    degrees of freedom df(α) = Σ d²/(d² + α).

    ``cv``: ``None`` (exact LOO), ``"gcv"``, an integer number of folds, or a list of
    (train, test) index pairs (scikit-learn's explicit splits).
    ``cv_mean_``/``cv_se_`` are the mean squared CV error per α and its SE
    (over observations for LOO/GCV, over folds for k-fold); ``best_score_`` is
    minus the chosen α's error, as in scikit-learn.

    With ``fit(X, y, sample_weight)`` every fit is weighted (``Ridge``'s semantics) and the
    errors are weighted: leave-one-out and GCV average wᵢ eᵢ² over the n rows (scikit-learn's
    ``RidgeCV``), k-fold takes the weighted mean squared error of each test fold.

    Parameters
    ----------
    alphas : array-like, default (0.1, 1.0, 10.0)
        Candidate penalties α > 0.
    fit_intercept : bool, default True
        Fit an unpenalised intercept.
    standardize : bool, default False
        Penalise standardised coefficients; reported on the original scale.
    cv : None, "gcv", int or list of (train, test) index pairs, default None
        ``None``: exact leave-one-out; ``"gcv"``: generalised CV; an integer: that many folds;
        explicit splits as scikit-learn's.
    selection : {"min", "1se"}, default "min"
        The α with the smallest mean error, or the largest within one standard error of it.

    Attributes
    ----------
    alpha_ : float
        The chosen α.
    coef_, intercept_
        The ridge fit at ``alpha_`` on all the data.
    cv_mean_, cv_se_ : numpy.ndarray
        Mean squared CV error per α and its standard error (over observations for LOO/GCV,
        over folds for k-fold).
    df_ : numpy.ndarray
        df(α) per α.
    best_score_ : float
        Minus the chosen α's error, as in scikit-learn.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import RidgeCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3))
    >>> y = X @ [1.0, 0.0, -1.0] + rng.normal(size=40)
    >>> model = RidgeCV(alphas=[0.01, 1.0, 100.0]).fit(X, y)
    >>> model.alpha_ in (0.01, 1.0, 100.0), model.cv_mean_.shape
    (True, (3,))
    """

    def __init__(
        self,
        alphas: Any = (0.1, 1.0, 10.0),
        fit_intercept: bool = True,
        standardize: bool = False,
        cv: Any = None,
        selection: Selection = "min",
    ) -> None:
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.cv = cv
        self.selection = selection

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:
        grid = check_alphas(self.alphas)
        selection = _check_selection(self.selection)
        Xa, ya = self._validate_fit(X, y, min_samples=3)
        n = Xa.shape[0]
        sw = None if sample_weight is None else check_weights(sample_weight, n)
        Xs, yc, x_off, y_off, x_scale = center_scale(
            Xa, ya, self.fit_intercept, self.standardize, sw
        )
        U, d, _ = np.linalg.svd(Xs, full_matrices=False)
        self.df_ = ridge_df(d, grid)
        if self.cv is None or self.cv == "gcv":
            if (grid == 0).any():
                raise ValueError("RidgeCV with cv=None or 'gcv' needs every alpha > 0")
            # S[j, a] = d_j²/(d_j² + α_a): the shrinkage of each principal direction
            d2 = d[:, None] ** 2
            S = d2 / (d2 + grid[None, :])
            resid = yc[:, None] - U @ (S * (U.T @ yc)[:, None])
            # the intercept's share of h_ii: wᵢ/Σw (1/n unweighted); its trace is 1
            h0 = (np.full(n, 1.0 / n) if sw is None else sw / sw.sum()) if self.fit_intercept else np.zeros(n)
            if self.cv is None:
                lev = h0[:, None] + (U * U) @ S  # h_ii(α), (n, n_alphas)
            else:
                lev = np.broadcast_to((float(self.fit_intercept) + S.sum(axis=0)) / n, resid.shape)
            if (lev >= 1.0 - 1e-12).any():
                raise ValueError(
                    "a leverage h_ii(α) is 1, so the leave-one-out error is undefined; "
                    "use larger alphas or k-fold cv"
                )
            self.cv_mean_ = np.mean((resid / (1.0 - lev)) ** 2, axis=0)
            self.cv_se_ = np.std((resid / (1.0 - lev)) ** 2, axis=0, ddof=1) / np.sqrt(n)
            i_min = int(np.argmin(self.cv_mean_))
            within = self.cv_mean_ <= self.cv_mean_[i_min] + self.cv_se_[i_min]
            i_1se = int(np.argmax(np.where(within, grid, -np.inf)))
        elif (isinstance(self.cv, numbers.Integral) and not isinstance(self.cv, bool)) or is_splits(self.cv):
            folds = make_folds(self.cv, n)
            self.mse_path_ = np.empty((grid.size, len(folds)))
            for k, (train, test) in enumerate(folds):
                Xt, yt, xo, yo, xs = center_scale(
                    Xa[train], ya[train], self.fit_intercept, self.standardize,
                    None if sw is None else sw[train],
                )
                Uk, dk, Vtk = np.linalg.svd(Xt, full_matrices=False)
                if (grid == 0).any() and dk[-1] <= dk[0] * max(Xt.shape) * 1e-16:
                    raise ValueError("alpha=0 on a singular training fold; use alphas > 0")
                coefs = (Vtk.T @ ((dk[:, None] / (dk[:, None] ** 2 + grid)) * (Uk.T @ yt)[:, None]))
                coefs /= xs[:, None]
                pred = Xa[test] @ coefs + (yo - xo @ coefs)
                self.mse_path_[:, k] = _fold_mse(ya[test], pred, sw, test)
            i_min, i_1se, self.cv_mean_, self.cv_se_ = one_se_choice(grid, self.mse_path_)
        else:
            raise ValueError(f"cv must be None (leave-one-out), 'gcv' or an int; got {self.cv!r}")
        self.alphas_ = grid
        self.alpha_min_ = float(grid[i_min])
        self.alpha_1se_ = float(grid[i_1se])
        self.alpha_ = self.alpha_min_ if selection == "min" else self.alpha_1se_
        self.best_score_ = -float(self.cv_mean_[grid == self.alpha_][0])
        self.effective_df_ = float(ridge_df(d, np.array([self.alpha_]))[0])
        self.coef_ = ridge_solve(Xs, yc, self.alpha_) / x_scale
        self.intercept_ = float(y_off - x_off @ self.coef_)
        return self


# ---------------------------------------------------------------------------
# Lasso / elastic net
# ---------------------------------------------------------------------------


class _FoldStats:
    """Per-fold sufficient statistics, so k training Gram matrices cost one X'X.

    X is centred once globally; block b holds G_b = X_b'X_b, X_b'y_b, Σx, Σy,
    y'y.  The training set of fold k sums all blocks but k; its centring and
    scaling act on the sums: G_c = G − n m m', X'y_c = X'y − n m ȳ.
    """

    def __init__(
        self, X: Array, y: Array, folds: list[tuple[NDArray[np.intp], NDArray[np.intp]]]
    ) -> None:
        self.xm = X.mean(axis=0)
        self.ym = float(y.mean())
        Xc = X - self.xm
        yc = y - self.ym
        self.blocks = []
        for _, test in folds:
            Xb, yb = Xc[test], yc[test]
            self.blocks.append((Xb.T @ Xb, Xb.T @ yb, Xb.sum(axis=0), yb.sum(), yb @ yb, test.size))
        self.total = tuple(sum(parts) for parts in zip(*self.blocks, strict=True))

    def training(
        self, leave_out: int | None, fit_intercept: bool, standardize: bool
    ) -> tuple[Array, Array, float, int, Array, float, Array]:
        """(G, X'y, y'y, n, x_offset, y_offset, x_scale) of all rows but block ``leave_out``."""
        G, Xy, sx, sy, yy, n = self.total
        if leave_out is not None:
            Gb, Xyb, sxb, syb, yyb, nb = self.blocks[leave_out]
            G, Xy, sx, sy, yy, n = G - Gb, Xy - Xyb, sx - sxb, sy - syb, yy - yyb, n - nb
        m = sx / n if fit_intercept else -self.xm
        my = sy / n if fit_intercept else -self.ym
        # statistics of X − m and y − my, from those of the globally centred data
        G = G - np.outer(sx, m) - np.outer(m, sx) + n * np.outer(m, m)
        Xy = Xy - sx * my - m * sy + n * m * my
        yy = yy - 2 * my * sy + n * my * my
        scale = np.ones(G.shape[0])
        if standardize:
            var = np.diag(G) / n
            if (var <= 0).any():
                raise ValueError(
                    f"column(s) {np.flatnonzero(var <= 0).tolist()} of X are constant in a "
                    "training fold; they cannot be standardised"
                )
            scale = np.sqrt(var)
            G = G / np.outer(scale, scale)
            Xy = Xy / scale
        return G, Xy, float(yy), int(n), m + self.xm, my + self.ym, scale


class ElasticNetCV(LinearRegressor):
    """Elastic net with α (and optionally l1_ratio) chosen by k-fold cross-validation.

    The α grid comes from the full data (``alpha_grid``); each training fold
    is solved along it with warm starts, and the mean squared test error per
    α is kept in ``mse_path_`` (n_alphas, n_folds) — for a list of l1_ratio,
    (n_l1_ratio, n_alphas, n_folds).

    With ``fit(X, y, sample_weight)`` (scikit-learn's semantics) each training fold is fitted
    with its weights rescaled to sum to its size, the α grid comes from the weighted full data,
    and each test fold's error is its weighted mean squared error.

    Parameters
    ----------
    l1_ratio : float or list of float, default 0.5
        ρ, or several ρ to choose among.
    eps : float, default 1e-3
        The α grid runs from the smallest α giving all-zero coefficients, α_max, down to
        ``eps`` · α_max.
    n_alphas : int, default 100
        Points on the grid (log-spaced).
    alphas : array-like, optional
        An explicit grid instead.
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
    cv : int, default 5
        Number of folds (contiguous, unshuffled, as scikit-learn's ``KFold``).
    selection : {"min", "1se"}, default "min"
        Choose the α with the smallest mean CV error, or the largest α within one standard
        error of it (glmnet's ``lambda.1se``).

    Attributes
    ----------
    alpha_, l1_ratio_ : float
        The chosen penalty and mixing.
    alpha_min_, alpha_1se_ : float
        The α of smallest mean error and the largest within one SE of it (glmnet's
        ``lambda.min`` and ``lambda.1se``).
    mse_path_ : numpy.ndarray
        Test MSE per α and fold, (n_alphas, n_folds), or (n_l1_ratio, n_alphas, n_folds).
    coef_, intercept_
        The fit at the chosen α on all the data.
    """

    def __init__(
        self,
        l1_ratio: Any = 0.5,
        eps: float = 1e-3,
        n_alphas: int = 100,
        alphas: Any = None,
        fit_intercept: bool = True,
        standardize: bool = False,
        precompute: Precompute = "auto",
        max_iter: int = 1000,
        tol: float = 1e-4,
        cv: Any = 5,
        selection: Selection = "min",
    ) -> None:
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.n_alphas = n_alphas
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.selection = selection

    def _l1_ratios(self) -> list[float]:
        ratios = np.atleast_1d(np.asarray(self.l1_ratio, dtype=object))
        if ratios.ndim != 1 or ratios.size == 0:
            raise ValueError(f"l1_ratio must be a number or a 1-D sequence; got {self.l1_ratio!r}")
        return [check_l1_ratio(r) for r in ratios]

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:
        ratios = self._l1_ratios()
        selection = _check_selection(self.selection)
        iters = check_positive_int(self.max_iter, "max_iter")
        n_alphas = check_positive_int(self.n_alphas, "n_alphas")
        tol = check_tol(self.tol)
        Xa, ya = self._validate_fit(X, y)
        n, p = Xa.shape
        folds = make_folds(self.cv, n)
        n_folds = len(folds)
        sw = None if sample_weight is None else check_weights(sample_weight, n)
        gram = use_gram(self.precompute, n, p)
        # the fold-Gram shortcut needs folds that partition the rows (k-fold)
        stats = _FoldStats(Xa, ya, folds) if gram and sw is None and not is_splits(self.cv) else None
        Xs, yc, x_off, y_off, x_scale = center_scale(
            Xa, ya, self.fit_intercept, self.standardize, normalised_weights(sw, n)
        )
        Xy_full = Xs.T @ yc
        grids = [
            alpha_grid(Xy_full, n, r, n_alphas, self.eps)
            if self.alphas is None
            else check_path_alphas(self.alphas)
            for r in ratios
        ]
        mse = np.empty((len(ratios), grids[0].size, n_folds))
        for i, (ratio, grid) in enumerate(zip(ratios, grids, strict=True)):
            for k, (train, test) in enumerate(folds):
                if stats is not None:
                    G, Xy, yy, nt, xo, yo, xs = stats.training(
                        k, self.fit_intercept, self.standardize
                    )
                    solved = solve_path_gram(G, Xy, yy, nt, grid, ratio, tol=tol, max_iter=iters)
                else:
                    Xt, yt, xo, yo, xs = center_scale(
                        Xa[train], ya[train], self.fit_intercept, self.standardize,
                        None if sw is None else normalised_weights(sw[train], train.size),
                    )
                    solved = solve_path(
                        Xt, yt, grid, ratio, tol=tol, max_iter=iters,
                        precompute=False if sw is None else self.precompute,
                    )
                coefs = solved.coefs / xs[:, None]
                pred = Xa[test] @ coefs + (yo - xo @ coefs)
                mse[i, :, k] = _fold_mse(ya[test], pred, sw, test)
        best = int(np.argmin([m.mean(axis=1).min() for m in mse]))
        grid = grids[best]
        i_min, i_1se, self.cv_mean_, self.cv_se_ = one_se_choice(grid, mse[best])
        self.mse_path_ = mse[0] if np.ndim(self.l1_ratio) == 0 else mse
        self.alphas_ = grid if np.ndim(self.l1_ratio) == 0 else np.array(grids)
        self.l1_ratio_ = ratios[best]
        self.alpha_min_ = float(grid[i_min])
        self.alpha_1se_ = float(grid[i_1se])
        chosen = i_min if selection == "min" else i_1se
        self.alpha_ = float(grid[chosen])
        # the final fit: the full data's path down to the chosen α, warm-started
        if stats is not None:
            G, Xy, yy, nt, _, _, _ = stats.training(None, self.fit_intercept, self.standardize)
            solved = solve_path_gram(
                G, Xy, yy, nt, grid[: chosen + 1], self.l1_ratio_, tol=tol, max_iter=iters
            )
        else:
            solved = solve_path(
                Xs, yc, grid[: chosen + 1], self.l1_ratio_, tol=tol, max_iter=iters,
                precompute=False, Xy=Xy_full,
            )
        last = SolvedPath(
            solved.alphas[-1:], solved.coefs[:, -1:], solved.gaps[-1:], solved.n_iter[-1:],
            solved.tol,
        )
        warn_unconverged(last, iters, float(yc @ yc) / n)
        self.coef_ = solved.coefs[:, -1] / x_scale
        self.intercept_ = float(y_off - x_off @ self.coef_)
        self.n_iter_ = int(solved.n_iter[-1])
        self.dual_gap_ = float(solved.gaps[-1])
        return self


class LassoCV(ElasticNetCV):
    """Lasso with α chosen by k-fold cross-validation (minimum or one-standard-error rule).

    Parameters
    ----------
    eps : float, default 1e-3
        The α grid runs from the smallest α giving all-zero coefficients, α_max, down to
        ``eps`` · α_max.
    n_alphas : int, default 100
        Points on the grid (log-spaced).
    alphas : array-like, optional
        An explicit grid instead.
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
    cv : int, default 5
        Number of folds (contiguous, unshuffled, as scikit-learn's ``KFold``).
    selection : {"min", "1se"}, default "min"
        Choose the α with the smallest mean CV error, or the largest α within one standard
        error of it (glmnet's ``lambda.1se``).

    Attributes
    ----------
    alpha_ : float
        The chosen α.
    alpha_min_, alpha_1se_ : float
        glmnet's ``lambda.min`` and ``lambda.1se`` (on this objective's scale).
    mse_path_ : numpy.ndarray
        Test MSE per α and fold, (n_alphas, n_folds).
    coef_, intercept_
        The lasso at ``alpha_`` on all the data.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import LassoCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 5))
    >>> y = X[:, 0] - 2 * X[:, 1] + rng.normal(size=80)
    >>> model = LassoCV(cv=5).fit(X, y)
    >>> model.alpha_1se_ >= model.alpha_min_
    True
    """

    def __init__(
        self,
        eps: float = 1e-3,
        n_alphas: int = 100,
        alphas: Any = None,
        fit_intercept: bool = True,
        standardize: bool = False,
        precompute: Precompute = "auto",
        max_iter: int = 1000,
        tol: float = 1e-4,
        cv: Any = 5,
        selection: Selection = "min",
    ) -> None:
        super().__init__(
            l1_ratio=1.0, eps=eps, n_alphas=n_alphas, alphas=alphas,
            fit_intercept=fit_intercept, standardize=standardize, precompute=precompute,
            max_iter=max_iter, tol=tol, cv=cv, selection=selection,
        )
