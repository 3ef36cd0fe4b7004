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
    row holds its df (the rank it adds), the deviance ΔD it removes, and the residual df and
    deviance after it. Every prefix model is refitted by IRLS with the fit's weights and offset.
    With φ the dispersion of the full fit, ``Chisq`` tests ΔD / φ ~ χ²(Δdf) and ``F`` tests
    F = (ΔD / Δdf) / φ̂ ~ F(Δdf, df_resid). R's ``anova(fit, test=)``; statsmodels has no
    sequential analysis of deviance for GLMs.

    Parameters
    ----------
    fit : GLMResults
        The fitted model.
    test : {"Chisq", "F"}, optional
        The test; by default the family's: ``Chisq`` for binomial and poisson (φ = 1 known),
        ``F`` for gaussian and gamma (φ estimated), as R ≥ 4.4.

    Returns
    -------
    pandas.DataFrame
        Rows ``NULL`` and one per term; columns ``df``, ``deviance``, ``df_resid``,
        ``resid_deviance``, ``F`` (F test only) and ``p_value``.

    Raises
    ------
    ValueError
        For a ``test`` other than ``"Chisq"``, ``"F"`` or None.

    See Also
    --------
    compare_glm : the same tests between nested fits.
    GLMResults.anova : the same table, as a method.

    Examples
    --------
    >>> import gradstat
    >>> from gradstat import datasets
    >>> from gradstat.generalised import anova_glm
    >>> fit = gradstat.glm("mpg ~ wt + hp", datasets.load("mtcars"), family="gamma", link="log")
    >>> anova_glm(fit).round(4)
           df  deviance  df_resid  resid_deviance         F  p_value
    NULL  NaN       NaN        31          2.7353       NaN      NaN
    wt    1.0    2.1686        30          0.5667  162.8596   0.0000
    hp    1.0    0.1985        29          0.3682   14.9079   0.0006
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

    Row i tests model i against model i − 1 by the drop in deviance ΔD on Δdf degrees of
    freedom; with φ the dispersion of the last (largest) model, ``Chisq``: ΔD / φ ~ χ²(Δdf)
    (the likelihood-ratio test when φ = 1), ``F``: F = (ΔD / Δdf) / φ̂ ~ F(Δdf, df_resid of
    the last model). statsmodels has no such table for GLMs (its ``compare_lr_test`` is for
    least-squares fits).

    Parameters
    ----------
    *fits : GLMResults
        Two or more fits of the same family and link, to the same responses and weights,
        smallest first, each nested in the next.
    test : {"Chisq", "F"}, optional
        The test; by default ``Chisq`` for binomial and poisson, ``F`` for gaussian and gamma.

    Returns
    -------
    pandas.DataFrame
        One row per model, indexed by formula: ``df_resid``, ``resid_deviance``, then for each
        model after the first ``df``, ``deviance`` (the drop), ``F`` (F test only), ``p_value``.

    Raises
    ------
    ValueError
        For fewer than two fits, different families or links, different responses or weights,
        models that are not nested in the order given, or an unknown ``test``.
    TypeError
        When an argument is not a ``GLMResults``.

    See Also
    --------
    compare : dispatches least-squares and GLM fits.
    anova_glm : the sequential analysis of deviance of one fit.

    Examples
    --------
    >>> import gradstat
    >>> from gradstat import datasets
    >>> from gradstat.generalised import compare_glm
    >>> cars = datasets.load("mtcars")
    >>> small = gradstat.glm("mpg ~ wt", cars, family="gamma", link="log")
    >>> big = gradstat.glm("mpg ~ wt + hp", cars, family="gamma", link="log")
    >>> compare_glm(small, big).round(4)
                   df_resid  resid_deviance   df  deviance        F  p_value
    mpg ~ wt             30          0.5667  NaN       NaN      NaN      NaN
    mpg ~ wt + hp        29          0.3682  1.0    0.1985  14.9079   0.0006
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
    by :func:`gradstat.linear.compare` (the F-test of R's ``anova(m1, m2)``).

    Parameters
    ----------
    *fits : GLMResults or OLSResults
        Two or more fits of one kind, smallest first, each nested in the next.
    **options
        ``test`` for GLMs (see :func:`compare_glm`); least-squares fits take none.

    Returns
    -------
    pandas.DataFrame
        One row per model, indexed by formula, with the test of each model against the one
        before it.

    Raises
    ------
    TypeError
        When GLM and least-squares fits are mixed, an argument is not a fit, or fewer than two
        least-squares fits are given.
    ValueError
        When the models are not nested or not fitted to the same data, or fewer than two GLM
        fits are given.

    See Also
    --------
    compare_glm, gradstat.linear.compare : the two tests it dispatches to.

    Examples
    --------
    >>> import gradstat
    >>> from gradstat import datasets
    >>> data = datasets.load("warpbreaks")
    >>> small = gradstat.glm("breaks ~ wool", data, family="poisson")
    >>> big = gradstat.glm("breaks ~ wool + tension", data, family="poisson")
    >>> gradstat.compare(small, big)[["df", "deviance"]].round(4)      # ΔD ~ χ²(2)
                              df  deviance
    breaks ~ wool            NaN       NaN
    breaks ~ wool + tension  2.0   70.9416
    """
    if fits and all(isinstance(fit, GLMResults) for fit in fits):
        return compare_glm(*fits, **options)
    if any(isinstance(fit, GLMResults) for fit in fits):
        raise TypeError("compare(): pass either GLM fits only or least-squares fits only, not a mixture")
    from gradstat.linear import compare as compare_ols

    return compare_ols(*fits, **options)
