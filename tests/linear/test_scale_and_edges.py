"""Issue 12's numeric edges: scale equivariance across the float range, large-mean predictors,
perfect fits, and HC2/HC3 with a row of leverage one."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import gradstat
from gradstat.linear import CollinearityWarning, PerfectFitWarning
from tests.linear.oracles import digits, exact_least_squares, rel_error


def _frame(seed: int, n: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = pd.DataFrame({"x1": rng.standard_normal(n), "x2": rng.uniform(-2, 2, n)})
    data["y"] = data["x1"] - 0.5 * data["x2"] + rng.standard_normal(n)
    return data


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    x_exponent=st.integers(-300, 300),
    y_exponent=st.integers(-300, 300),
)
def test_every_statistic_is_scale_equivariant_across_the_float_range(seed, x_exponent, y_exponent):
    """x × 10^a and y × 10^b: slopes scale by 10^(b−a), the intercept by 10^b; R², t, F, p unchanged
    (wherever the slopes themselves are float64 numbers, |b − a| <= 300)."""
    assume(abs(y_exponent - x_exponent) <= 300)
    data = _frame(seed)
    base = gradstat.ols("y ~ x1 + x2", data)
    sx, sy = 10.0**x_exponent, 10.0**y_exponent
    scaled = data.assign(x1=data["x1"] * sx, x2=data["x2"] * sx, y=data["y"] * sy)
    fit = gradstat.ols("y ~ x1 + x2", scaled)
    factor = np.array([sy, sy / sx, sy / sx])
    for name in ("coef", "std_err"):
        got = getattr(fit, name).to_numpy()
        assert np.isfinite(got).all(), name
        np.testing.assert_allclose(got / factor, getattr(base, name).to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(fit.t_values, base.t_values, rtol=1e-9)
    np.testing.assert_allclose(fit.p_values, base.p_values, rtol=1e-8)
    assert fit.r_squared == pytest.approx(base.r_squared, rel=1e-11)
    assert fit.adj_r_squared == pytest.approx(base.adj_r_squared, rel=1e-11)
    assert fit.f_statistic == pytest.approx(base.f_statistic, rel=1e-10)
    assert fit.llf == pytest.approx(base.llf - len(data) * np.log(sy), rel=1e-10, abs=1e-8)
    ci = fit.conf_int().to_numpy() / factor[:, None]
    np.testing.assert_allclose(ci, base.conf_int().to_numpy(), rtol=1e-9)


def test_data_times_1e300_and_1e_minus_300():
    data = _frame(1)
    base = gradstat.ols("y ~ x1 + x2", data)
    for scale in (1e300, 1e-300):
        fit = gradstat.ols("y ~ x1 + x2", data * scale)
        assert np.isfinite(fit.std_err).all()
        assert fit.r_squared == pytest.approx(base.r_squared, rel=1e-12)
        np.testing.assert_allclose(fit.t_values, base.t_values, rtol=1e-10)


def test_a_large_mean_small_spread_predictor_is_not_collinear():
    data = _frame(2)
    data["x1"] = 1e8 + data["x1"]  # spread 1, mean 1e8: R's rule (tol 1e-7) would alias it
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollinearityWarning)
        fit = gradstat.ols("y ~ x1 + x2", data)
    exact = exact_least_squares(fit.design.X, fit.design.y)
    assert digits(rel_error(fit.coef.to_numpy(), exact.coef)) >= 12
    assert digits(rel_error(fit.std_err.to_numpy() ** 2 / fit.sigma2, exact.cov_diag)) >= 12


def test_a_perfect_fit_warns_as_r():
    data = _frame(3)
    data["y"] = 2.0 * data["x1"] + 3.0
    with pytest.warns(PerfectFitWarning, match="essentially perfect fit: summary may be unreliable"):
        gradstat.ols("y ~ x1 + x2", data)


def test_an_ordinary_fit_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectFitWarning)
        gradstat.ols("y ~ x1 + x2", _frame(4))


@pytest.mark.parametrize("cov_type", ["HC2", "HC3"])
def test_hc2_hc3_name_a_row_of_leverage_one(cov_type):
    data = _frame(5).set_index(pd.Index([f"r{i}" for i in range(30)]))
    data["g"] = ["a"] * 29 + ["b"]  # level b has one row: its dummy fits that row exactly
    with pytest.raises(ValueError, match=r"1 row\(s\) have leverage h = 1 .*\['r29'\].*HC0"):
        gradstat.ols("y ~ x1 + C(g)", data, cov_type=cov_type)
    fit = gradstat.ols("y ~ x1 + C(g)", data, cov_type="HC1")
    assert np.isfinite(fit.std_err["x1"])
