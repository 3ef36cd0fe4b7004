"""Weighted least squares (R's lm(weights=)) against statsmodels' WLS, and sample_weight in OLS."""

import numpy as np
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

import gradstat
from gradstat import datasets

RTOL = 1e-10
FORMULA = "mpg ~ C(cyl) + wt + hp"


def _close(a, b, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=rtol, atol=0)


@pytest.fixture
def cars():
    data = datasets.load("mtcars")
    data["w"] = np.random.default_rng(0).uniform(0.2, 3.0, len(data))
    return data


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC0", "HC1", "HC2", "HC3"])
def test_every_statistic_equals_statsmodels_wls(cars, cov_type):
    ours = gradstat.ols(FORMULA, cars, weights="w", cov_type=cov_type)
    theirs = smf.wls(FORMULA, cars, weights=cars["w"]).fit(cov_type=cov_type, use_t=True)
    assert ours.coef.index.tolist() == theirs.params.index.tolist()
    _close(ours.coef, theirs.params)
    _close(ours.std_err, theirs.bse)
    _close(ours.t_values, theirs.tvalues)
    _close(ours.p_values, theirs.pvalues)
    _close(ours.conf_int(0.9), theirs.conf_int(0.1))
    _close(ours.fitted_values, theirs.fittedvalues)
    _close(ours.resid, theirs.resid, rtol=1e-9)
    assert ours.df_resid == theirs.df_resid and ours.nobs == theirs.nobs
    _close(ours.sse, theirs.ssr)
    _close(ours.ssr, theirs.ess)
    _close(ours.sst, theirs.centered_tss)
    _close(ours.r_squared, theirs.rsquared)
    _close(ours.adj_r_squared, theirs.rsquared_adj)
    _close(ours.f_statistic, theirs.fvalue)
    _close(ours.f_p_value, theirs.f_pvalue)


def test_predictions_equal_statsmodels(cars):
    ours = gradstat.ols(FORMULA, cars, weights="w")
    theirs = smf.wls(FORMULA, cars, weights=cars["w"]).fit()
    frame = theirs.get_prediction(cars.head(6)).summary_frame(alpha=0.1)
    confidence = ours.predict(cars.head(6), "confidence", 0.9)
    prediction = ours.predict(cars.head(6), "prediction", 0.9)
    _close(confidence[["lower", "upper"]], frame[["mean_ci_lower", "mean_ci_upper"]])
    _close(prediction[["lower", "upper"]], frame[["obs_ci_lower", "obs_ci_upper"]])


def test_influence_is_that_of_the_scaled_rows_as_r(cars):
    """R's hatvalues / rstandard / cooks.distance of a weighted lm: OLS on (√w X, √w y)."""
    ours = gradstat.ols(FORMULA, cars, weights="w")
    model = smf.ols(FORMULA, cars)
    root_w = np.sqrt(cars["w"].to_numpy())
    scaled = sm.OLS(model.endog * root_w, model.exog * root_w[:, None]).fit().get_influence()
    _close(ours.leverage, scaled.hat_matrix_diag)
    _close(ours.standardized_resid, scaled.resid_studentized_internal, rtol=1e-9)
    _close(ours.cooks_distance, scaled.cooks_distance[0], rtol=1e-9)


def test_sequential_anova_equals_differences_of_nested_wls_fits(cars):
    """Type I sums of squares with weights: SSE drops along the nested WLS fits (statsmodels')."""
    table = gradstat.ols(FORMULA, cars, weights="w").anova(by_term=True)
    nested = ("mpg ~ 1", "mpg ~ C(cyl)", "mpg ~ C(cyl) + wt", FORMULA)
    sse = [smf.wls(f, cars, weights=cars["w"]).fit().ssr for f in nested]
    _close(table["sum_sq"].iloc[:3], -np.diff(sse))


def test_zero_weights_leave_rows_out_of_the_fit_and_of_n_as_r(cars):
    cars.loc[cars.index[[2, 5, 11]], "w"] = 0.0
    ours = gradstat.ols(FORMULA, cars, weights="w")
    kept = cars[cars["w"] > 0]
    theirs = smf.wls(FORMULA, kept, weights=kept["w"]).fit()
    _close(ours.coef, theirs.params)
    _close(ours.std_err, theirs.bse)
    _close(ours.r_squared, theirs.rsquared)
    assert ours.nobs == 29 and ours.df_resid == 29 - 5
    # R still gives fitted values and residuals for the rows of weight 0
    _close(ours.fitted_values, theirs.predict(cars))
    assert len(ours.resid) == 32


def test_missing_drop_drops_the_weight_too(cars):
    cars.loc[cars.index[3], "hp"] = np.nan
    cars.loc[cars.index[7], "w"] = np.nan
    with pytest.raises(ValueError, match=r"weights column 'w' has 1 missing value"):
        gradstat.ols(FORMULA, cars, weights="w")
    ours = gradstat.ols(FORMULA, cars, weights="w", missing="drop")
    kept = cars.dropna(subset=["hp", "w"])
    theirs = smf.wls(FORMULA, kept, weights=kept["w"]).fit()
    _close(ours.coef, theirs.params)
    _close(ours.std_err, theirs.bse)
    assert ours.nobs == 30 and ours.n_dropped == 2


def test_weights_as_an_array_equal_weights_as_a_column(cars):
    a = gradstat.ols(FORMULA, cars, weights="w")
    b = gradstat.ols(FORMULA, cars, weights=cars["w"].to_numpy())
    _close(b.coef, a.coef, rtol=0)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ("wgt", r"weights='wgt' is not a column of the data"),
        (np.ones(5), r"one weight per sample, shape \(32,\); got shape \(5,\)"),
        (np.r_[-1.0, np.ones(31)], r"must be >= 0; 1 negative value\(s\), first at row 0"),
        (np.zeros(32), r"every weight is zero"),
        (np.r_[np.inf, np.ones(31)], r"infinite"),
    ],
)
def test_bad_weights_are_named(cars, weights, message):
    with pytest.raises(ValueError, match=message):
        gradstat.ols(FORMULA, cars, weights=weights)


def test_estimator_sample_weight_equals_statsmodels_wls(cars):
    X, y, w = cars[["wt", "hp", "qsec"]], cars["mpg"], cars["w"]
    model = gradstat.OLS(cov_type="HC2").fit(X, y, sample_weight=w)
    theirs = sm.WLS(y, sm.add_constant(X), weights=w).fit(cov_type="HC2")
    _close(model.results_.coef, theirs.params)
    _close(model.results_.std_err, theirs.bse)
    _close(model.predict(X), theirs.fittedvalues)
