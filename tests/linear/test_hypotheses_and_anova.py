"""Log-likelihood and information criteria, linear hypotheses, type II/III ANOVA, sequences of
nested models and variance inflation factors — against statsmodels and R's published values."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.stats.anova import anova_lm
from statsmodels.stats.outliers_influence import variance_inflation_factor

import gradstat
from gradstat import datasets

RTOL = 1e-10


def _close(a, b, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=rtol, atol=0)


@pytest.fixture
def cars():
    return datasets.load("mtcars")


def test_loglik_aic_bic_are_rs(cars):
    """R 4.x: logLik(lm(mpg ~ wt, mtcars)) = -80.01471 (df = 3), AIC 166.0294, BIC 170.4266."""
    fit = gradstat.ols("mpg ~ wt", cars)
    assert fit.llf == pytest.approx(-80.01471, abs=5e-6)
    assert fit.aic == pytest.approx(166.0294, abs=5e-5)
    assert fit.bic == pytest.approx(170.4266, abs=5e-5)


@pytest.mark.parametrize("weighted", [False, True])
def test_loglik_equals_statsmodels_and_aic_counts_sigma(cars, weighted):
    """statsmodels' llf is R's; its aic/bic count only the rank, R's count σ² as well."""
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(cars)) if weighted else None
    formula = "mpg ~ C(cyl) + wt + hp"
    fit = gradstat.ols(formula, cars, weights=w)
    theirs = (smf.wls(formula, cars, weights=w) if weighted else smf.ols(formula, cars)).fit()
    _close(fit.llf, theirs.llf)
    _close(fit.aic, theirs.aic + 2)
    _close(fit.bic, theirs.bic + np.log(theirs.nobs))


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC3"])
def test_f_and_t_tests_equal_statsmodels(cars, cov_type):
    formula = "mpg ~ C(cyl) + wt + hp"
    fit = gradstat.ols(formula, cars, cov_type=cov_type)
    theirs = smf.ols(formula, cars).fit(cov_type=cov_type, use_t=True)
    for text in ["hp = 0, wt = 2 * hp", "C(cyl)[T.6] - C(cyl)[T.8] = 1", "wt/2 + 3*hp = -(1 - Intercept/10)"]:
        ours_f, ref_f = fit.f_test(text), theirs.f_test(text)
        _close(ours_f.statistic, ref_f.fvalue)
        _close(ours_f.p_value, ref_f.pvalue)
        assert (ours_f.df_num, ours_f.df_denom) == (ref_f.df_num, ref_f.df_denom)
        ours_t = fit.t_test(text, level=0.9).to_frame()
        ref_t = theirs.t_test(text).summary_frame(alpha=0.1)
        _close(ours_t["estimate"], ref_t["coef"])
        _close(ours_t["std_err"], ref_t["std err"])
        _close(ours_t["t"], ref_t["t"])
        _close(ours_t["p_value"], ref_t["P>|t|"])
        _close(ours_t[["lower", "upper"]], ref_t[["Conf. Int. Low", "Conf. Int. Upp."]])


def test_hypothesis_as_a_matrix(cars):
    fit = gradstat.ols("mpg ~ wt + hp", cars)
    theirs = smf.ols("mpg ~ wt + hp", cars).fit()
    L, q = np.array([[0, 1, 0], [0, 0, 1]]), np.array([-3.0, 0.0])
    _close(fit.f_test(L, q).statistic, theirs.f_test((L, q)).fvalue)
    assert isinstance(fit.f_test(L, q).to_frame(), pd.DataFrame)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("wt * hp = 0", "product of two coefficients is not linear"),
        ("__import__('os').system('true')", "only numbers, coefficient names"),
        ("wgt = 0", "'wgt' is not a coefficient name|cannot parse"),
        ("wt = 0 = 1", "more than one '='"),
        ("3 = 3", "involves no coefficient"),
        ("wt = 0, wt = 0", "linearly dependent"),
        ("wt / hp = 1", "division by a coefficient"),
    ],
)
def test_bad_hypotheses_are_refused_without_evaluation(cars, text, message):
    fit = gradstat.ols("mpg ~ wt + hp", cars)
    with pytest.raises(ValueError, match=message):
        fit.f_test(text)


@pytest.mark.parametrize("typ", [2, 3])
@pytest.mark.parametrize(
    ("table", "formula"),
    [
        ("warpbreaks", "breaks ~ C(wool) * C(tension)"),
        ("warpbreaks", "breaks ~ C(wool, Sum) * C(tension, Sum)"),
        ("mtcars", "mpg ~ C(cyl) + wt + hp + wt:hp"),
        ("prestige", "prestige ~ C(type) + education + np.log(income)"),
    ],
)
def test_anova_types_2_and_3_equal_statsmodels(table, formula, typ):
    data = datasets.load(table).dropna()
    ours = gradstat.ols(formula, data).anova(typ=typ)
    theirs = anova_lm(smf.ols(formula, data).fit(), typ=typ)
    assert ours.index[:-1].tolist() == theirs.index[:-1].tolist()
    _close(ours["sum_sq"], theirs["sum_sq"], rtol=1e-9)
    _close(ours["df"], theirs["df"])
    _close(ours["F"].iloc[:-1], theirs["F"].iloc[:-1], rtol=1e-9)
    _close(ours["p_value"].iloc[:-1], theirs["PR(>F)"].iloc[:-1], rtol=1e-8)


def test_anova_type_1_is_the_sequential_table(cars):
    fit = gradstat.ols("mpg ~ C(cyl) + wt + hp", cars)
    pd.testing.assert_frame_equal(fit.anova(typ=1), fit.anova(by_term=True))
    with pytest.raises(ValueError, match="typ must be 1, 2 or 3"):
        fit.anova(typ=4)


def test_compare_a_sequence_of_nested_models(cars):
    formulas = ["mpg ~ wt", "mpg ~ wt + hp", "mpg ~ wt + hp + C(cyl)", "mpg ~ wt * hp + C(cyl)"]
    ours = gradstat.compare(*[gradstat.ols(f, cars) for f in formulas])
    theirs = anova_lm(*[smf.ols(f, cars).fit() for f in formulas])
    _close(ours["sse"], theirs["ssr"])
    _close(ours["df"].iloc[1:], theirs["df_diff"].iloc[1:])
    _close(ours["sum_sq"].iloc[1:], theirs["ss_diff"].iloc[1:])
    _close(ours["F"].iloc[1:], theirs["F"].iloc[1:])  # every F uses the largest model's σ̂²
    # the last row's test is that of the last pair; earlier p-values use the largest model's
    # residual df (R's anova.lmlist), where statsmodels takes each row's own
    _close(ours["p_value"].iloc[-1], theirs["Pr(>F)"].iloc[-1])
    with pytest.raises(ValueError, match="reversed"):
        gradstat.compare(*[gradstat.ols(f, cars) for f in reversed(formulas)])
    with pytest.raises(TypeError, match="at least two"):
        gradstat.compare(gradstat.ols(formulas[0], cars))


def test_vif_equals_statsmodels(cars):
    fit = gradstat.ols("mpg ~ C(cyl) + wt + hp + disp", cars)
    exog = smf.ols("mpg ~ C(cyl) + wt + hp + disp", cars).fit().model.exog
    ref = [variance_inflation_factor(exog, j) for j in range(1, exog.shape[1])]
    _close(fit.vif(), ref, rtol=1e-9)
    assert fit.vif().index.tolist() == fit.coef.index[1:].tolist()
