"""Analysis of deviance: sequential by term (R's ``anova(glm)``) and between nested fits
(R's ``anova(m1, m2, …)``, the likelihood-ratio test).

Adding terms to a GLM lowers its deviance D. With φ the dispersion of the largest model
(1 for binomial and poisson, Pearson's X² / df_resid otherwise), a drop ΔD on Δdf degrees of
freedom is tested by

* ``Chisq`` (φ known): ΔD / φ ~ χ²(Δdf), the likelihood-ratio test;
* ``F`` (φ estimated): F = (ΔD / Δdf) / φ̂ ~ F(Δdf, df_resid of the largest model).

The default is ``Chisq`` for binomial and poisson and ``F`` for gaussian and gamma (R ≥ 4.4).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from gradstat.generalised.irls import deviance, irls
from gradstat.generalised.results import GLMResults

Test = Literal["Chisq", "F"]


def _default_test(fit: GLMResults, test: Test | None) -> Test:
    if test is None:
        return "Chisq" if fit.family.fixed_dispersion else "F"
    if test not in ("Chisq", "F"):
        raise ValueError(f"test must be 'Chisq', 'F' or None (the family's default), got {test!r}")
    return test


def _tests(table: pd.DataFrame, dispersion: float, df_resid: int, test: Test) -> pd.DataFrame:
    drop, df = table["deviance"].to_numpy(), table["df"].to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        if test == "F":
            f = drop / df / dispersion
            table["F"] = np.where(df > 0, f, np.nan)
            table["p_value"] = np.where(df > 0, stats.f.sf(f, df, df_resid), np.nan)
        else:
            table["p_value"] = np.where(df > 0, stats.chi2.sf(drop / dispersion, df), np.nan)
    return table


def anova_glm(fit: GLMResults, test: Test | None = None) -> pd.DataFrame:
    """Sequential analysis of deviance: each term added, in formula order, to those before it.

    Row ``NULL`` is the intercept-only model (the empty model without an intercept); each term's
    row holds its df (the rank it adds), the deviance it removes, and the residual df and
    deviance after it. Every prefix model is refitted by IRLS with the fit's weights and offset.
    """
    chosen = _default_test(fit, test)
    design = fit.design
    X, y, w, off = design.X, fit.y, fit.prior_weights, fit.offset
    rows: dict[str, list[float]] = {}
    columns: list[int] = []
    if fit.has_intercept:
        intercept = design.terms.get("Intercept", [])
        columns.extend(intercept)
    if columns:
        null = irls(X[:, columns], y, w, off, fit.family, fit.link, tol=fit.tol, max_iter=fit.max_iter)
        prev_dev, prev_rank = null.deviance, null.solution.rank
    else:
        prev_dev, prev_rank = deviance(fit.family, y, fit.link.inverse(off), w), 0
    rows["NULL"] = [np.nan, np.nan, fit.nobs - prev_rank, prev_dev]
    for term, cols in design.terms.items():
        if term == "Intercept":
            continue
        columns.extend(cols)
        if len(columns) == X.shape[1]:
            dev, rank = fit.deviance, fit.rank
        else:
            sub = irls(X[:, columns], y, w, off, fit.family, fit.link, tol=fit.tol, max_iter=fit.max_iter)
            dev, rank = sub.deviance, sub.solution.rank
        rows[term] = [rank - prev_rank, prev_dev - dev, fit.nobs - rank, dev]
        prev_dev, prev_rank = dev, rank
    table = pd.DataFrame.from_dict(
        rows, orient="index", columns=["df", "deviance", "df_resid", "resid_deviance"]
    )
    return _tests(table, fit.dispersion, fit.df_resid, chosen)


def _nested(small: GLMResults, big: GLMResults) -> bool:
    """Is every kept column of ``small`` in the column space of ``big``'s kept columns?"""
    Xs = small.design.X[:, ~small.fit.solution.aliased]
    Xb = big.design.X[:, ~big.fit.solution.aliased]
    if Xs.shape[1] > Xb.shape[1]:
        return False
    q, _ = np.linalg.qr(Xb)
    leftover = Xs - q @ (q.T @ Xs)
    return bool(np.all(np.linalg.norm(leftover, axis=0) <= 1e-8 * np.linalg.norm(Xs, axis=0)))


def compare_glm(*fits: GLMResults, test: Test | None = None) -> pd.DataFrame:
    """Likelihood-ratio (or F) tests of nested GLMs, smallest first, as R's ``anova(m1, m2, …)``.

    Row i tests model i against model i − 1; φ is the dispersion of the last (largest) model.
    """
    if len(fits) < 2:
        raise ValueError("compare() needs at least two fitted models, smallest first")
    for i, fit in enumerate(fits):
        if not isinstance(fit, GLMResults):
            raise TypeError(f"compare(): argument {i + 1} is {type(fit).__name__}, not GLMResults")
    first = fits[0]
    for fit in fits[1:]:
        if (fit.family.name, fit.link.name) != (first.family.name, first.link.name):
            raise ValueError(
                f"compare(): {fit.design.formula!r} is {fit.family.name}({fit.link.name}) but "
                f"{first.design.formula!r} is {first.family.name}({first.link.name}); "
                "deviances of different families or links are not comparable"
            )
        same = (
            fit.y.shape == first.y.shape
            and np.array_equal(fit.y, first.y)
            and np.array_equal(fit.prior_weights, first.prior_weights)
        )
        if not same:
            raise ValueError(
                f"compare(): {fit.design.formula!r} (n = {fit.nobs}) and {first.design.formula!r} "
                f"(n = {first.nobs}) are not fitted to the same responses and weights"
            )
    for small, big in pairwise(fits):
        if not _nested(small, big):
            raise ValueError(
                f"compare(): {small.design.formula!r} is not nested in {big.design.formula!r}; "
                "pass the models smallest first, each nested in the next"
            )
    last = fits[-1]
    chosen = _default_test(last, test)
    table = pd.DataFrame(
        {
            "df_resid": [f.df_resid for f in fits],
            "resid_deviance": [f.deviance for f in fits],
            "df": [np.nan] + [a.df_resid - b.df_resid for a, b in pairwise(fits)],
            "deviance": [np.nan] + [a.deviance - b.deviance for a, b in pairwise(fits)],
        },
        index=[f.design.formula for f in fits],
    )
    return _tests(table, last.dispersion, last.df_resid, chosen)


def compare(*fits: Any, **options: Any) -> pd.DataFrame:
    """Tests between nested fits, smallest first: GLMs by :func:`compare_glm`, least-squares fits
    by :func:`gradstat.linear.compare` (the F-test of R's ``anova(m1, m2)``)."""
    if fits and all(isinstance(fit, GLMResults) for fit in fits):
        return compare_glm(*fits, **options)
    if any(isinstance(fit, GLMResults) for fit in fits):
        raise TypeError("compare(): pass either GLM fits only or least-squares fits only, not a mixture")
    from gradstat.linear import compare as compare_ols

    return compare_ols(*fits, **options)
