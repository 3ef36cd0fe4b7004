"""ANOVA: the omnibus table, sequential by-term tests, and the F-test between nested models.

Omnibus (notes, DL2): F = (SSR/p) / (SSE/(n − p − 1)) ~ F(p, n − p − 1).
Nested models: F = ((SSE_R − SSE_F)/(p − l)) / (SSE_F/(n − p − 1)) ~ F(p − l, n − p − 1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from gradstat.linear.design import INTERCEPT, ResponseMoments
from gradstat.linear.results import OLSResults

COLUMNS = ["df", "sum_sq", "mean_sq", "F", "p_value"]


def anova_table(fit: OLSResults) -> pd.DataFrame:
    """Rows Regression, Error, Total; the F-test of H0: β₁ = … = β_p = 0."""
    msr = fit.ssr / fit.df_model if fit.df_model else np.nan
    df_total = fit.nobs - 1 if fit.has_intercept else fit.nobs
    f = msr / fit.sigma2
    rows = {
        "Regression": [fit.df_model, fit.ssr, msr, f, stats.f.sf(f, fit.df_model, fit.df_resid)],
        "Error": [fit.df_resid, fit.sse, fit.sigma2, np.nan, np.nan],
        "Total": [df_total, fit.sst, np.nan, np.nan, np.nan],
    }
    return _frame(rows)


def anova_by_term(fit: OLSResults) -> pd.DataFrame:
    """Sequential (type I) sums of squares, as R's ``anova(lm)``: each term after those before it.

    With X = QR on the kept columns in formula order, the effects Q'y split SSR by column; a
    term's sum of squares is the sum of its effects squared, so a factor with k levels is tested
    as a whole on k − 1 degrees of freedom.
    """
    design = fit.design
    kept = ~fit.solution.aliased
    effects = fit.solution.effects
    position = np.cumsum(kept) - 1  # column index -> row of R among kept columns
    rows: dict[str, list[float]] = {}
    for term, cols in design.terms.items():
        used = [position[c] for c in cols if kept[c]]
        if term == INTERCEPT or not used:
            continue
        ss = float(np.sum(effects[used] ** 2))
        df = len(used)
        f = ss / df / fit.sigma2
        rows[term] = [df, ss, ss / df, f, stats.f.sf(f, df, fit.df_resid)]
    rows["Residuals"] = [fit.df_resid, fit.sse, fit.sigma2, np.nan, np.nan]
    return _frame(rows)


def compare(reduced: OLSResults, full: OLSResults) -> pd.DataFrame:
    """F-test of a reduced model against a full model that nests it, as R's ``anova(m1, m2)``.

    F = ((SSE_reduced − SSE_full) / (df_reduced − df_full)) / (SSE_full / df_full), on
    (df_reduced − df_full, df_full) degrees of freedom, where df are residual degrees of freedom.

    Parameters
    ----------
    reduced : OLSResults
        The smaller model; its columns must lie in the span of the full model's.
    full : OLSResults
        The larger model, fitted on the same rows.

    Returns
    -------
    pandas.DataFrame
        Rows ``reduced`` and ``full`` (by formula); columns ``df_resid``, ``sse``, ``df``,
        ``sum_sq``, ``F`` and ``p_value`` (the last four on the full model's row).

    Raises
    ------
    TypeError
        If either argument is not an :class:`OLSResults`.
    ValueError
        If the models are fitted on different rows, are not nested, or are passed in reverse.

    Examples
    --------
    >>> import gradstat
    >>> from gradstat import datasets
    >>> cars = datasets.load("mtcars")
    >>> table = gradstat.compare(gradstat.ols("mpg ~ wt", cars), gradstat.ols("mpg ~ wt + hp + qsec", cars))
    >>> int(table["df"].iloc[1]), round(float(table["F"].iloc[1]), 4)
    (2, 6.9423)
    """
    for name, fit in (("reduced", reduced), ("full", full)):
        if not isinstance(fit, OLSResults):
            raise TypeError(f"compare() takes two OLSResults; {name} is {type(fit).__name__}")
    label_r, label_f = reduced.design.formula, full.design.formula
    if not _same_rows(reduced, full):
        raise ValueError(
            f"models are not fitted on the same rows ({label_r!r}: n = {reduced.nobs}, "
            f"{label_f!r}: n = {full.nobs}); refit both on the same data (same missing-value rows)"
        )
    if not _nested(reduced, full):
        if _nested(full, reduced):
            raise ValueError(f"the arguments are reversed: pass compare({label_f!r}, {label_r!r})")
        raise ValueError(
            f"{label_r!r} is not nested in {label_f!r}: its columns are not in the span of the full design"
        )
    df = reduced.df_resid - full.df_resid
    ss = reduced.sse - full.sse
    f = (ss / df) / full.sigma2 if df else np.nan
    p = stats.f.sf(f, df, full.df_resid) if df else np.nan
    return pd.DataFrame(
        {
            "df_resid": [reduced.df_resid, full.df_resid],
            "sse": [reduced.sse, full.sse],
            "df": [np.nan, df],
            "sum_sq": [np.nan, ss],
            "F": [np.nan, f],
            "p_value": [np.nan, p],
        },
        index=[label_r, label_f],
    )


def _moments(fit: OLSResults) -> ResponseMoments:
    return fit.design.moments or ResponseMoments.of(fit.design.y)


def _same_rows(reduced: OLSResults, full: OLSResults) -> bool:
    """Same response rows: compared value by value in memory, by (n, ȳ, M2) out of core."""
    if reduced.nobs != full.nobs:
        return False
    if not (reduced.design.out_of_core or full.design.out_of_core):
        return np.array_equal(reduced.design.y, full.design.y)
    a, b = _moments(reduced), _moments(full)
    return bool(
        np.isclose(a.mean, b.mean, rtol=1e-10, atol=0.0) and np.isclose(a.m2, b.m2, rtol=1e-10, atol=0.0)
    )


def _nested(reduced: OLSResults, full: OLSResults) -> bool:
    """Is every kept column of the reduced design in the column space of the full design?

    Out of core (no rows to project) the test is by name: every kept column of the reduced
    design is a column of the full one.
    """
    if reduced.design.out_of_core or full.design.out_of_core:
        kept_r = {
            c for c, a in zip(reduced.design.column_names, reduced.solution.aliased, strict=True) if not a
        }
        return kept_r <= set(full.design.column_names)
    Xr = reduced.design.X[:, ~reduced.solution.aliased]
    Xf = full.design.X[:, ~full.solution.aliased]
    if Xr.shape[1] > Xf.shape[1]:
        return False
    q, _ = np.linalg.qr(Xf)
    leftover = Xr - q @ (q.T @ Xr)
    return bool(np.all(np.linalg.norm(leftover, axis=0) <= 1e-8 * np.linalg.norm(Xr, axis=0)))


def _frame(rows: dict[str, list[float]]) -> pd.DataFrame:
    table = pd.DataFrame.from_dict(rows, orient="index", columns=COLUMNS)
    table["df"] = table["df"].astype(int)
    return table
