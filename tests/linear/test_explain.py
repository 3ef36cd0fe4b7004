"""fit.explain(): the numbers printed in each formula, read back, are statsmodels' values."""

import re

import numpy as np
import pytest
import statsmodels.formula.api as smf

import gradstat
from gradstat import datasets

FORMULA = "mpg ~ C(cyl) + wt + hp"
SIX_DIGITS = 1e-5  # numbers are printed to six significant digits
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def numbers_shown(explanation):
    """The numbers of the printed ``formula = numbers = value``, left to right (its last two parts)."""
    shown = f"{explanation.substituted} = {explanation.value}"
    assert str(explanation).endswith(shown)
    shown = re.sub(r"log 2π", "", shown)
    shown = re.sub(r"[A-Za-zβσ̂²]+\[[^\]]*\]", "", shown)  # names such as β̂[C(cyl)[T.6]]
    return [float(v) for v in NUMBER.findall(shown)]


@pytest.fixture(scope="module")
def pair():
    data = datasets.load("mtcars")
    return gradstat.ols(FORMULA, data), smf.ols(FORMULA, data).fit()


def _check(explanation, expected):
    np.testing.assert_allclose(numbers_shown(explanation), expected, rtol=SIX_DIGITS, atol=0)


def test_the_f_statistic_as_the_issue_writes_it(pair):
    ours, theirs = pair
    e = ours.explain("f_statistic")
    assert str(e).startswith(
        "F = (SSR / df_model) / (SSE / df_resid) = (965.27 / 4) / (160.778 / 27) = 40.525"
    )
    _check(e, [theirs.ess, theirs.df_model, theirs.ssr, theirs.df_resid, theirs.fvalue])
    frame = e.to_frame()
    np.testing.assert_allclose(
        frame.loc[["SSR", "SSE", "F"], "value"], [theirs.ess, theirs.ssr, theirs.fvalue], rtol=1e-10
    )


def test_whole_fit_statistics(pair):
    ours, theirs = pair
    n = theirs.nobs
    _check(ours.explain("r_squared"), [theirs.ess, theirs.centered_tss, theirs.rsquared])
    _check(
        ours.explain("adj_r_squared"), [1, 1, theirs.rsquared, n - 1, theirs.df_resid, theirs.rsquared_adj]
    )
    _check(ours.explain("sigma"), [theirs.ssr, theirs.df_resid, np.sqrt(theirs.scale)])
    _check(ours.explain("sigma2"), [theirs.ssr, theirs.df_resid, theirs.scale])
    _check(ours.explain("f_p_value"), [theirs.df_model, theirs.df_resid, theirs.fvalue, theirs.f_pvalue])
    k = theirs.df_model + 2  # coefficients and σ² (R's convention; statsmodels' aic counts k − 1)
    _check(ours.explain("aic"), [-2, theirs.llf, 2, k, theirs.aic + 2])
    _check(ours.explain("bic"), [-2, theirs.llf, n, k, theirs.bic + np.log(n)])
    _check(ours.explain("llf"), [n, 2, 1, n, theirs.ssr, theirs.llf])


def test_per_term_statistics(pair):
    ours, theirs = pair
    unscaled = theirs.normalized_cov_params.loc["wt", "wt"]
    _check(ours.explain("std_err", term="wt"), [np.sqrt(theirs.scale), unscaled, theirs.bse["wt"]])
    _check(ours.explain("t_values", term="hp"), [theirs.params["hp"], theirs.bse["hp"], theirs.tvalues["hp"]])
    _check(
        ours.explain("p_values", term="hp"),
        [2, theirs.df_resid, abs(theirs.tvalues["hp"]), theirs.pvalues["hp"]],
    )
    ci = theirs.conf_int(0.1).loc["wt"]
    from scipy import stats

    q = stats.t.ppf(0.95, theirs.df_resid)
    _check(
        ours.explain("conf_int", term="wt", level=0.9),
        [theirs.params["wt"], q, theirs.bse["wt"], ci[0], ci[1]],
    )
    every = ours.explain("t_values")
    assert len(every.items) == 5
    for e, name in zip(every.items, theirs.params.index, strict=True):
        assert numbers_shown(e)[-1] == pytest.approx(theirs.tvalues[name], rel=SIX_DIGITS)


def test_robust_standard_error_is_the_sandwich_diagonal():
    data = datasets.load("mtcars")
    ours = gradstat.ols(FORMULA, data, cov_type="HC3")
    theirs = smf.ols(FORMULA, data).fit(cov_type="HC3")
    _check(ours.explain("std_err", term="wt"), [theirs.cov_params().loc["wt", "wt"], theirs.bse["wt"]])
    with pytest.raises(ValueError, match="Wald test"):
        ours.explain("f_statistic")


def test_bad_requests_name_what_exists(pair):
    ours, _ = pair
    with pytest.raises(ValueError, match="cannot explain 'coef_of_variation'; choose one of"):
        ours.explain("coef_of_variation")
    with pytest.raises(ValueError, match=r"term 'weight' is not a coefficient"):
        ours.explain("std_err", term="weight")
    with pytest.raises(ValueError, match="takes no term"):
        ours.explain("r_squared", term="wt")
