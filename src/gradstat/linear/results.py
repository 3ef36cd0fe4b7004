"""The fitted linear model and its inference: the numbers of the notes' chapter DL2.

With p predictors plus an intercept on n rows (errata: p excludes the intercept):

* β̂ minimises (y − Xβ)'(y − Xβ), solved by QR (never an explicit (X'X)⁻¹),
* cov(β̂) = σ̂²(X'X)⁻¹ with σ̂² = SSE/(n − p − 1); se(β̂ᵢ) = √cov_ii,
* T = β̂ᵢ / se(β̂ᵢ) ~ t(n − p − 1) tests H0: βᵢ = 0,
* SST = SSR + SSE, R² = SSR/SST, F = (SSR/p) / (SSE/(n − p − 1)) ~ F(p, n − p − 1).

Without an intercept the residual df is n − p and R², SSR and SST are uncentred (R's convention).
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from gradstat.linear.base import ResultsBase
from gradstat.linear.design import Design, new_design
from gradstat.linear.lstsq import LeastSquaresFit
from gradstat.linear.polynomial import reparametrise
from gradstat.validation import check_flag

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from gradstat.linear.summary import Summary

CovType = Literal["nonrobust", "HC0", "HC1", "HC2", "HC3"]
COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3")


class CollinearityWarning(UserWarning):
    """Some columns are linear combinations of earlier ones; their coefficients are not estimable.

    The estimable part is fitted (R's behaviour); the aliased coefficients are NaN and named in
    the message and in :attr:`OLSResults.aliased`.

    Parameters
    ----------
    message : str
        Names the formula and the aliased columns.
    """


def warn_aliased(design: Design, aliased: np.ndarray, stacklevel: int) -> None:
    """Name the aliased columns (R's behaviour: fit the estimable part, report the rest as NaN)."""
    if not aliased.any():
        return
    names = [c for c, a in zip(design.column_names, aliased, strict=True) if a]
    warnings.warn(
        f"{design.formula!r}: column(s) {names} are linear combinations of earlier columns "
        "(perfect collinearity); their coefficients are not estimable and are reported as NaN",
        CollinearityWarning,
        stacklevel=stacklevel + 1,
    )


class OLSResults(ResultsBase):
    """A least-squares fit with its inference. Every statistic is a named attribute.

    Made by :func:`ols` and :meth:`OLS.fit`, not constructed directly. Below, n is the number
    of rows, p the number of predictors without the intercept (``df_model``), X the design
    (with its column of ones) and e = y − ŷ the residuals.

    Parameters
    ----------
    design : Design
        The design matrix, response and column names built from the formula.
    solution : LeastSquaresFit
        The least-squares solution (coefficients, R factor, rank, residuals).
    cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3"}, default "nonrobust"
        Covariance of the coefficients.
    meat : numpy.ndarray, optional
        The HC sandwich's Σᵢ ωᵢ sᵢsᵢ' when the rows are not held (summed over blocks).

    Attributes
    ----------
    coef : pandas.Series
        β̂, by term name (NaN for aliased columns).
    std_err : pandas.Series
        se(β̂ᵢ) = √[cov]ᵢᵢ.
    t_values : pandas.Series
        tᵢ = β̂ᵢ / se(β̂ᵢ), for H0: βᵢ = 0.
    p_values : pandas.Series
        2 P(T > |tᵢ|), T ~ t(df_resid).
    cov : pandas.DataFrame
        σ̂²(X'X)⁻¹, or the sandwich (X'X)⁻¹ X' diag(ωᵢ) X (X'X)⁻¹ for HC0–HC3.
    sse, ssr, sst : float
        SSE = e'e; SSR = (ŷ − ȳ)'(ŷ − ȳ); SST = (y − ȳ)'(y − ȳ) (uncentred without intercept).
    sigma2 : float
        σ̂² = SSE / df_resid.
    r_squared, adj_r_squared : float
        R² = SSR / SST; adjusted 1 − (1 − R²)(n − 1)/df_resid.
    f_statistic, f_p_value : float
        Omnibus F = (SSR/p) / σ̂² for H0: every slope is 0, on (p, df_resid) df.
    df_model, df_resid : int
        p (rank less the intercept) and n − p − 1 (n − rank).
    nobs, n_dropped : int
        Rows fitted and rows dropped for missing values.
    aliased : list of str
        Columns left out for perfect collinearity.

    Examples
    --------
    >>> import gradstat
    >>> from gradstat import datasets
    >>> fit = gradstat.ols("mpg ~ wt + C(cyl)", data=datasets.load("mtcars"))
    >>> fit.std_err.round(4)
    Intercept      1.8878
    wt             0.7539
    C(cyl)[T.6]    1.3861
    C(cyl)[T.8]    1.6523
    Name: std_err, dtype: float64
    >>> fit.anova(by_term=True).index.tolist()
    ['wt', 'C(cyl)', 'Residuals']
    """

    def __init__(
        self,
        design: Design,
        solution: LeastSquaresFit,
        cov_type: CovType = "nonrobust",
        meat: np.ndarray | None = None,
    ) -> None:
        """``meat``: the HC sandwich's Σᵢ ωᵢ sᵢsᵢ' when the rows are not held (summed over blocks)."""
        if cov_type not in COV_TYPES:
            raise ValueError(f"cov_type must be one of {COV_TYPES}, got {cov_type!r}")
        self._meat = meat
        self.design = design
        self.solution = solution
        self.cov_type: CovType = cov_type
        names = design.column_names
        X, y = design.X, design.y
        n = design.nobs
        self.nobs = n
        self.n_dropped = design.n_dropped
        self.rank = solution.rank
        self.has_intercept = design.has_intercept
        self.df_resid = n - self.rank
        self.df_model = self.rank - 1 if self.has_intercept else self.rank
        self.aliased = [name for name, a in zip(names, solution.aliased, strict=True) if a]

        self.sse = float(solution.sse)
        if design.moments is None:
            y_bar = float(np.mean(y))
            y_bar += float(np.mean(y - y_bar))  # one correction step: ȳ to full precision
            centre = y_bar if self.has_intercept else 0.0
            self.sst = float(np.dot(y - centre, y - centre))
            self.ssr = float(np.dot(solution.fitted - centre, solution.fitted - centre))
        else:  # out of core: SST from the combined moments, SSR from the effects Q'y
            m = design.moments
            self.sst = m.m2 if self.has_intercept else m.m2 + n * m.mean**2
            self.ssr = _ssr_from_effects(names, solution, self.has_intercept, self.sst, self.sse)
        self.sigma2 = self.sse / self.df_resid
        # R² = SSR/SST: unlike 1 − SSE/SST it does not cancel when the fit explains little
        self.r_squared = self.ssr / self.sst
        df_total = n - 1 if self.has_intercept else n
        self.adj_r_squared = 1.0 - (1.0 - self.r_squared) * df_total / self.df_resid

        cov = self._covariance(X, solution)
        self._fit_cov = cov  # in the basis of the design's columns, for predictions
        coef = solution.coef
        if design.reparametrisation:  # poly(x, d, raw=True): report raw-power coefficients, exactly mapped
            coef, cov = reparametrise(coef, cov, design.reparametrisation)
        self.coef = pd.Series(coef, index=names, name="coef")
        self.cov = pd.DataFrame(cov, index=names, columns=names)
        self.std_err = pd.Series(np.sqrt(np.diag(cov)), index=names, name="std_err")
        self.t_values = pd.Series(self.coef / self.std_err, name="t_values")
        self.p_values = pd.Series(
            2.0 * stats.t.sf(np.abs(self.t_values.to_numpy()), self.df_resid), index=names, name="p_values"
        )
        self.f_statistic, self.f_p_value = self._omnibus_f()

    # -- row-level quantities (in-memory fits only) ------------------------------------------
    @property
    def fitted_values(self) -> pd.Series:
        """ŷ = Xβ̂ for the rows of the fit."""
        self.design.require_rows("fitted_values")
        return pd.Series(self.solution.fitted, index=self.design.row_labels, name="fitted")

    @property
    def resid(self) -> pd.Series:
        """e = y − ŷ for the rows of the fit."""
        self.design.require_rows("resid")
        return pd.Series(self.solution.resid, index=self.design.row_labels, name="resid")

    # -- covariance ---------------------------------------------------------------------------
    def _covariance(self, X: np.ndarray, sol: LeastSquaresFit) -> np.ndarray:
        """σ̂²(X'X)⁻¹, or the sandwich (X'X)⁻¹ X' diag(ωᵢ) X (X'X)⁻¹ for HC0–HC3."""
        if self.cov_type == "nonrobust":
            return self.sigma2 * sol.cov_unscaled
        meat = self._meat
        if meat is None:
            self.design.require_rows(f"cov_type={self.cov_type!r}")
            meat = sandwich_meat(X, sol.resid, sol, self.cov_type)
        if self.cov_type == "HC1":
            meat = meat * self.nobs / self.df_resid
        kept = ~sol.aliased
        out = np.full_like(sol.cov_unscaled, np.nan)
        out[np.ix_(kept, kept)] = (meat + meat.T) / 2.0
        return out

    def _omnibus_f(self) -> tuple[float, float]:
        """H0: every slope is 0. Classical: F = (SSR/p)/σ̂²; robust: the Wald F with the HC covariance."""
        if self.df_model == 0:
            return math.nan, math.nan
        if self.cov_type == "nonrobust":
            f = (self.ssr / self.df_model) / self.sigma2
        else:
            slopes = [n for n in self.coef.index if n != "Intercept" and n not in self.aliased]
            b = self.coef[slopes].to_numpy()
            v = self.cov.loc[slopes, slopes].to_numpy()
            f = float(b @ np.linalg.solve(v, b)) / len(slopes)
        return float(f), float(stats.f.sf(f, self.df_model, self.df_resid))

    # -- intervals and prediction ------------------------------------------------------------
    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """β̂ᵢ ± t(1 − α/2; df_resid) · se(β̂ᵢ), columns ``lower`` and ``upper``."""
        q = _t_quantile(level, self.df_resid)
        return pd.DataFrame({"lower": self.coef - q * self.std_err, "upper": self.coef + q * self.std_err})

    def predict(
        self,
        new_data: Any = None,
        interval: Literal["confidence", "prediction"] | None = None,
        level: float = 0.95,
    ) -> pd.Series | pd.DataFrame:
        """ŷ₀ = x₀'β̂; with ``interval`` also ŷ₀ ± t·se, se² = x₀'cov x₀ (+ σ̂² for a new observation)."""
        if new_data is None:
            self.design.require_rows("predict() without new data")
            X0, index = self.design.X, self.design.row_labels
        else:
            X0 = self._new_rows(new_data)
            index = getattr(new_data, "index", pd.RangeIndex(X0.shape[0]))
        if interval not in (None, "confidence", "prediction"):
            raise ValueError(f"interval must be None, 'confidence' or 'prediction', got {interval!r}")
        q = _t_quantile(level, self.df_resid)  # checked even when no interval is asked for
        kept = ~self.solution.aliased
        fit = X0[:, kept] @ self.solution.coef[kept]
        if interval is None:
            return pd.Series(fit, index=index, name="fit")
        if self.cov_type == "nonrobust":  # σ̂² x₀'(X'X)⁻¹x₀ = σ̂² ||R⁻ᵀx₀||²: no cancellation
            var = self.sigma2 * self.solution.leverage(X0)
        else:
            cov = self._fit_cov[np.ix_(kept, kept)]
            var = np.einsum("ij,jk,ik->i", X0[:, kept], cov, X0[:, kept])
        if interval == "prediction":
            var = var + self.sigma2
        half = q * np.sqrt(var)
        return pd.DataFrame({"fit": fit, "lower": fit - half, "upper": fit + half}, index=index)

    def _new_rows(self, new_data: Any) -> np.ndarray:
        if self.design.spec is not None:
            return new_design(self.design, new_data)
        X0 = np.asarray(new_data, dtype=np.float64)
        if X0.ndim == 1:
            X0 = X0.reshape(1, -1)
        k = len(self.design.column_names)
        if X0.shape[1] != k:
            raise ValueError(
                f"new data has {X0.shape[1]} columns, the model has {k}: {self.design.column_names}"
            )
        return X0

    # -- diagnostics --------------------------------------------------------------------------
    @property
    def leverage(self) -> pd.Series:
        """hᵢ = xᵢ'(X'X)⁻¹xᵢ, the diagonal of the hat matrix."""
        self.design.require_rows("leverage")
        return pd.Series(self.solution.leverage(self.design.X), index=self.design.row_labels, name="leverage")

    @property
    def cooks_distance(self) -> pd.Series:
        """Dᵢ = eᵢ² hᵢ / (rank · σ̂² (1 − hᵢ)²)."""
        h = self.leverage.to_numpy()
        d = self.resid.to_numpy() ** 2 * h / (self.rank * self.sigma2 * (1.0 - h) ** 2)
        return pd.Series(d, index=self.design.row_labels, name="cooks_distance")

    @property
    def standardized_resid(self) -> pd.Series:
        """rᵢ = eᵢ / (σ̂ √(1 − hᵢ)), R's rstandard."""
        h = self.leverage.to_numpy()
        r = self.resid.to_numpy() / np.sqrt(self.sigma2 * (1.0 - h))
        return pd.Series(r, index=self.design.row_labels, name="standardized_resid")

    # -- tables -------------------------------------------------------------------------------
    def anova(self, by_term: bool = False) -> pd.DataFrame:
        """The ANOVA table (Regression, Error, Total) or, with ``by_term``, sequential F-tests per term."""
        from gradstat.linear.anova import anova_by_term, anova_table

        return anova_by_term(self) if check_flag(by_term, "by_term") else anova_table(self)

    def coefficients(self, level: float = 0.95) -> pd.DataFrame:
        """One row per term: coef, std_err, t, p_value and the confidence interval."""
        ci = self.conf_int(level)
        return pd.DataFrame(
            {
                "coef": self.coef,
                "std_err": self.std_err,
                "t": self.t_values,
                "p_value": self.p_values,
                "lower": ci["lower"],
                "upper": ci["upper"],
            }
        )

    def summary(self, level: float = 0.95) -> Summary:
        from gradstat.linear.summary import Summary

        return Summary(self, level)

    def plot_diagnostics(self) -> Figure:
        from gradstat.linear.plots import plot_diagnostics

        return plot_diagnostics(self)

    def __repr__(self) -> str:
        return (
            f"<OLSResults {self.design.formula!r}: n={self.nobs}, rank={self.rank}, "
            f"R²={self.r_squared:.4f}, σ̂={math.sqrt(self.sigma2):.4g}>"
        )


def _ssr_from_effects(
    names: list[str], solution: LeastSquaresFit, has_intercept: bool, sst: float, sse: float
) -> float:
    """SSR = Σ effectsⱼ² over the kept columns after the intercept (uncentred: over all of them).

    The intercept's effect is √n ȳ, so dropping it centres the sum; an intercept that is not the
    first column (a constant column elsewhere) leaves SSR = SST − SSE.
    """
    effects = solution.effects
    if not has_intercept:
        return float(np.dot(effects, effects))
    if names and names[0] == "Intercept" and not solution.aliased[0]:
        return float(np.dot(effects[1:], effects[1:]))
    return sst - sse


def sandwich_meat(X: np.ndarray, resid: np.ndarray, sol: LeastSquaresFit, cov_type: str) -> np.ndarray:
    """Σᵢ ωᵢ sᵢsᵢ' with sᵢ = (X'X)⁻¹xᵢ (kept columns); ωᵢ = eᵢ² (HC0, HC1), eᵢ²/(1 − hᵢ) (HC2),
    eᵢ²/(1 − hᵢ)² (HC3). A sum over rows, so blocks of rows add (HC1's n/(n − p) comes after)."""
    kept = ~sol.aliased
    e2 = resid**2
    if cov_type in ("HC2", "HC3"):
        one_minus_h = 1.0 - sol.leverage(X)
        e2 = e2 / (one_minus_h if cov_type == "HC2" else one_minus_h**2)
    scores = X[:, kept] @ sol.cov_unscaled[np.ix_(kept, kept)]  # row i: xᵢ'(X'X)⁻¹
    return scores.T @ (scores * e2[:, None])


def _t_quantile(level: float, df: int) -> float:
    if isinstance(level, bool) or not isinstance(level, numbers.Real):
        raise TypeError(f"level must be a number in (0, 1), got {level!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return float(stats.t.ppf(0.5 + level / 2.0, df))
