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
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from gradstat.linear.base import ResultsBase
from gradstat.linear.design import INTERCEPT, Design, DesignLayout, ResponseMoments, new_design
from gradstat.linear.explain import Explanation, Explanations, explain
from gradstat.linear.hypotheses import FTestResult, Hypothesis, TTestResult, as_hypothesis, f_test, t_test
from gradstat.linear.lstsq import LeastSquaresFit, least_squares
from gradstat.linear.polynomial import reparametrise
from gradstat.validation import check_flag

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from gradstat.linear.summary import Summary

CovType = Literal["nonrobust", "HC0", "HC1", "HC2", "HC3"]
COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3")


class PerfectFitWarning(UserWarning):
    """The residuals vanish next to the fitted values: t and F statistics are meaningless.

    R's ``summary.lm`` warns in the same case ("essentially perfect fit: summary may be
    unreliable"); the coefficients are still the least-squares solution.

    Parameters
    ----------
    message : str
        Names the formula and the size of the residuals against the fitted values.
    """


class CollinearityWarning(UserWarning):
    """Some columns are linear combinations of earlier ones; their coefficients are not estimable.

    The estimable part is fitted (R's behaviour); the aliased coefficients are NaN and named in
    the message and in :attr:`OLSResults.aliased`.

    Parameters
    ----------
    message : str
        Names the formula and the aliased columns.
    """


def warn_aliased(design: DesignLayout, aliased: np.ndarray, stacklevel: int) -> None:
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


