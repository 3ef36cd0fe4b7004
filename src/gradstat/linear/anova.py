"""ANOVA: the omnibus table, F-tests per term (types I, II, III), and F-tests between nested models.

Omnibus (notes, DL2): F = (SSR/p) / (SSE/(n − p − 1)) ~ F(p, n − p − 1).
Nested models: F = ((SSE_R − SSE_F)/(p − l)) / (SSE_F/(n − p − 1)) ~ F(p − l, n − p − 1).

Per term T, with F = (SS_T / df_T) / σ̂² of the full model (R's ``car::Anova``):

* type I (sequential): SS_T = SSE(terms before T) − SSE(terms before T, and T);
* type II: SS_T = SSE(every term not containing T, T left out) − SSE(the same, with T) — T after
  every other term except the interactions that contain it (marginality respected);
* type III: SS_T = SSE(every term but T) − SSE(full) — T after everything, intercept included.
  Type III tests of main effects in a model with interactions depend on the contrasts: they
  test the hypothesis R's ``car::Anova`` documents only with sum-to-zero contrasts
  (``C(g, Sum)``); with the default treatment coding a main effect is tested at the baseline
  level of the factors it interacts with.

Sums of squares for types II and III come from refitting the design without the term's columns
(the same solver), so they need the rows (in-memory fits).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats

from gradstat.linear.design import INTERCEPT
from gradstat.linear.results import LinearResults, OLSResults

COLUMNS = ["df", "sum_sq", "mean_sq", "F", "p_value"]


def anova_table(fit: LinearResults) -> pd.DataFrame:
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


def anova_by_term(fit: LinearResults) -> pd.DataFrame:
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


def _factors(term: str) -> frozenset[str]:
    return frozenset(term.split(":"))


def _term_row(fit: LinearResults, ss: float, df: int) -> list[float]:
    if df == 0:
        return [0, 0.0, np.nan, np.nan, np.nan]
    f = ss / df / fit.sigma2
    return [df, ss, ss / df, f, stats.f.sf(f, df, fit.df_resid)]


def anova_type_2(fit: LinearResults) -> pd.DataFrame:
    """Type II sums of squares (R's ``car::Anova(type = 2)``): each term after all terms not containing it."""
    terms = {t: set(c) for t, c in fit.design.terms.items() if t != INTERCEPT}
    rows: dict[str, list[float]] = {}
    for term, cols in terms.items():
        above = set().union(*(c for t, c in terms.items() if t != term and _factors(term) < _factors(t)))
        sse_without, rank_without = fit.sse_without(above | cols)
        sse_with, rank_with = fit.sse_without(above)
        rows[term] = _term_row(fit, sse_without - sse_with, rank_with - rank_without)
    rows["Residuals"] = [fit.df_resid, fit.sse, fit.sigma2, np.nan, np.nan]
    return _frame(rows)


def anova_type_3(fit: LinearResults) -> pd.DataFrame:
    """Type III sums of squares (R's ``car::Anova(type = 3)``): each term, intercept too, after all others."""
    rows: dict[str, list[float]] = {}
    for term, cols in fit.design.terms.items():
        sse_without, rank_without = fit.sse_without(set(cols))
        rows[term] = _term_row(fit, sse_without - fit.sse, fit.rank - rank_without)
    rows["Residuals"] = [fit.df_resid, fit.sse, fit.sigma2, np.nan, np.nan]
    return _frame(rows)


def compare(*models: LinearResults) -> pd.DataFrame:
    """F-tests along a sequence of nested models, smallest first, as R's ``anova(m1, m2, m3, …)``.

    Row i compares model i with model i − 1: df = df_resid,ᵢ₋₁ − df_resid,ᵢ, SS = SSEᵢ₋₁ − SSEᵢ,
    F = (SS / df) / σ̂² with σ̂² of the largest model (R's and statsmodels' ``anova_lm`` choice).

    Parameters
    ----------
    *models : OLSResults or OutOfCoreOLSResults
        Two or more fits on the same rows, each nested in the next (the smallest first).

    Returns
    -------
    pandas.DataFrame
        One row per model (by formula); columns ``df_resid``, ``sse``, ``df``, ``sum_sq``, ``F``
        and ``p_value`` (the last four empty on the first row).

    Raises
    ------
    TypeError
        If fewer than two models are given, or an argument is not a least-squares fit.
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
    if len(models) < 2:
        raise TypeError(f"compare() takes at least two fitted models; got {len(models)}")
    for i, fit in enumerate(models):
        if not isinstance(fit, LinearResults):
            raise TypeError(
                f"compare() takes OLSResults or OutOfCoreOLSResults; argument {i + 1} is {type(fit).__name__}"
            )
    for reduced, full in itertools.pairwise(models):
        _check_pair(reduced, full)
    largest = models[-1]
    rows: dict[str, list[float]] = {k: [] for k in ("df_resid", "sse", "df", "sum_sq", "F", "p_value")}
    previous: LinearResults | None = None
    for fit in models:
        rows["df_resid"].append(fit.df_resid)
        rows["sse"].append(fit.sse)
        if previous is None:
            df, ss, f, p = np.nan, np.nan, np.nan, np.nan
        else:
            df = previous.df_resid - fit.df_resid
            ss = previous.sse - fit.sse
            f = (ss / df) / largest.sigma2 if df else np.nan
            p = stats.f.sf(f, df, largest.df_resid) if df else np.nan
        for key, value in (("df", df), ("sum_sq", ss), ("F", f), ("p_value", p)):
            rows[key].append(value)
        previous = fit
    return pd.DataFrame(rows, index=[m.design.formula for m in models])


def _check_pair(reduced: LinearResults, full: LinearResults) -> None:
    label_r, label_f = reduced.design.formula, full.design.formula
    if not _same_rows(reduced, full):
        raise ValueError(
            f"models are not fitted on the same rows ({label_r!r}: n = {reduced.nobs}, "
            f"{label_f!r}: n = {full.nobs}); refit both on the same data (same missing-value rows)"
        )
    if not _nested(reduced, full):
        if _nested(full, reduced):
            raise ValueError(
                f"the models are reversed: {label_f!r} is nested in {label_r!r}; pass the smaller first"
            )
        raise ValueError(
            f"{label_r!r} is not nested in {label_f!r}: its columns are not in the span of the full design"
        )


def _same_rows(reduced: LinearResults, full: LinearResults) -> bool:
    """Same response rows: compared value by value in memory; out of core, by n and a fingerprint of
    every row's response bits (see :func:`gradstat.linear.design.row_fingerprint`)."""
    if reduced.nobs != full.nobs:
        return False
    if isinstance(reduced, OLSResults) and isinstance(full, OLSResults):
        wr, wf = reduced.weights, full.weights
        same_weights = (wr is None and wf is None) or (
            wr is not None and wf is not None and np.array_equal(wr.to_numpy(), wf.to_numpy())
        )
        return same_weights and np.array_equal(reduced.design.y, full.design.y)
    a, b = reduced.response_moments, full.response_moments
    return a.n == b.n and a.fingerprint == b.fingerprint


def _nested(reduced: LinearResults, full: LinearResults) -> bool:
    """Is every kept column of the reduced design in the column space of the full design?

    Out of core (no rows to project) the test is by name: every kept column of the reduced
    design is a column of the full one.
    """
    if not (isinstance(reduced, OLSResults) and isinstance(full, OLSResults)):
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
