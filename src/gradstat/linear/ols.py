"""Entry points: ``ols(formula, data)`` and the scikit-learn estimator ``OLS``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from formulaic import Formula

from gradstat.estimator import Estimator, RegressorMixin
from gradstat.linear.design import INTERCEPT, Design, Missing, build_design, check_residual_df
from gradstat.linear.formula_grammar import check_formula_grammar
from gradstat.linear.lstsq import least_squares
from gradstat.linear.results import CovType, OLSResults, OutOfCoreOLSResults, warn_aliased
from gradstat.linear.streaming import is_frame_iterable, ols_stream
from gradstat.validation import check_flag, check_weights, feature_names


def is_dask_collection(data: Any) -> bool:
    """A Dask DataFrame or Array, recognised without importing dask."""
    return type(data).__module__.split(".")[0] == "dask"


def ols(
    formula: str,
    data: Any,
    *,
    missing: Missing = "raise",
    cov_type: CovType = "nonrobust",
    weights: Any = None,
    rank_tol: float | None = None,
    safe: bool = True,
) -> OLSResults | OutOfCoreOLSResults:
    """Fit a linear model given by a formula, by least squares: β̂ minimises ‖y − Xβ‖².

    β̂ = (X'X)⁻¹X'y is the estimator; it is computed by a Householder QR of the design (never
    an inverse), refined in extended precision when the design is ill-conditioned.

    Parameters
    ----------
    formula : str
        R/patsy-style formula, e.g. ``"mpg ~ wt + hp + C(cyl)"``. ``C(g)`` (or a text column)
        gives k − 1 treatment dummies against the first level; ``poly(x, d, raw=True)`` a
        polynomial; ``- 1`` drops the intercept.
    data : pandas.DataFrame, dask.dataframe.DataFrame, iterable of DataFrames or callable
        The rows. Out of core, with the same numbers as in memory (to rounding): a Dask
        DataFrame (partitions reduced by TSQR on the active scheduler), or an iterable of
        DataFrames / a callable returning one, e.g. ``pd.read_csv(path, chunksize=100_000)``.
        Out-of-core fits keep no rows: fitted values, residuals and leverage raise.
    missing : {"raise", "drop"}, default "raise"
        ``"raise"``: NaN in a used column is an error naming the columns and the number of rows.
        ``"drop"``: fit the complete rows; the summary says how many were dropped.
    cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3"}, default "nonrobust"
        Classical covariance σ̂²(X'X)⁻¹, or a heteroscedasticity-consistent sandwich.
    weights : str or array-like, optional
        A column name or one non-negative number per row: weighted least squares as R's
        ``lm(weights=)``, minimising Σ wᵢ(yᵢ − xᵢ'β)²; a row of weight 0 is left out of the fit
        and of n, a row with a missing weight is missing (dropped with ``missing="drop"``).
    rank_tol : float, optional
        ``None`` aliases a column only where the refined solver could not give a trustworthy
        solution (see :mod:`gradstat.linear.lstsq`); ``rank_tol=1e-7`` is R's ``lm`` rule.
    safe : bool, default True
        Check the formula against a grammar of column names, arithmetic and known transforms
        before anything is evaluated (always on at the command line); ``False`` lets formulaic
        evaluate any Python in it, for trusted formulas only.

    Returns
    -------
    OLSResults or OutOfCoreOLSResults
        The fit with every statistic as an attribute; an :class:`OutOfCoreOLSResults` for a Dask
        DataFrame or an iterable of DataFrames (no row-level quantities).

    Raises
    ------
    ValueError
        For an unknown column (with a suggestion), missing or infinite values, a constant
        response, or fewer rows than columns.

    Warns
    -----
    CollinearityWarning
        When columns are linear combinations of earlier ones (their coefficients are NaN).

    See Also
    --------
    OLS : the same fit as a scikit-learn estimator.
    compare : nested-model F-test.

    Examples
    --------
    >>> import gradstat
    >>> from gradstat import datasets
    >>> fit = gradstat.ols("mpg ~ wt + hp", data=datasets.load("mtcars"))
    >>> fit.coef.round(4)
    Intercept    37.2273
    wt           -3.8778
    hp           -0.0318
    Name: coef, dtype: float64
    >>> fit.df_resid, round(fit.r_squared, 4)
    (29, 0.8268)
    """
    if check_flag(safe, "safe"):
        check_formula_grammar(formula)
    if weights is not None:
        if is_dask_collection(data) or is_frame_iterable(data):
            raise ValueError("weights= is supported for in-memory data only (a pandas DataFrame)")
        frame, w, n_dropped = weighted_rows(formula, data, weights, missing)
        design = build_design(formula, frame, missing=missing)
        design = replace(design, n_dropped=n_dropped)
        return fit_design(design, cov_type, weights=w, rank_tol=rank_tol)
    if is_dask_collection(data):
        from gradstat.linear.distributed import ols_dask

        return ols_dask(formula, data, missing=missing, cov_type=cov_type, rank_tol=rank_tol)
    if is_frame_iterable(data):
        return ols_stream(formula, data, missing=missing, cov_type=cov_type, rank_tol=rank_tol)
    return fit_design(build_design(formula, data, missing=missing), cov_type, rank_tol=rank_tol)


def weighted_rows(
    formula: str, data: Any, weights: Any, missing: Missing
) -> tuple[pd.DataFrame, np.ndarray, int]:
    """The rows to fit and their weights: rows with a missing value (weight included) dropped or refused."""
    if missing not in ("raise", "drop"):
        raise ValueError(f"missing must be 'raise' or 'drop', got {missing!r}")
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    if isinstance(weights, str):
        if weights not in frame.columns:
            raise ValueError(
                f"weights={weights!r} is not a column of the data; available columns: "
                f"{', '.join(map(str, frame.columns))}"
            )
        values = frame[weights]
        label = f"weights column {weights!r}"
    else:
        values = weights
        label = "weights"
    w = check_weights(values, len(frame), label, allow_nan=True)
    used = [c for c in map(str, Formula(formula).required_variables) if c in frame.columns]
    incomplete = frame[used].isna().any(axis=1).to_numpy() | np.isnan(w)
    if np.isnan(w).any() and missing == "raise":
        raise ValueError(
            f"{label} has {int(np.isnan(w).sum())} missing value(s) (NaN); "
            "pass missing='drop' to fit on the rows with a weight"
        )
    if missing == "drop" and incomplete.any():
        return frame.loc[~incomplete], w[~incomplete], int(incomplete.sum())
    return frame, w, 0


def fit_design(
    design: Design,
    cov_type: CovType = "nonrobust",
    weights: np.ndarray | None = None,
    rank_tol: float | None = None,
) -> OLSResults:
    """Solve a materialised design and wrap the inference around it.

    With ``weights`` the rows of positive weight are fitted, each multiplied by √wᵢ.
    """
    X, y = design.X, design.y
    if weights is not None:
        positive = weights > 0
        if not positive.any():
            raise ValueError(f"every weight is 0: no rows to fit {design.formula!r}")
        root_w = np.sqrt(weights[positive])
        X, y = X[positive] * root_w[:, None], y[positive] * root_w
        raw_y = design.y[positive]
    else:
        raw_y = y
    n = X.shape[0]
    if n == 0:
        raise ValueError(f"no rows to fit {design.formula!r}")
    if np.ptp(raw_y) == 0.0:
        raise ValueError(
            f"response {design.response!r} is constant (every value {raw_y[0]:g}): "
            "there is nothing to explain"
        )
    check_residual_df(design, n)
    solution = least_squares(X, y, rank_tol=rank_tol)
    warn_aliased(design, solution.aliased, stacklevel=3)
    return OLSResults(design, solution, cov_type, weights=weights)


class OLS(RegressorMixin, Estimator):
    """Ordinary least squares as a scikit-learn regressor; ``results_`` holds the full inference.

    Minimises ‖y − Xβ − b‖² over β and the intercept b.

    Parameters
    ----------
    fit_intercept : bool, default True
        Add an intercept column. With ``False`` a constant column in X counts as the intercept
        (centred R² and F-test, as statsmodels does).
    cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3"}, default "nonrobust"
        Covariance of the coefficients, as in :func:`ols`.

    Attributes
    ----------
    coef_ : numpy.ndarray
        Slopes, one per column of X (aliased columns 0).
    intercept_ : float
        The intercept (0.0 without one).
    results_ : OLSResults or OutOfCoreOLSResults
        The full inference. Coefficients are named by DataFrame column, or ``x0, x1, …`` for
        arrays; the intercept is ``Intercept``.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import OLS
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0]])
    >>> model = OLS().fit(X, [1.1, 2.9, 5.2, 6.8, 9.1])
    >>> round(model.intercept_, 4), model.coef_.round(4).tolist()
    (1.04, [1.99])
    >>> model.results_.std_err.round(4).tolist()
    [0.1463, 0.0597]
    """

    results_: OLSResults | OutOfCoreOLSResults

    def __init__(self, fit_intercept: bool = True, cov_type: CovType = "nonrobust") -> None:
        self.fit_intercept = fit_intercept
        self.cov_type = cov_type

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> OLS:
        """Least squares of y on X; ``sample_weight`` gives weighted least squares (see ``ols``)."""
        check_flag(self.fit_intercept, "fit_intercept")
        if is_dask_collection(X) or is_dask_collection(y):
            if sample_weight is not None:
                raise ValueError("sample_weight is supported for in-memory X and y only")
            return self._fit_dask(X, y)
        Xa, ya = self._validate_fit(X, y, min_samples=2)
        weights = None if sample_weight is None else check_weights(sample_weight, Xa.shape[0])
        given_names = feature_names(X)
        names = [f"x{j}" for j in range(Xa.shape[1])] if given_names is None else list(given_names)
        if self.fit_intercept:
            Xa = np.column_stack([np.ones(Xa.shape[0]), Xa])
            names = [INTERCEPT, *names]
        has_const = self.fit_intercept or bool(np.any((np.ptp(Xa, axis=0) == 0.0) & (Xa[0] != 0.0)))
        index = X.index if isinstance(X, pd.DataFrame) else None
        design = Design(
            X=Xa,
            y=ya,
            column_names=names,
            terms={name: [j] for j, name in enumerate(names)},
            has_intercept=has_const,
            response=str(getattr(y, "name", None) or "y"),
            formula=f"{getattr(y, 'name', None) or 'y'} ~ {' + '.join(names)}",
            row_labels=index if index is not None else pd.RangeIndex(Xa.shape[0]),
            n_dropped=0,
        )
        self.results_ = fit_design(design, self.cov_type, weights)
        coef = np.nan_to_num(self.results_.coef.to_numpy(), nan=0.0)
        self.intercept_ = float(coef[0]) if self.fit_intercept else 0.0
        self.coef_ = coef[1:] if self.fit_intercept else coef
        return self

    def _fit_dask(self, X: Any, y: Any) -> OLS:
        """Dask arrays chunked by rows (X and y with the same row chunks): TSQR over the chunks."""
        if not (is_dask_collection(X) and is_dask_collection(y)):
            raise TypeError(
                f"X and y must both be Dask collections or both in memory; got {type(X).__name__} "
                f"and {type(y).__name__}"
            )
        from gradstat.linear.distributed import fit_arrays

        self.results_ = fit_arrays(X, y, self.fit_intercept, self.cov_type)
        names = self.results_.design.column_names[1 if self.fit_intercept else 0 :]
        self.n_features_in_ = len(names)
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray(names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        coef = np.nan_to_num(self.results_.coef.to_numpy(), nan=0.0)
        self.intercept_ = float(coef[0]) if self.fit_intercept else 0.0
        self.coef_ = coef[1:] if self.fit_intercept else coef
        return self

    def predict(self, X: Any) -> np.ndarray:
        Xa = self._validate_predict(X, "coef_")
        return Xa @ self.coef_ + self.intercept_