class LinearResults(ResultsBase):
    """What every least-squares fit gives from its sufficient statistics: β̂, cov(β̂), the tests.

    The in-memory :class:`OLSResults` and the :class:`OutOfCoreOLSResults` of a Dask or streaming
    fit share it; every statistic here needs only the ``R`` factor of the design, ``Q'y``, SSE, n
    and the response's moments.

    Parameters
    ----------
    design : DesignLayout
        Column names, terms and the formula's coding (a :class:`Design` with rows in memory).
    solution : LeastSquaresFit
        The least-squares solution (coefficients, R factor, rank).
    nobs : int
        Rows fitted.
    cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3"}, default "nonrobust"
        Covariance of the coefficients.
    """

    weights: pd.Series | None = None  # one per row (weighted least squares, in memory only)

    def __init__(
        self,
        design: DesignLayout,
        solution: LeastSquaresFit,
        nobs: int,
        cov_type: CovType = "nonrobust",
    ) -> None:
        if cov_type not in COV_TYPES:
            raise ValueError(f"cov_type must be one of {COV_TYPES}, got {cov_type!r}")
        self.design = design
        self.solution = solution
        self.cov_type: CovType = cov_type
        self.nobs = nobs
        self.n_dropped = design.n_dropped
        self.rank = solution.rank
        self.has_intercept = design.has_intercept
        self.df_resid = self.nobs - self.rank
        self.df_model = self.rank - 1 if self.has_intercept else self.rank
        self.aliased = [name for name, a in zip(design.column_names, solution.aliased, strict=True) if a]
        # sums of squares are kept times t² (t = solution.y_scale, a power of two), so that ratios
        # such as R², F and the standard errors stay finite for data near the ends of the float range
        self._t = np.float64(solution.y_scale)
        self._sse_t2, self._sst_t2, self._ssr_t2 = self._scaled_sums_of_squares()
        with np.errstate(over="ignore", under="ignore"):  # beyond float64 only when the true value is
            t = self._t
            self.sse = float(self._sse_t2 / t / t)
            self.sst = float(self._sst_t2 / t / t)
            self.ssr = float(self._ssr_t2 / t / t)
        self._warn_perfect_fit()

    # -- what the subclasses provide -----------------------------------------------------------
    def _scaled_sums_of_squares(self) -> tuple[float, float, float]:
        """t²·(SSE, SST, SSR)."""
        raise NotImplementedError

    def _fitted_mean_square(self) -> float:
        """t² · (mean(ŷ)² + var(ŷ)), the size R's summary.lm compares σ̂² with."""
        raise NotImplementedError

    def _sandwich(self, sol: LeastSquaresFit) -> np.ndarray:
        """Σᵢ ωᵢ sᵢsᵢ' of the HC covariance (``cov_type``), over the rows of the fit."""
        raise NotImplementedError

    @property
    def response_moments(self) -> ResponseMoments:
        """n, ȳ and Σ(yᵢ − ȳ)² of the response, with the rows' fingerprint."""
        raise NotImplementedError

    def sse_without(self, drop: set[int]) -> tuple[float, int]:
        """SSE and rank of the same least-squares problem with the design columns ``drop`` left out."""
        raise NotImplementedError

    def _log_weights(self) -> float:
        """Σ log wᵢ over the rows of positive weight (0 unweighted)."""
        return 0.0

    def _warn_perfect_fit(self) -> None:
        """R's summary.lm: warn when σ̂² < 10⁻³⁰ (mean(ŷ)² + var(ŷ)), in t² units (scale-free)."""
        if self.df_resid <= 0:
            return
        if self._sse_t2 / self.df_resid < 1e-30 * self._fitted_mean_square():
            warnings.warn(
                f"{self.design.formula!r}: essentially perfect fit: summary may be unreliable "
                f"(residual variance {self.sigma2:.3g} is below 1e-30 of the fitted values' mean square; "
                "t, F and p-values are dominated by rounding)",
                PerfectFitWarning,
                stacklevel=5,
            )

    # -- the statistics (each a cached property whose docstring is its formula) ----------------
    @cached_property
    def sigma2(self) -> float:
        """σ̂² = SSE / df_resid (SSE = Σ wᵢeᵢ² when weighted)."""
        with np.errstate(over="ignore", under="ignore"):
            return float(self._sse_t2 / self.df_resid / self._t / self._t)

    @cached_property
    def sigma(self) -> float:
        """σ̂ = √(SSE / df_resid), the residual standard error (finite wherever it is representable)."""
        return float(math.sqrt(self._sse_t2 / self.df_resid) / self._t)

    @cached_property
    def r_squared(self) -> float:
        """R² = SSR / SST (unlike 1 − SSE/SST it does not cancel when the fit explains little)."""
        return self._ssr_t2 / self._sst_t2

    @cached_property
    def adj_r_squared(self) -> float:
        """R̄² = 1 − (1 − R²)(n − 1)/df_resid (n − 1 → n without an intercept)."""
        df_total = self.nobs - 1 if self.has_intercept else self.nobs
        return 1.0 - (1.0 - self.r_squared) * df_total / self.df_resid

    @cached_property
    def _fit_cov(self) -> np.ndarray:
        """cov(β̂) in the basis of the design's columns (for predictions)."""
        return self._covariance(self.solution)

    @cached_property
    def _reported(self) -> tuple[np.ndarray, np.ndarray]:
        coef, cov = self.solution.coef, self._fit_cov
        if self.design.reparametrisation:  # poly(x, d, raw=True): raw-power coefficients, exactly mapped
            coef, cov = reparametrise(coef, cov, self.design.reparametrisation)
        return coef, cov

    @cached_property
    def coef(self) -> pd.Series:
        """β̂ = argmin Σ wᵢ(yᵢ − xᵢ'β)², solved by QR of the (√w-scaled) design; NaN where aliased."""
        return pd.Series(self._reported[0], index=self.design.column_names, name="coef")

    @cached_property
    def cov(self) -> pd.DataFrame:
        """cov(β̂) = σ̂²(X'WX)⁻¹ (nonrobust) or the HC sandwich (``cov_type``)."""
        names = self.design.column_names
        return pd.DataFrame(self._reported[1], index=names, columns=names)

    @cached_property
    def std_err(self) -> pd.Series:
        """se(β̂ⱼ) = √cov(β̂)ⱼⱼ = σ̂ √[(X'WX)⁻¹]ⱼⱼ (nonrobust)."""
        sol = self.solution
        if self.cov_type == "nonrobust" and not self.design.reparametrisation and sol.cov_scaled is not None:
            # σ̂ t · √[(S'X'XS)⁻¹]ⱼⱼ · sⱼ / t: each factor finite wherever the result is
            se = np.full(len(self.design.column_names), np.nan)
            kept = ~sol.aliased
            sigma_t = self.sigma * self._t
            se[kept] = sigma_t * np.sqrt(np.diag(sol.cov_scaled)) * (sol.column_scales[kept] / self._t)
            return pd.Series(se, index=self.design.column_names, name="std_err")
        se = np.sqrt(np.diag(self.cov.to_numpy()))
        return pd.Series(se, index=self.design.column_names, name="std_err")

    @cached_property
    def t_values(self) -> pd.Series:
        """tⱼ = β̂ⱼ / se(β̂ⱼ), t-distributed on df_resid under H0: βⱼ = 0."""
        return pd.Series(self.coef / self.std_err, name="t_values")

    @cached_property
    def p_values(self) -> pd.Series:
        """pⱼ = 2 P(T > abs(tⱼ)), T ~ t(df_resid)."""
        p = 2.0 * stats.t.sf(np.abs(self.t_values.to_numpy()), self.df_resid)
        return pd.Series(p, index=self.design.column_names, name="p_values")

    @cached_property
    def f_statistic(self) -> float:
        """F = (SSR / df_model) / (SSE / df_resid) (robust covariances: the Wald F of every slope)."""
        return self._omnibus_f()

    @cached_property
    def f_p_value(self) -> float:
        """P(F(df_model, df_resid) > F)."""
        if self.df_model == 0:
            return math.nan
        return float(stats.f.sf(self.f_statistic, self.df_model, self.df_resid))

    @cached_property
    def llf(self) -> float:
        """ℓ = ½ Σ log wᵢ − (n/2)(log 2π + 1 − log n + log SSE): the Gaussian log-likelihood at β̂, SSE/n.

        R's ``logLik(lm)``; n counts the rows of positive weight (Σ log wᵢ = 0 unweighted).
        """
        n = self.nobs
        log_w = self._log_weights()
        log_sse = math.log(self._sse_t2) - 2.0 * math.log(self._t)  # log SSE without forming SSE
        return 0.5 * log_w - 0.5 * n * (math.log(2.0 * math.pi) + 1.0 - math.log(n) + log_sse)

    @cached_property
    def df_llf(self) -> int:
        """Parameters counted by AIC and BIC: rank + 1, σ² counted too (R's convention; statsmodels
        counts only the rank, so its ``aic``/``bic`` are 2 and log n smaller)."""
        return self.rank + 1

    def explain(
        self, statistic: str, term: str | None = None, level: float = 0.95
    ) -> Explanation | Explanations:
        """The formula of ``statistic`` and the numbers that make it, e.g. ``explain("f_statistic")``:
        F = (SSR / df_model) / (SSE / df_resid) = (965.27 / 4) / (160.778 / 27) = 40.525.

        Whole-fit statistics: f_statistic, f_p_value, r_squared, adj_r_squared, sigma, sigma2, llf,
        aic, bic; per term (``term=``, or every term): std_err, t_values, p_values, conf_int.
        ``to_frame()`` gives the ingredients at full precision.
        """
        return explain(self, statistic, term, level)

    # -- linear hypotheses --------------------------------------------------------------------
    def f_test(self, hypothesis: Hypothesis, q: Any = None) -> FTestResult:
        """Wald F-test of H0: Lβ = q, e.g. ``f_test("hp = 0, wt = 2 * hp")`` or a matrix L (and q).

        F = (Lβ̂ − q)'(L cov(β̂) L')⁻¹(Lβ̂ − q) / J ~ F(J, df_resid); the covariance is ``cov_type``'s.
        """
        names = list(self.coef.index)
        h = as_hypothesis(hypothesis, names, q)
        return f_test(h, self.coef.to_numpy(), self.cov.to_numpy(), names, self.df_resid)

    def t_test(self, hypothesis: Hypothesis, q: Any = None, level: float = 0.95) -> TTestResult:
        """One t-test per equation: t = (Lᵢβ̂ − qᵢ) / √(L cov(β̂) L')ᵢᵢ ~ t(df_resid), with intervals."""
        names = list(self.coef.index)
        h = as_hypothesis(hypothesis, names, q)
        _t_quantile(level, self.df_resid)
        return t_test(h, self.coef.to_numpy(), self.cov.to_numpy(), names, self.df_resid, level)

    # -- covariance ---------------------------------------------------------------------------
    def _covariance(self, sol: LeastSquaresFit) -> np.ndarray:
        """σ̂²(X'X)⁻¹, or the sandwich (X'X)⁻¹ X' diag(ωᵢ) X (X'X)⁻¹ for HC0–HC3."""
        if self.cov_type == "nonrobust":
            if sol.cov_scaled is None:
                return self.sigma2 * sol.cov_unscaled
            # (σ̂t)² · (S/t) (S'X'XS)⁻¹ (S/t): finite wherever cov(β̂) itself is
            kept = ~sol.aliased
            d = sol.column_scales[kept] / self._t
            out = np.full_like(sol.cov_unscaled, np.nan)
            with np.errstate(over="ignore"):
                scaled = sol.cov_scaled * d[:, None] * d[None, :]
                out[np.ix_(kept, kept)] = (self._sse_t2 / self.df_resid) * scaled
            return out
        meat = self._sandwich(sol)
        if self.cov_type == "HC1":
            meat = meat * self.nobs / self.df_resid
        kept = ~sol.aliased
        out = np.full_like(sol.cov_unscaled, np.nan)
        out[np.ix_(kept, kept)] = (meat + meat.T) / 2.0
        return out

    def _omnibus_f(self) -> float:
        """H0: every slope is 0. Classical: F = (SSR/p)/σ̂²; robust: the Wald F with the HC covariance."""
        if self.df_model == 0:
            return math.nan
        if self.cov_type == "nonrobust":
            return float((self._ssr_t2 / self.df_model) / (self._sse_t2 / self.df_resid))
        slopes = [n for n in self.coef.index if n != "Intercept" and n not in self.aliased]
        b = self.coef[slopes].to_numpy()
        v = self.cov.loc[slopes, slopes].to_numpy()
        return float(b @ np.linalg.solve(v, b)) / len(slopes)

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
            X0, index = self._rows_to_predict()
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

    def _rows_to_predict(self) -> tuple[np.ndarray, pd.Index]:
        """The design's own rows and their labels (``predict()`` without new data)."""
        raise NotImplementedError

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

    # -- tables -------------------------------------------------------------------------------
    def anova(self, by_term: bool = False, typ: int | None = None) -> pd.DataFrame:
        """The ANOVA table (Regression, Error, Total) or F-tests per term.

        ``by_term=True`` (or ``typ=1``): sequential sums of squares, R's ``anova(lm)``;
        ``typ=2`` / ``typ=3``: R's ``car::Anova(lm, type=2 / 3)`` (see :mod:`gradstat.linear.anova`).
        """
        from gradstat.linear.anova import anova_by_term, anova_table, anova_type_2, anova_type_3

        if typ is None:
            return anova_by_term(self) if check_flag(by_term, "by_term") else anova_table(self)
        if typ == 1:
            return anova_by_term(self)
        if typ == 2:
            return anova_type_2(self)
        if typ == 3:
            return anova_type_3(self)
        raise ValueError(f"typ must be 1, 2 or 3 (sums of squares type); got {typ!r}")

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

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.design.formula!r}: n={self.nobs}, rank={self.rank}, "
            f"R²={self.r_squared:.4f}, σ̂={math.sqrt(self.sigma2):.4g}>"
        )




