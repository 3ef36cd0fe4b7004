"""Separation, non-convergence and bad input: named, never a silent wrong answer."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import gradstat
from gradstat.generalised import SeparationWarning
from gradstat.validation import ConvergenceWarning

FRAME = pd.DataFrame(
    {
        "x": [0.5, 1.1, 2.0, 2.9, 4.2, 5.0, 6.1, 7.3],
        "y": [0, 1, 0, 0, 1, 1, 0, 1],
        "n": [3, 4, 5, 3, 6, 2, 4, 5],
        "g": list("aabbccdd"),
    }
)


def test_complete_separation_is_named():
    data = pd.DataFrame({"x": [1.0, 2, 3, 4, 5, 6], "y": [0, 0, 0, 1, 1, 1]})
    with pytest.warns(SeparationWarning, match=r"complete separation .*\['Intercept', 'x'\].* 6 observation"):
        gradstat.glm("y ~ x", data, family="binomial")


def test_quasi_complete_separation_names_the_factor_level_and_rows():
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"x": rng.normal(size=60), "g": np.repeat(["a", "b", "c"], 20)})
    data["y"] = (rng.uniform(size=60) < 0.5).astype(float)
    data.loc[data.g == "c", "y"] = 0.0
    with pytest.warns(
        SeparationWarning, match=r"quasi-complete separation .*\['C\(g\)\[T.c\]'\].* 20 obs.*rows 40, 41"
    ):
        fit = gradstat.glm("y ~ x + C(g)", data, family="binomial")
    assert fit.coef["C(g)[T.c]"] < -15  # diverging, as R's estimate


def test_data_that_overlap_raise_no_separation_warning():
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"x": rng.normal(size=80)})
    data["y"] = (rng.uniform(size=80) < 1 / (1 + np.exp(-data.x))).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradstat.glm("y ~ x", data, family="binomial")


def test_non_convergence_warns_with_the_deviance_change():
    with pytest.warns(
        ConvergenceWarning,
        match=r"did not converge in 2 iterations; the last relative change in deviance was",
    ):
        fit = gradstat.glm("y ~ x", FRAME, family="binomial", max_iter=2)
    assert not fit.converged and fit.n_iter == 2


def test_two_count_columns_equal_proportions_with_trials():
    successes = np.minimum(FRAME.y * 2 + 1, FRAME.n)
    counts = FRAME.assign(s=successes, f=FRAME.n - successes)
    a = gradstat.glm("cbind(s, f) ~ x", counts, family="binomial")
    b = gradstat.glm("p ~ x", counts.assign(p=counts.s / counts.n), family="binomial", weights="n")
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12)
    ref = sm.GLM(np.c_[counts.s, counts.f], sm.add_constant(counts.x), family=sm.families.Binomial()).fit(
        tol=1e-14
    )
    np.testing.assert_allclose(a.coef, ref.params, rtol=1e-9)
    np.testing.assert_allclose(a.llf, ref.llf, rtol=1e-11)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"family": "tweedie"}, "family must be one of"),
        ({"family": "poisson", "link": "logit"}, "link 'logit' is not available for the poisson family"),
        ({"family": "binomial", "weights": "nope"}, "weights='nope' is not a column"),
        (
            {"family": "binomial", "weights": [1.0, 2.0]},
            r"weights must have one value per row of the data \(8\)",
        ),
        ({"family": "binomial", "weights": -FRAME.n}, "weights must be ≥ 0"),
        ({"family": "binomial", "offset": [np.nan] * 8}, "offset contains 8 NaN"),
        ({"family": "binomial", "max_iter": 0}, "max_iter must be a positive integer"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gradstat.glm("y ~ x", FRAME, **kwargs)


@pytest.mark.parametrize(
    ("formula", "family", "message"),
    [
        ("x ~ n", "binomial", "binomial responses must be 0/1 or proportions"),
        ("I(-x) ~ n", "poisson", "poisson responses must be counts"),
        ("y ~ x", "gamma", "gamma responses must be positive"),
        ("cbind(y, n) ~ x", "poisson", "cbind\\(successes, failures\\) is a binomial response"),
        ("cbind(y) ~ x", "binomial", "cbind\\(\\) takes two columns"),
        ("cbind(y, I(-n)) ~ x", "binomial", "successes and failures must be counts"),
    ],
)
def test_responses_outside_the_family_are_named(formula, family, message):
    with pytest.raises(ValueError, match=message):
        gradstat.glm(formula, FRAME, family=family)


def test_wrong_statistic_name_explains_z_or_t():
    fit = gradstat.glm("y ~ x", FRAME, family="binomial")
    with pytest.raises(AttributeError, match=r"z values .*use z_values"):
        _ = fit.t_values
    gaussian = gradstat.glm("x ~ n", FRAME, family="gaussian")
    with pytest.raises(AttributeError, match=r"t values .*use t_values"):
        _ = gaussian.z_values


def test_prediction_arguments_are_checked():
    fit = gradstat.glm("y ~ x", FRAME, family="binomial")
    with pytest.raises(ValueError, match="type must be 'link' or 'response'"):
        fit.predict(FRAME, type="probability")
    with pytest.raises(ValueError, match="no prediction interval"):
        fit.predict(FRAME, interval="prediction")
    with pytest.raises(ValueError, match=r"offset must have one value per new row \(8\)"):
        fit.predict(FRAME, offset=[0.0, 1.0])
    with pytest.raises(ValueError, match="type must be one of"):
        fit.residuals("raw")


@pytest.mark.filterwarnings("ignore::gradstat.generalised.SeparationWarning")  # 8 rows, 4 levels
def test_compare_refuses_models_that_are_not_nested_or_not_alike():
    small = gradstat.glm("y ~ x", FRAME, family="binomial")
    other = gradstat.glm("y ~ C(g)", FRAME, family="binomial")
    with pytest.raises(ValueError, match="is not nested in"):
        gradstat.compare(small, other)
    probit = gradstat.glm("y ~ x + C(g)", FRAME, family="binomial", link="probit")
    with pytest.raises(ValueError, match="deviances of different families or links are not comparable"):
        gradstat.compare(small, probit)
    with pytest.raises(TypeError, match="not a mixture"):
        gradstat.compare(small, gradstat.ols("y ~ x", FRAME))


def test_summary_reads_as_r():
    fit = gradstat.glm("y ~ x", FRAME, family="binomial")
    text = str(fit.summary())
    assert "(Dispersion parameter for binomial family taken to be 1)" in text
    assert f"Residual deviance: {fit.deviance:.6g}  on 6 degrees of freedom" in text
    assert f"    Null deviance: {fit.null_deviance:.6g}  on 7 degrees of freedom" in text
    assert f"Number of Fisher Scoring iterations: {fit.n_iter}" in text
    assert "Wald intervals" in text
    assert "<table" in fit.summary()._repr_html_()
    gamma = gradstat.glm("n ~ x", FRAME, family="gamma")
    assert f"(Dispersion parameter for gamma family taken to be {gamma.dispersion:.6g})" in str(
        gamma.summary()
    )


def test_dropped_rows_take_their_weights_and_offsets_with_them():
    data = FRAME.assign(x=[0.5, np.nan, 4.5, 2.9, 1.2, 5.0, np.nan, 7.3], off=np.linspace(-0.2, 0.2, 8))
    data.index = [10, 11, 12, 13, 14, 15, 16, 17]
    fit = gradstat.glm(
        "y ~ x", data, family="binomial", weights=data.n.to_numpy(), offset="off", missing="drop"
    )
    kept = data.dropna()
    ref = sm.GLM(
        kept.y, sm.add_constant(kept.x), family=sm.families.Binomial(), var_weights=kept.n, offset=kept.off
    )
    np.testing.assert_allclose(fit.coef, ref.fit(tol=1e-14).params, rtol=1e-9)
    assert list(fit.fitted_values.index) == [10, 12, 13, 14, 15, 17] and fit.n_dropped == 2
