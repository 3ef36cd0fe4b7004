"""The fitted GLM and its inference, with R's ``glm`` / ``summary.glm`` conventions.

With prior weights wᵢ, fitted means μᵢ = g⁻¹(ηᵢ), working weights Wᵢ = wᵢ (dμ/dη)² / V(μᵢ)
and n the number of rows with wᵢ > 0:

* cov(β̂) = φ̂ (X'WX)⁻¹, from the QR factor of √W X at β̂ (no inverse of X'WX is formed),
* φ̂ = 1 for binomial and poisson; otherwise Pearson's X² / df_resid, X² = Σ wᵢ (yᵢ − μᵢ)² / V(μᵢ),
* Wald statistics β̂ⱼ / se(β̂ⱼ): z (normal) when φ is known, t(df_resid) when it is estimated,
* D = Σ wᵢ d(yᵢ, μᵢ) (deviance), df_resid = n − rank, df_null = n − 1 (n without an intercept),
* AIC = R's family aic + 2 rank; ℓ = df_llf − AIC/2; BIC = −2ℓ + log(n) df_llf, where df_llf is
  rank, plus 1 for the estimated scale of the gaussian and gamma families (R's ``logLik.glm``).
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from gradstat.generalised.families import Family, Link
from gradstat.generalised.irls import IRLSFit, deviance, irls
from gradstat.linear.base import ResultsBase
from gradstat.linear.design import Design, new_design

if TYPE_CHECKING:
    from gradstat.generalised.summary import GLMSummary

ResidualType = Literal["deviance", "pearson", "working", "response"]
RESIDUAL_TYPES = ("deviance", "pearson", "working", "response")


class GLMResults(ResultsBase):
    """A GLM fitted by IRLS with its inference. Every statistic is a cached attribute.

    Made by :func:`glm` (and kept by :class:`GLM` as ``results_``), not constructed directly.
    The conventions are R's ``glm`` / ``summary.glm`` (statsmodels' ``GLMResults`` gives the
    same numbers): below, n is the number of rows with positive prior weight wᵢ,
    μᵢ = g⁻¹(ηᵢ) the fitted means, V the family's variance function and
    Wᵢ = wᵢ (dμ/dη)ᵢ² / V(μᵢ) the working weights at β̂.

    Parameters
    ----------
    design : Design
        The design matrix, response and column names built from the formula.
    family : Family
        The response distribution (variance function, unit deviance, AIC).
    link : Link
        g and its inverse.
    y : numpy.ndarray
        The response as the fit sees it (proportions for a two-column binomial response).
    prior_weights : numpy.ndarray
        wᵢ, one per row (for ``cbind(s, f)`` the number of trials s + f).
    trials : numpy.ndarray
        The number of binomial trials per row (1 otherwise); used by the binomial AIC.
    offset : numpy.ndarray
        The offset per row (zeros without one).
    fit : IRLSFit
        The IRLS solution at convergence (coefficients, μ, η, QR factor, deviance).
    has_offset : bool
        Whether an offset was given (the null model is then refitted by IRLS).
    tol : float
        The IRLS tolerance, reused for refits (null deviance, analysis of deviance).
    max_iter : int
        The IRLS iteration limit, reused for refits.

    Attributes
    ----------
    coef : pandas.Series
        β̂, by term name (NaN for aliased columns).
    std_err : pandas.Series
        se(β̂ⱼ) = √(φ̂ [(X'WX)⁻¹]ⱼⱼ).
    z_values, t_values : pandas.Series
        β̂ⱼ / se(β̂ⱼ): z for the binomial and poisson families (φ = 1), t for the gaussian and
        gamma families (φ estimated); the other one raises ``AttributeError``.
    p_values : pandas.Series
        2 P(Z > abs(z)), or 2 P(T > abs(t)) with T ~ t(df_resid).
    dispersion : float
        φ̂ = 1 (binomial, poisson), else Pearson's X² / df_resid.
    deviance, null_deviance : float
        D = Σ wᵢ d(yᵢ, μ̂ᵢ), and D of the intercept-only model.
    aic, llf : float
        R's AIC and log-likelihood ℓ = df_llf − AIC/2.
    df_resid, df_null, df_model : int
        n − rank, n − 1 (n without an intercept), rank − 1 (rank without an intercept).
    nobs, rank, n_iter : int
        Rows with positive weight, rank of the design, IRLS iterations.
    converged : bool
        Whether IRLS converged within ``max_iter``.
    aliased : list of str
        Columns left out for perfect collinearity.
    n_dropped : int
        Rows dropped for missing values (``missing="drop"``).

    See Also
    --------
    glm : makes it.
    anova_glm, compare : analysis of deviance.
    gradstat.OLSResults : the least-squares counterpart.

    Examples
    --------
    >>> import gradstat
    >>> from gradstat import datasets
    >>> fit = gradstat.glm("breaks ~ wool + tension", datasets.load("warpbreaks"), family="poisson")
    >>> fit
    <GLMResults 'breaks ~ wool + tension': poisson(log), n=54, rank=4, deviance=210.392>
    >>> fit.std_err.round(4)
    Intercept       0.0454
    wool[T.B]       0.0516
    tension[T.M]    0.0603
    tension[T.H]    0.0640
    Name: std_err, dtype: float64
    >>> round(fit.null_deviance, 3), round(fit.aic, 3), round(fit.llf, 3), fit.dispersion
    (297.372, 493.056, -242.528, 1.0)
    """

    def __init__(
        self,
        design: Design,
        family: Family,
        link: Link,
        y: np.ndarray,
        prior_weights: np.ndarray,
        trials: np.ndarray,
        offset: np.ndarray,
        fit: IRLSFit,
        *,
        has_offset: bool,
        tol: float,
        max_iter: int,
    ) -> None:
        self.design = design
        self.family = family
        self.link = link
        self.y = y  # the response as R's glm sees it (proportions for a two-column binomial)
        self.prior_weights = prior_weights
        self.trials = trials
        self.offset = offset
        self.has_offset = has_offset
        self.fit = fit
        self.tol = tol
        self.max_iter = max_iter
        self.uses_t = not family.fixed_dispersion
        self.n_iter = fit.n_iter
        self.converged = fit.converged
        self.has_intercept = design.has_intercept
        self.nobs = int(np.count_nonzero(prior_weights > 0))
        self.rank = fit.solution.rank
        self.aliased = [n for n, a in zip(design.column_names, fit.solution.aliased, strict=True) if a]
        self.n_dropped = design.n_dropped

    # -- estimates ------------------------------------------------------------------------
    @cached_property
    def coef(self) -> pd.Series:
        """β̂, the maximum-likelihood estimate (NaN for aliased columns)."""
        return pd.Series(self.fit.coef, index=self.design.column_names, name="coef")

    @cached_property
    def df_resid(self) -> int:
        """n − rank, n the number of rows with positive prior weight."""
        return self.nobs - self.rank

    @cached_property
    def df_null(self) -> int:
        """n − 1 with an intercept, else n."""
        return self.nobs - int(self.has_intercept)

    @cached_property
    def df_model(self) -> int:
        """rank − 1 with an intercept, else rank."""
        return self.rank - int(self.has_intercept)

    @cached_property
    def pearson_chi2(self) -> float:
        """X² = Σ wᵢ (yᵢ − μᵢ)² / V(μᵢ)."""
        r = self.resid_pearson.to_numpy()
        return float(r @ r)

    @cached_property
    def dispersion(self) -> float:
        """φ̂: 1 for binomial and poisson, else X² / df_resid (R's ``summary.glm``)."""
        if self.family.fixed_dispersion:
            return 1.0
        return self.pearson_chi2 / self.df_resid if self.df_resid > 0 else math.nan

    @cached_property
    def cov_unscaled(self) -> pd.DataFrame:
        """(X'WX)⁻¹ at β̂ (NaN rows and columns for aliased terms)."""
        names = self.design.column_names
        return pd.DataFrame(self.fit.solution.cov_unscaled, index=names, columns=names)

    @cached_property
    def cov(self) -> pd.DataFrame:
        """cov(β̂) = φ̂ (X'WX)⁻¹."""
        return self.dispersion * self.cov_unscaled

    @cached_property
    def std_err(self) -> pd.Series:
        """se(β̂ⱼ) = √(φ̂ [(X'WX)⁻¹]ⱼⱼ)."""
        return pd.Series(np.sqrt(np.diag(self.cov.to_numpy())), index=self.coef.index, name="std_err")

    @cached_property
    def test_statistic(self) -> pd.Series:
        """β̂ⱼ / se(β̂ⱼ): a z value when φ is known, a t value when it is estimated."""
        return pd.Series(self.coef / self.std_err, name="z_values" if not self.uses_t else "t_values")

    @property
    def z_values(self) -> pd.Series:
        """zⱼ = β̂ⱼ / se(β̂ⱼ) ~ N(0, 1) under H0: βⱼ = 0 (binomial, poisson: φ = 1 is known)."""
        if self.uses_t:
            raise AttributeError(
                f"the {self.family.name} family estimates its dispersion, so its Wald statistics are "
                "t values (as R): use t_values"
            )
        return self.test_statistic

    @property
    def t_values(self) -> pd.Series:
        """tⱼ = β̂ⱼ / se(β̂ⱼ) ~ t(df_resid) under H0: βⱼ = 0 (gaussian, gamma: φ estimated)."""
        if not self.uses_t:
            raise AttributeError(
                f"the {self.family.name} family has known dispersion 1, so its Wald statistics are "
                "z values (as R): use z_values"
            )
        return self.test_statistic

    @cached_property
    def p_values(self) -> pd.Series:
        """2 P(Z > abs(z)), or 2 P(T > abs(t)) with T ~ t(df_resid) when φ is estimated."""
        return self.wald_p_values(self.test_statistic)

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Wald intervals β̂ⱼ ± z(1 − α/2) se(β̂ⱼ), normal quantile for every family (R's ``confint.default``).

        R's ``confint(glm)`` profiles the likelihood instead; these are the Wald intervals.

        Parameters
        ----------
        level : float, default 0.95
            Confidence level 1 − α, in (0, 1).

        Returns
        -------
        pandas.DataFrame
            Columns ``lower`` and ``upper``, one row per term.

        Raises
        ------
        ValueError
            When ``level`` is not in (0, 1).

        Examples
        --------
        >>> import gradstat
        >>> from gradstat import datasets
        >>> fit = gradstat.glm("am ~ wt", datasets.load("mtcars"), family="binomial")
        >>> fit.conf_int().round(4)
                    lower    upper
        Intercept  3.2008  20.8799
        wt        -6.8395  -1.2084
        """
        return self.wald_interval(self.coef, self.std_err, self.normal_quantile(level))

    # -- fit and deviance -------------------------------------------------------------------
    @cached_property
    def deviance(self) -> float:
        """D = Σ wᵢ d(yᵢ, μ̂ᵢ), the family's unit deviance summed with the prior weights."""
        return self.fit.deviance

    @cached_property
    def null_deviance(self) -> float:
        """D of the model with the intercept alone (μ = g⁻¹(offset) without an intercept).

        With an intercept and no offset μ is the weighted mean Σ wy / Σ w; with an offset the
        intercept-only model is fitted by IRLS (as R).
        """
        y, w, fam = self.y, self.prior_weights, self.family
        if not self.has_intercept:
            return deviance(fam, y, self.link.inverse(self.offset), w)
        if not self.has_offset:
            mu = np.full_like(y, float(np.sum(w * y) / np.sum(w)))
            return deviance(fam, y, mu, w)
        ones = np.ones((y.shape[0], 1))
        return irls(ones, y, w, self.offset, fam, self.link, tol=self.tol, max_iter=self.max_iter).deviance

    @cached_property
    def df_llf(self) -> int:
        """rank, plus 1 for the scale of the gaussian and gamma families (R's ``logLik.glm``)."""
        return self.rank + self.family.extra_parameters

    @cached_property
    def aic(self) -> float:
        """AIC = aic_family(y, n, μ̂, w, D) + 2 rank, R's ``glm`` value (the family's −2ℓ with its scale)."""
        aic_family = self.family.aic(self.y, self.trials, self.fit.mu, self.prior_weights, self.deviance)
        return aic_family + 2.0 * self.rank

    @cached_property
    def llf(self) -> float:
        """ℓ(β̂) = df_llf − AIC/2 (R's ``logLik.glm``); gaussian and gamma use the scale R's aic uses."""
        return self.df_llf - self.aic / 2.0

    # -- fitted values and residuals --------------------------------------------------------
    def _rows(self, values: np.ndarray, name: str) -> pd.Series:
        return pd.Series(values, index=self.design.row_labels, name=name)

    @cached_property
    def fitted_values(self) -> pd.Series:
        """μ̂ᵢ = g⁻¹(xᵢ'β̂ + offsetᵢ) (proportions for a binomial response)."""
        return self._rows(self.fit.mu, "fitted")

    @cached_property
    def linear_predictor(self) -> pd.Series:
        """η̂ᵢ = xᵢ'β̂ + offsetᵢ."""
        return self._rows(self.fit.eta, "linear_predictor")

    @cached_property
    def resid_response(self) -> pd.Series:
        """yᵢ − μ̂ᵢ."""
        return self._rows(self.y - self.fit.mu, "resid_response")

    @cached_property
    def resid_working(self) -> pd.Series:
        """(yᵢ − μ̂ᵢ) / (dμ/dη)ᵢ, the IRLS working residual zᵢ − η̂ᵢ."""
        return self._rows((self.y - self.fit.mu) / self.link.mu_eta(self.fit.eta), "resid_working")

    @cached_property
    def resid_pearson(self) -> pd.Series:
        """(yᵢ − μ̂ᵢ) √wᵢ / √V(μ̂ᵢ)."""
        r = (self.y - self.fit.mu) * np.sqrt(self.prior_weights / self.family.variance(self.fit.mu))
        return self._rows(r, "resid_pearson")

    @cached_property
    def resid_deviance(self) -> pd.Series:
        """sign(yᵢ − μ̂ᵢ) √(wᵢ d(yᵢ, μ̂ᵢ)); their squares sum to D."""
        d = self.prior_weights * self.family.unit_deviance(self.y, self.fit.mu)
        return self._rows(np.sign(self.y - self.fit.mu) * np.sqrt(np.maximum(d, 0.0)), "resid_deviance")

    def residuals(self, type: ResidualType = "deviance") -> pd.Series:
        """R's ``residuals(fit, type=)``: ``deviance`` (default), ``pearson``, ``working`` or ``response``.

        Parameters
        ----------
        type : {"deviance", "pearson", "working", "response"}, default "deviance"
            sign(yᵢ − μ̂ᵢ) √(wᵢ d(yᵢ, μ̂ᵢ)); (yᵢ − μ̂ᵢ) √wᵢ / √V(μ̂ᵢ); (yᵢ − μ̂ᵢ) / (dμ/dη)ᵢ;
            or yᵢ − μ̂ᵢ (the attributes ``resid_deviance`` … ``resid_response``).

        Returns
        -------
        pandas.Series
            One residual per fitted row, indexed as the data.

        Raises
        ------
        ValueError
            For any other ``type``.

        Examples
        --------
        >>> import gradstat
        >>> from gradstat import datasets
        >>> fit = gradstat.glm("am ~ wt", datasets.load("mtcars"), family="binomial")
        >>> fit.residuals("pearson").head(3).round(4).tolist()
        [0.4729, 0.79, 0.2586]
        >>> bool(abs((fit.residuals() ** 2).sum() - fit.deviance) < 1e-9)    # Σ rᵢ² = D
        True
        """
        if type not in RESIDUAL_TYPES:
            raise ValueError(f"type must be one of {RESIDUAL_TYPES}, got {type!r}")
        series: pd.Series = getattr(self, f"resid_{type}")
        return series

    # -- prediction ---------------------------------------------------------------------------
    def predict(
        self,
        new_data: Any = None,
        type: Literal["link", "response"] = "response",
        interval: Literal["confidence"] | None = None,
        level: float = 0.95,
        offset: Any = None,
    ) -> pd.Series | pd.DataFrame:
        """η₀ = x₀'β̂ + offset₀ (``type="link"``) or μ₀ = g⁻¹(η₀) (``"response"``).

        ``interval="confidence"``: η₀ ± z(1 − α/2) se(η₀), se(η₀)² = φ̂ x₀'(X'WX)⁻¹x₀, on the link
        scale, with both ends mapped by g⁻¹ for ``type="response"`` (R's ``predict.glm`` with
        ``se.fit=TRUE``).

        Parameters
        ----------
        new_data : pandas.DataFrame, optional
            Rows with the columns the formula uses; ``None`` predicts the fitted rows.
        type : {"response", "link"}, default "response"
            The scale: μ₀ or η₀.
        interval : {None, "confidence"}, default None
            Add the Wald confidence interval of the mean (a GLM has no prediction interval).
        level : float, default 0.95
            Confidence level of the interval.
        offset : float or array-like, optional
            The offset of the new rows (default 0; the fit's own offset when ``new_data`` is
            None).

        Returns
        -------
        pandas.Series or pandas.DataFrame
            The series ``fit``; with an interval, the columns ``fit``, ``se_link``, ``lower``,
            ``upper``. Indexed as ``new_data``.

        Raises
        ------
        ValueError
            For an unknown ``type`` or ``interval``, new rows without a column the formula
            uses, or an ``offset`` of the wrong length.

        Examples
        --------
        >>> import gradstat
        >>> from gradstat import datasets
        >>> data = datasets.load("warpbreaks")
        >>> fit = gradstat.glm("breaks ~ wool + tension", data, family="poisson")
        >>> fit.predict(data.iloc[[0, 9]], interval="confidence").round(4)
               fit  se_link    lower    upper
        0  40.1235   0.0454  36.7067  43.8584
        9  29.0972   0.0514  26.3094  32.1805
        """
        if type not in ("link", "response"):
            raise ValueError(f"type must be 'link' or 'response', got {type!r}")
        if interval not in (None, "confidence"):
            raise ValueError(
                f"interval must be None or 'confidence', got {interval!r} (a GLM has no prediction "
                "interval for a new observation)"
            )
        if new_data is None:
            X0, index, off = self.design.X, self.design.row_labels, self.offset
        else:
            X0 = new_design(self.design, new_data)
            index = getattr(new_data, "index", pd.RangeIndex(X0.shape[0]))
            off = np.zeros(X0.shape[0]) if offset is None else np.asarray(offset, dtype=np.float64)
            if off.ndim == 0:
                off = np.full(X0.shape[0], float(off))
            if off.shape != (X0.shape[0],):
                raise ValueError(
                    f"offset must have one value per new row ({X0.shape[0]}), got shape {off.shape}"
                )
        kept = ~self.fit.solution.aliased
        eta = X0[:, kept] @ self.fit.coef[kept] + off
        fit = eta if type == "link" else self.link.inverse(eta)
        if interval is None:
            return pd.Series(fit, index=index, name="fit")
        se = np.sqrt(self.dispersion * self._leverage(X0))
        half = self.normal_quantile(level) * se
        lower, upper = eta - half, eta + half
        if type == "response":
            ends = np.sort(np.vstack([self.link.inverse(lower), self.link.inverse(upper)]), axis=0)
            lower, upper = ends[0], ends[1]
        return pd.DataFrame({"fit": fit, "se_link": se, "lower": lower, "upper": upper}, index=index)

    def _leverage(self, X0: np.ndarray) -> np.ndarray:
        """x₀'(X'WX)⁻¹x₀ = ||R⁻ᵀ x₀||² from the QR factor of √W X."""
        return self.fit.solution.leverage(X0)

    # -- tables -------------------------------------------------------------------------------
    def coefficients(self, level: float = 0.95) -> pd.DataFrame:
        """One row per term: coef, std_err, z (or t), p_value and the Wald interval.

        Parameters
        ----------
        level : float, default 0.95
            Confidence level of the interval.

        Returns
        -------
        pandas.DataFrame
            Columns ``coef``, ``std_err``, ``z`` or ``t``, ``p_value``, ``lower``, ``upper``.
        """
        ci = self.conf_int(level)
        stat = "t" if self.uses_t else "z"
        return pd.DataFrame(
            {
                "coef": self.coef,
                "std_err": self.std_err,
                stat: self.test_statistic,
                "p_value": self.p_values,
                "lower": ci["lower"],
                "upper": ci["upper"],
            }
        )

    def anova(self) -> pd.DataFrame:
        """Sequential analysis of deviance, as R's ``anova(glm)`` (:func:`gradstat.generalised.anova_glm`).

        The family's default test: χ² for binomial and poisson, F for gaussian and gamma.

        Returns
        -------
        pandas.DataFrame
            Rows ``NULL`` and one per term; columns ``df``, ``deviance``, ``df_resid``,
            ``resid_deviance``, (``F``,) ``p_value``.

        Examples
        --------
        >>> import gradstat
        >>> from gradstat import datasets
        >>> fit = gradstat.glm("breaks ~ wool + tension", datasets.load("warpbreaks"), family="poisson")
        >>> fit.anova()[["df", "deviance", "resid_deviance"]].round(2)
                  df  deviance  resid_deviance
        NULL     NaN       NaN          297.37
        wool     1.0     16.04          281.33
        tension  2.0     70.94          210.39
        """
        from gradstat.generalised.anova import anova_glm

        return anova_glm(self)

    def summary(self, level: float = 0.95) -> GLMSummary:
        """The report of R's ``summary.glm``: coefficients, dispersion, deviances, AIC, iterations.

        Parameters
        ----------
        level : float, default 0.95
            Confidence level of the coefficients' Wald intervals.

        Returns
        -------
        GLMSummary
            ``str()`` is the text report (notebooks show HTML); ``.coefficients`` the table as a
            DataFrame.

        Examples
        --------
        >>> import gradstat
        >>> from gradstat import datasets
        >>> fit = gradstat.glm("am ~ wt", datasets.load("mtcars"), family="binomial")
        >>> print(fit.summary())
        GLM: am ~ wt, family binomial, link logit
        n = 32 observations
        ...
        Residual deviance: 19.1761  on 30 degrees of freedom
        AIC: 23.1761
        ...
        """
        from gradstat.generalised.summary import GLMSummary

        return GLMSummary(self, level)

    def __repr__(self) -> str:
        return (
            f"<GLMResults {self.design.formula!r}: {self.family.name}({self.link.name}), n={self.nobs}, "
            f"rank={self.rank}, deviance={self.deviance:.6g}>"
        )