class OLSResults(LinearResults):
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
    weights : numpy.ndarray, optional
        One weight ≥ 0 per row of the design (weighted least squares).

    Attributes
    ----------
    coef : pandas.Series
        β̂, by term name (NaN for aliased columns).
    std_err : pandas.Series
        se(β̂ᵢ) = √[cov]ᵢᵢ.
    t_values : pandas.Series
        tᵢ = β̂ᵢ / se(β̂ᵢ), for H0: βᵢ = 0.
    p_values : pandas.Series
        2 P(T > abs(tᵢ)), T ~ t(df_resid).
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

    Notes
    -----
    With ``weights`` (R's ``lm(weights=)``, statsmodels' WLS) β̂ minimises Σᵢ wᵢ(yᵢ − xᵢ'β)²:
    every sum of squares is weighted, ȳ is the weighted mean Σwᵢyᵢ/Σwᵢ, and rows of weight 0
    are left out of the fit and of n (their fitted values and residuals are still given).
    """

    def __init__(
        self,
        design: Design,
        solution: LeastSquaresFit,
        cov_type: CovType = "nonrobust",
        weights: np.ndarray | None = None,
    ) -> None:
        """``weights``: one per row of ``design`` (≥ 0); ``solution`` is then the fit of the rows of
        positive weight, each multiplied by √wᵢ."""
        self.design: Design = design
        self.weights = (
            None if weights is None else pd.Series(weights, index=design.row_labels, name="weights")
        )
        nobs = design.nobs if weights is None else int(np.count_nonzero(weights))
        super().__init__(design, solution, nobs, cov_type)
        if cov_type in ("HC2", "HC3"):
            self._fit_cov  # noqa: B018 (a leverage-one row is an error at fit time, not on first use)

    def _fitted_mean_square(self) -> float:
        f = self.solution.fitted * self._t
        return float(np.mean(f) ** 2 + (np.var(f, ddof=1) if f.size > 1 else 0.0))

    def _scaled_sums_of_squares(self) -> tuple[float, float, float]:
        """t²·(SSE, SST, SSR): SSE = Σ wᵢeᵢ², SST = Σ wᵢ(yᵢ − ȳ)², SSR = Σ wᵢ(ŷᵢ − ȳ)² (ȳ = 0 without
        an intercept; wᵢ = 1 unweighted)."""
        design, solution, t = self.design, self.solution, self._t
        y, fitted, root_w = design.y * t, solution.fitted * t, None
        if self.weights is not None:
            w = self.weights.to_numpy()
            positive = w > 0
            root_w = np.sqrt(w[positive])
            y, fitted = y[positive], self._fitted()[positive] * t
        centre = _mean(y, None if root_w is None else root_w**2) if self.has_intercept else 0.0
        dy, dfit = y - centre, fitted - centre
        if root_w is not None:
            dy, dfit = dy * root_w, dfit * root_w
        e = solution.resid * t  # the solver's residuals (√w-scaled when weighted)
        return float(np.dot(e, e)), float(np.dot(dy, dy)), float(np.dot(dfit, dfit))

    @property
    def response_moments(self) -> ResponseMoments:
        """n, ȳ and Σ(yᵢ − ȳ)² of the response, with the rows' fingerprint."""
        return ResponseMoments.of(self.design.y)

    def _log_weights(self) -> float:
        return 0.0 if self.weights is None else float(np.sum(np.log(self.weights[self.weights > 0])))

    def _sandwich(self, sol: LeastSquaresFit) -> np.ndarray:
        X, e = self._weighted_rows()
        return sandwich_meat(X, e, sol, self.cov_type, labels=self.design.row_labels)

    def _rows_to_predict(self) -> tuple[np.ndarray, pd.Index]:
        return self.design.X, self.design.row_labels

    def vif(self) -> pd.Series:
        """VIFⱼ = 1 / (1 − R²ⱼ), R²ⱼ of column j regressed on the other columns (intercept included).

        Computed as VIFⱼ = [(X'WX)⁻¹]ⱼⱼ · Σᵢ wᵢ(xᵢⱼ − x̄ⱼ)² (the identity behind statsmodels'
        ``variance_inflation_factor``); one value per kept column other than the intercept.
        For a factor, each dummy gets its own VIF (car's generalised VIF is not computed).
        """
        w = None if self.weights is None else self.weights.to_numpy()
        kept = ~self.solution.aliased
        out = {}
        for j, name in enumerate(self.design.column_names):
            if not kept[j] or name == "Intercept":
                continue
            x = self.design.X[:, j]
            centre = _mean(x, w) if self.has_intercept else 0.0
            d = (x - centre) if w is None else (x - centre) * np.sqrt(w)
            out[name] = float(self.solution.cov_unscaled[j, j] * np.dot(d, d))
        return pd.Series(out, name="vif", dtype=float)

    # -- row-level quantities (in-memory fits only) ------------------------------------------
    def _fitted(self) -> np.ndarray:
        """ŷ for every row; a weighted fit evaluates Xβ̂ (rows of weight 0 included)."""
        if self.weights is None:
            return self.solution.fitted
        kept = ~self.solution.aliased
        return self.design.X[:, kept] @ self.solution.coef[kept]

    def _root_weights(self) -> np.ndarray | None:
        return None if self.weights is None else np.sqrt(self.weights.to_numpy())

    @cached_property
    def fitted_values(self) -> pd.Series:
        """ŷ = Xβ̂ for the rows of the fit."""
        return pd.Series(self._fitted(), index=self.design.row_labels, name="fitted")

    @cached_property
    def resid(self) -> pd.Series:
        """e = y − ŷ for the rows of the fit (unweighted, as R's ``residuals(lm)``)."""
        e = self.solution.resid if self.weights is None else self.design.y - self._fitted()
        return pd.Series(e, index=self.design.row_labels, name="resid")

    def _weighted_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(√wᵢ xᵢ, √wᵢ eᵢ) over the rows: the design and residuals the solver saw."""
        X, e = self.design.X, self.resid.to_numpy()
        root_w = self._root_weights()
        if root_w is None:
            return X, e
        return X * root_w[:, None], e * root_w

    def sse_without(self, drop: set[int]) -> tuple[float, int]:
        """SSE and rank of the fit's own least-squares problem with the columns ``drop`` left out."""
        X, y = self.solver_rows()
        keep = [j for j in range(X.shape[1]) if j not in drop]
        if not keep:
            return float(y @ y), 0
        sol = least_squares(X[:, keep], y)
        return sol.sse, sol.rank

    def solver_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(√wᵢ xᵢ, √wᵢ yᵢ) over the rows of positive weight: the least-squares problem solved."""
        X, y = self.design.X, self.design.y
        if self.weights is None:
            return X, y
        w = self.weights.to_numpy()
        root_w = np.sqrt(w[w > 0])
        return X[w > 0] * root_w[:, None], y[w > 0] * root_w

    # -- diagnostics --------------------------------------------------------------------------
    @cached_property
    def leverage(self) -> pd.Series:
        """hᵢ = wᵢ xᵢ'(X'WX)⁻¹xᵢ, the diagonal of the hat matrix (wᵢ = 1 unweighted)."""
        X, _ = self._weighted_rows()
        return pd.Series(self.solution.leverage(X), index=self.design.row_labels, name="leverage")

    @cached_property
    def cooks_distance(self) -> pd.Series:
        """Dᵢ = wᵢeᵢ² hᵢ / (rank · σ̂² (1 − hᵢ)²)."""
        h = self.leverage.to_numpy()
        _, e = self._weighted_rows()
        d = e**2 * h / (self.rank * self.sigma2 * (1.0 - h) ** 2)
        return pd.Series(d, index=self.design.row_labels, name="cooks_distance")

    @cached_property
    def standardized_resid(self) -> pd.Series:
        """rᵢ = √wᵢ eᵢ / (σ̂ √(1 − hᵢ)), R's rstandard."""
        h = self.leverage.to_numpy()
        _, e = self._weighted_rows()
        r = e / np.sqrt(self.sigma2 * (1.0 - h))
        return pd.Series(r, index=self.design.row_labels, name="standardized_resid")

    def plot_diagnostics(self) -> Figure:
        """Residuals against fitted values, a normal Q-Q plot, scale-location and leverage."""
        from gradstat.linear.plots import plot_diagnostics

        return plot_diagnostics(self)


