"""Every number of the fit against statsmodels (an oracle we did not write) on real tables."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

import gradstat
from gradstat import datasets

RTOL = 1e-10

# (table, formula, missing): categorical terms first so that patsy's term order equals ours
CASES = [
    ("mtcars", "mpg ~ C(cyl) + wt + hp", "raise"),
    ("mtcars", "mpg ~ C(gear) + C(am) + wt + qsec", "raise"),
    ("toothgrowth", "len ~ C(supp) + dose", "raise"),
    ("warpbreaks", "breaks ~ C(wool) + C(tension) + C(wool):C(tension)", "raise"),
    ("prestige", "prestige ~ C(type) + education + np.log(income) + women", "drop"),
]


def _pair(table, formula, missing):
    data = datasets.load(table)
    ours = gradstat.ols(formula, data, missing=missing)
    theirs = smf.ols(formula, data.dropna() if missing == "drop" else data).fit()
    return ours, theirs


def _close(a, b, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=rtol, atol=0)


@pytest.fixture(params=CASES, ids=[f"{t}:{f}" for t, f, _ in CASES])
def pair(request):
    return _pair(*request.param)


def test_coefficients_and_inference(pair):
    ours, theirs = pair
    assert ours.coef.index.tolist() == theirs.params.index.tolist()
    _close(ours.coef, theirs.params)
    _close(ours.std_err, theirs.bse)
    _close(ours.t_values, theirs.tvalues)
    _close(ours.p_values, theirs.pvalues)
    _close(ours.conf_int(0.9), theirs.conf_int(0.1))
    cov = theirs.cov_params().to_numpy()
    np.testing.assert_allclose(ours.cov, cov, rtol=RTOL, atol=1e-13 * np.abs(cov).max())


def test_fit_statistics(pair):
    ours, theirs = pair
    assert ours.nobs == theirs.nobs
    assert ours.df_resid == theirs.df_resid and ours.df_model == theirs.df_model
    _close(
        [ours.sse, ours.ssr, ours.sst, ours.sigma2, ours.r_squared, ours.adj_r_squared],
        [theirs.ssr, theirs.ess, theirs.centered_tss, theirs.scale, theirs.rsquared, theirs.rsquared_adj],
    )
    _close([ours.f_statistic, ours.f_p_value], [theirs.fvalue, theirs.f_pvalue])


def test_anova_by_term_matches_sequential_anova_lm(pair):
    ours, theirs = pair
    table = ours.anova(by_term=True)
    oracle = sm.stats.anova_lm(theirs, typ=1)
    assert table.index.tolist()[:-1] == oracle.index.tolist()[:-1]
    _close(table["df"], oracle["df"])
    _close(table["sum_sq"], oracle["sum_sq"])
    _close(table["F"].iloc[:-1], oracle["F"].iloc[:-1])
    _close(table["p_value"].iloc[:-1], oracle["PR(>F)"].iloc[:-1])


def test_anova_table_is_the_omnibus_test(pair):
    ours, theirs = pair
    table = ours.anova()
    assert table.index.tolist() == ["Regression", "Error", "Total"]
    _close(
        table.loc["Regression", ["df", "sum_sq", "F", "p_value"]],
        [theirs.df_model, theirs.ess, theirs.fvalue, theirs.f_pvalue],
    )
    _close(table.loc["Error", ["df", "sum_sq", "mean_sq"]], [theirs.df_resid, theirs.ssr, theirs.scale])
    _close(table.loc["Total", ["df", "sum_sq"]], [theirs.nobs - 1, theirs.centered_tss])


@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "HC2", "HC3"])
def test_robust_standard_errors(cov_type):
    data = datasets.load("mtcars")
    ours = gradstat.ols("mpg ~ C(cyl) + wt + hp", data, cov_type=cov_type)
    theirs = smf.ols("mpg ~ C(cyl) + wt + hp", data).fit(cov_type=cov_type, use_t=True)
    _close(ours.std_err, theirs.bse)
    _close(ours.p_values, theirs.pvalues)
    _close(ours.f_statistic, theirs.fvalue)


def test_prediction_intervals():
    data = datasets.load("mtcars")
    ours = gradstat.ols("mpg ~ C(cyl) + wt + hp", data)
    theirs = smf.ols("mpg ~ C(cyl) + wt + hp", data).fit()
    new = data.iloc[[0, 5, 20]]
    frame = theirs.get_prediction(new).summary_frame(alpha=0.05)
    conf = ours.predict(new, interval="confidence")
    pred = ours.predict(new, interval="prediction")
    _close(conf["fit"], frame["mean"])
    _close(conf[["lower", "upper"]], frame[["mean_ci_lower", "mean_ci_upper"]])
    _close(pred[["lower", "upper"]], frame[["obs_ci_lower", "obs_ci_upper"]])


def test_compare_nested_models_equals_f_test():
    data = datasets.load("mtcars")
    full = gradstat.ols("mpg ~ C(cyl) + wt + hp", data)
    reduced = gradstat.ols("mpg ~ wt", data)
    table = gradstat.compare(reduced, full)
    sm_full = smf.ols("mpg ~ C(cyl) + wt + hp", data).fit()
    sm_reduced = smf.ols("mpg ~ wt", data).fit()
    f, p, df = sm_full.compare_f_test(sm_reduced)
    oracle = sm.stats.anova_lm(sm_reduced, sm_full)
    _close([table["F"].iloc[1], table["p_value"].iloc[1], table["df"].iloc[1]], [f, p, df])
    _close(table["sse"], oracle["ssr"])
    _close(table["df_resid"], oracle["df_resid"])


def test_leverage_and_cooks_distance():
    data = datasets.load("mtcars")
    ours = gradstat.ols("mpg ~ C(cyl) + wt + hp", data)
    influence = smf.ols("mpg ~ C(cyl) + wt + hp", data).fit().get_influence()
    _close(ours.leverage, influence.hat_matrix_diag, rtol=1e-9)
    _close(ours.cooks_distance, influence.cooks_distance[0], rtol=1e-9)
    _close(ours.standardized_resid, influence.resid_studentized_internal, rtol=1e-9)


def test_no_intercept_uses_uncentred_sums_of_squares():
    data = datasets.load("mtcars")
    ours = gradstat.ols("mpg ~ 0 + wt + hp", data)
    theirs = smf.ols("mpg ~ 0 + wt + hp", data).fit()
    assert not ours.has_intercept
    assert ours.df_resid == 30 and ours.df_model == 2
    _close(
        [ours.r_squared, ours.f_statistic, ours.sst], [theirs.rsquared, theirs.fvalue, theirs.uncentered_tss]
    )


def test_estimator_matches_formula_fit_and_statsmodels():
    data = datasets.load("mtcars")
    X = data[["wt", "hp", "qsec"]]
    est = gradstat.OLS().fit(X, data["mpg"])
    theirs = sm.OLS(data["mpg"], sm.add_constant(X)).fit()
    assert est.results_.coef.index.tolist() == ["Intercept", "wt", "hp", "qsec"]
    _close(np.r_[est.intercept_, est.coef_], theirs.params)
    _close(est.results_.std_err, theirs.bse)
    _close(est.predict(X), theirs.fittedvalues)
    arrays = gradstat.OLS().fit(X.to_numpy(), data["mpg"].to_numpy())
    assert arrays.results_.coef.index.tolist() == ["Intercept", "x0", "x1", "x2"]


def test_missing_drop_reports_the_dropped_rows():
    fit = gradstat.ols("prestige ~ education + C(type)", datasets.load("prestige"), missing="drop")
    assert fit.n_dropped == 4 and fit.nobs == 98
    assert "4 row(s) with missing values dropped" in str(fit.summary())


def test_summary_text_has_the_numbers():
    fit = gradstat.ols("mpg ~ C(cyl) + wt + hp", datasets.load("mtcars"))
    text = str(fit.summary())
    assert "C(cyl)[T.8]" in text
    assert f"on {fit.df_model} and {fit.df_resid} DF" in text
    assert f"{fit.r_squared:.6g}" in text
    assert "<table" in fit.summary()._repr_html_()
    assert isinstance(fit.summary().coefficients, pd.DataFrame)


def test_diagnostics_plot_has_the_four_panels_of_r():
    fit = gradstat.ols("mpg ~ C(cyl) + wt + hp", datasets.load("mtcars"))
    fig = fit.plot_diagnostics()
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:3] == ["Residuals vs Fitted", "Normal Q-Q", "Scale-Location"]
    assert titles[3].startswith("Residuals vs Leverage")
    x, y = fig.axes[0].collections[0].get_offsets().T
    np.testing.assert_allclose(x, fit.fitted_values)
    np.testing.assert_allclose(y, fit.resid)