class OutOfCoreOLSResults(LinearResults):
    """The least-squares fit of rows never held together (Dask, streaming): every statistic of the
    sufficient statistics, none of the rows.

    Made by :func:`ols` on a Dask DataFrame, a list or iterator of DataFrames or a chunked reader,
    and by :meth:`OLS.fit` on Dask arrays; not constructed directly. The fit keeps the ``R``
    factor of ``[X | y]`` (so X'X = R'R), the effects Q'y, SSE, n and the response's mean and
    centred sum of squares; the numbers equal the in-memory fit's to rounding. Quantities made of
    the rows (residuals, fitted values, leverage, Cook's distance, the diagnostics plot) raise an
    error that names them; refit in memory on the rows needed.

    Parameters
    ----------
    design : DesignLayout
        Column names, terms and the formula's coding (no rows).
    solution : LeastSquaresFit
        The least-squares solution from the combined ``R`` factor (no fitted values or residuals).
    moments : ResponseMoments
        n, ȳ and Σ(yᵢ − ȳ)² of the response over every block, with the rows' fingerprint.
    cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3"}, default "nonrobust"
        Covariance of the coefficients.
    meat : numpy.ndarray, optional
        The HC sandwich's Σᵢ ωᵢ sᵢsᵢ', summed over the blocks (a pass over the rows); required for
        the HC covariances.

    Attributes
    ----------
    coef, std_err, t_values, p_values : pandas.Series
        β̂ = R⁻¹Q'y, se(β̂ᵢ) = σ̂ √[(R'R)⁻¹]ᵢᵢ, tᵢ = β̂ᵢ / se(β̂ᵢ), 2 P(T > abs(tᵢ)).
    cov : pandas.DataFrame
        σ̂²(R'R)⁻¹, or the HC sandwich.
    sse, ssr, sst : float
        SSE = R[k, k]² of ``[X | y]``; SSR = Σ effectsⱼ² after the intercept; SST = Σ(yᵢ − ȳ)²
        from the combined moments (uncentred without intercept).
    sigma2, r_squared, adj_r_squared, f_statistic, f_p_value, llf, aic, bic : float
        As for :class:`OLSResults`.
    df_model, df_resid, nobs, n_dropped : int
        p, n − rank, rows fitted and rows dropped for missing values.
    aliased : list of str
        Columns left out for perfect collinearity.
    moments : ResponseMoments
        The response's n, mean and centred sum of squares.

    Examples
    --------
    >>> import gradstat
    >>> from gradstat import datasets
    >>> cars = datasets.load("mtcars")
    >>> fit = gradstat.ols("mpg ~ wt + hp", data=[cars.iloc[:16], cars.iloc[16:]])
    >>> type(fit).__name__, round(fit.r_squared, 4)
    ('OutOfCoreOLSResults', 0.8268)
    """

    def __init__(
        self,
        design: DesignLayout,
        solution: LeastSquaresFit,
        moments: ResponseMoments,
        cov_type: CovType = "nonrobust",
        meat: np.ndarray | None = None,
    ) -> None:
        if cov_type != "nonrobust" and meat is None:
            raise ValueError(f"cov_type={cov_type!r} needs the sandwich's meat, a sum over the rows")
        self.moments = moments
        self._meat = meat
        super().__init__(design, solution, moments.n, cov_type)

    def _scaled_sums_of_squares(self) -> tuple[float, float, float]:
        """SST from the combined moments, SSE = R[k, k]², SSR from the effects Q'y (all times t²)."""
        m, t = self.moments, self._t
        sst = m.m2 if self.has_intercept else m.m2 + self.nobs * m.mean**2
        sse = float(self.solution.sse)
        ssr = _ssr_from_effects(self.design.column_names, self.solution, self.has_intercept, sst, sse)
        return float(sse * t**2), float(sst * t**2), float(ssr * t**2)

    def _fitted_mean_square(self) -> float:
        centre = self.nobs * (self.moments.mean * self._t) ** 2 if self.has_intercept else 0.0
        return float((self._ssr_t2 + centre) / self.nobs)

    @property
    def response_moments(self) -> ResponseMoments:
        """n, ȳ and Σ(yᵢ − ȳ)² of the response, with the rows' fingerprint."""
        return self.moments

    def _sandwich(self, sol: LeastSquaresFit) -> np.ndarray:
        assert self._meat is not None  # checked in __init__
        return self._meat

    def _needs_rows(self, what: str) -> ValueError:
        return ValueError(
            f"{what} needs the rows of the data, which an out-of-core (Dask / streaming) fit does not "
            f"keep (n = {self.nobs}); fit in memory (gradstat.ols(formula, data=pandas_frame)) "
            "on the rows you need"
        )

    def _rows_to_predict(self) -> tuple[np.ndarray, pd.Index]:
        raise self._needs_rows("predict() without new data")

    def sse_without(self, drop: set[int]) -> tuple[float, int]:
        """SSE and rank with the columns ``drop`` left out, from the ``R`` factor W of ``[X S | y t]``
        (W'W = [X S | y t]'[X S | y t], so least squares on W's columns is that on the rows')."""
        sol = self.solution
        kept = np.flatnonzero(~sol.aliased)
        rank = kept.size
        w = np.zeros((rank + 1, rank + 1))
        w[:rank, :rank] = sol.r * np.sign(np.diag(sol.r))[:, None]  # positive diagonal, as the effects
        w[:rank, rank] = sol.effects * self._t
        w[rank, rank] = math.sqrt(self._sse_t2)
        keep = [i for i, j in enumerate(kept) if j not in drop]
        if not keep:  # SSE = y'y
            centre = self.nobs * self.moments.mean**2 if self.has_intercept else 0.0
            return float(self.sst + centre), 0
        sub = least_squares(w[:, keep], w[:, rank])
        return float(sub.sse / self._t / self._t), sub.rank

    def vif(self) -> pd.Series:
        """VIFⱼ = [(X'X)⁻¹]ⱼⱼ · Σᵢ(xᵢⱼ − x̄ⱼ)², with Σᵢ(xᵢⱼ − x̄ⱼ)² = ‖R[1:, j]‖² when the intercept is
        the first column (its row of R is √n x̄); one value per kept column other than the intercept."""
        sol = self.solution
        names = self.design.column_names
        if not self.has_intercept or names[0] != INTERCEPT or sol.aliased[0]:
            raise ValueError(
                "vif() out of core needs the intercept as the first column of the design (its row of R "
                "gives the column means)"
            )
        kept = np.flatnonzero(~sol.aliased)
        r, cov_scaled = sol.r, sol.cov_scaled  # the scales S cancel: [(S'X'XS)⁻¹]ⱼⱼ ‖R[1:, j]‖²
        assert cov_scaled is not None  # set by every out-of-core solve
        out = {names[j]: float(cov_scaled[i, i] * (r[1:, i] @ r[1:, i])) for i, j in enumerate(kept) if i}
        return pd.Series(out, name="vif", dtype=float)

    @property
    def fitted_values(self) -> pd.Series:
        """ŷ = Xβ̂ needs the rows: raises (refit in memory)."""
        raise self._needs_rows("fitted_values")

    @property
    def resid(self) -> pd.Series:
        """e = y − ŷ needs the rows: raises (refit in memory)."""
        raise self._needs_rows("resid")

    @property
    def leverage(self) -> pd.Series:
        """hᵢ = xᵢ'(X'X)⁻¹xᵢ needs the rows: raises (refit in memory)."""
        raise self._needs_rows("leverage")

    @property
    def cooks_distance(self) -> pd.Series:
        """Dᵢ = eᵢ² hᵢ / (rank σ̂² (1 − hᵢ)²) needs the rows: raises (refit in memory)."""
        raise self._needs_rows("cooks_distance")

    @property
    def standardized_resid(self) -> pd.Series:
        """rᵢ = eᵢ / (σ̂ √(1 − hᵢ)) needs the rows: raises (refit in memory)."""
        raise self._needs_rows("standardized_resid")

    def plot_diagnostics(self) -> Figure:
        """The diagnostics plots are made of residuals and leverages: raises (refit in memory)."""
        raise self._needs_rows("plot_diagnostics()")


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


def _mean(y: np.ndarray, w: np.ndarray | None) -> float:
    """ȳ = Σwᵢyᵢ/Σwᵢ to full precision (one correction step)."""
    y_bar = float(np.average(y, weights=w))
    return y_bar + float(np.average(y - y_bar, weights=w))


LEVERAGE_ONE = 1e-8  # 1 − hᵢ below this: the row is fitted exactly (leverage one)


def sandwich_meat(
    X: np.ndarray, resid: np.ndarray, sol: LeastSquaresFit, cov_type: str, labels: Any = None
) -> np.ndarray:
    """Σᵢ ωᵢ sᵢsᵢ' with sᵢ = (X'X)⁻¹xᵢ (kept columns); ωᵢ = eᵢ² (HC0, HC1), eᵢ²/(1 − hᵢ) (HC2),
    eᵢ²/(1 − hᵢ)² (HC3). A sum over rows, so blocks of rows add (HC1's n/(n − p) comes after).

    HC2 and HC3 are undefined for a row of leverage one (the fit passes through it whatever its
    response): such rows are named (by ``labels``, else by position in the block) in an error.
    """
    kept = ~sol.aliased
    e2 = resid**2
    if cov_type in ("HC2", "HC3"):
        one_minus_h = 1.0 - sol.leverage(X)
        one = np.flatnonzero(one_minus_h < LEVERAGE_ONE)
        if one.size:
            names = [labels[i] for i in one[:5]] if labels is not None else [f"position {i}" for i in one[:5]]
            raise ValueError(
                f"cov_type={cov_type!r} divides each squared residual by "
                f"(1 − h){'' if cov_type == 'HC2' else '²'}, "
                f"and {one.size} row(s) have leverage h = 1 (fitted exactly whatever their response): "
                f"{names}; their HC2/HC3 standard errors are undefined. Use cov_type='HC0' or 'HC1', "
                "or drop the row(s)"
            )
        e2 = e2 / (one_minus_h if cov_type == "HC2" else one_minus_h**2)
    scores = X[:, kept] @ sol.cov_unscaled[np.ix_(kept, kept)]  # row i: xᵢ'(X'X)⁻¹
    return scores.T @ (scores * e2[:, None])


def _t_quantile(level: float, df: int) -> float:
    if isinstance(level, bool) or not isinstance(level, numbers.Real):
        raise TypeError(f"level must be a number in (0, 1), got {level!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return float(stats.t.ppf(0.5 + level / 2.0, df))
