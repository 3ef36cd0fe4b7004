"""The rank decision trusts the refined solver; R's rule on request; condition and digits reported."""

import warnings

import numpy as np
import pandas as pd
import pytest

import gradstat
from gradstat.linear import CollinearityWarning
from gradstat.linear.lstsq import least_squares
from tests.linear.oracles import digits, exact_least_squares, rel_error


def _degree_ten():
    x = np.linspace(-9.0, -3.0, 82)
    data = pd.DataFrame({"x": x, "y": np.exp(x / 3.0) + 0.01 * np.sin(37.0 * x)})
    formula = "y ~ x + " + " + ".join(f"I(x**{k})" for k in range(2, 11))
    return data, formula


def test_degree_ten_polynomial_keeps_x10_and_the_exact_solution():
    data, formula = _degree_ten()
    with warnings.catch_warnings():
        warnings.simplefilter("error", CollinearityWarning)
        fit = gradstat.ols(formula, data)
    assert not fit.aliased
    assert 1e9 < fit.solution.condition_number < 1e11
    exact = exact_least_squares(fit.design.X, fit.design.y)
    assert digits(rel_error(fit.coef.to_numpy(), exact.coef)) >= 13
    assert digits(rel_error(fit.std_err.to_numpy() ** 2 / fit.sigma2, exact.cov_diag)) >= 12
    # the estimate is honest: no more digits are claimed than are there
    assert fit.solution.correct_digits <= digits(rel_error(fit.coef.to_numpy(), exact.coef))


def test_rs_rule_is_available_through_rank_tol():
    data, formula = _degree_ten()
    with pytest.warns(CollinearityWarning, match=r"I\(x \*\* 10\)"):
        fit = gradstat.ols(formula, data, rank_tol=1e-7)
    assert fit.aliased == ["I(x ** 10)"]


def test_exact_rank_deficiency_is_still_aliased():
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"a": rng.standard_normal(40), "b": rng.standard_normal(40)})
    data["c"] = data["a"] - 3 * data["b"]
    data["y"] = data["a"] + rng.standard_normal(40)
    with pytest.warns(CollinearityWarning, match="'c'"):
        fit = gradstat.ols("y ~ a + b + c", data)
    assert fit.aliased == ["c"]


def test_summary_shows_condition_number_and_correct_digits():
    data, formula = _degree_ten()
    text = str(gradstat.ols(formula, data).summary())
    assert "Condition number (unit-norm columns): 3.13e+09" in text
    assert "estimated correct digits: 12.9 (refined in double-double)" in text


def test_raw_poly_never_worse_than_the_direct_design():
    """x = 0..20: the plain powers are exact in float64, so the direct design is the exact data."""
    x = np.arange(21.0)
    data = pd.DataFrame({"x": x, "y": np.exp(x / 7.0) + np.sin(x)})
    direct = gradstat.ols("y ~ x + I(x**2) + I(x**3) + I(x**4) + I(x**5)", data)
    exact = exact_least_squares(direct.design.X, direct.design.y)
    raw = gradstat.ols("y ~ poly(x, 5, raw=True)", data)
    d_raw = digits(rel_error(raw.coef.to_numpy(), exact.coef))
    assert d_raw >= digits(rel_error(direct.coef.to_numpy(), exact.coef))
    assert d_raw >= 15
    assert digits(rel_error(raw.std_err.to_numpy() ** 2 / raw.sigma2, exact.cov_diag)) >= 14


def test_a_rare_factor_level_does_not_switch_on_refinement():
    """Five numeric predictors and a factor with a level held by 7 of 200,000 rows: well-conditioned
    once the columns have unit norm, so the float64 QR solution is kept (and is accurate)."""
    rng = np.random.default_rng(2)
    n = 200_000
    data = pd.DataFrame({f"x{j}": rng.standard_normal(n) for j in range(1, 6)})
    level = rng.choice(["a", "b", "c"], n)
    level[rng.choice(n, 7, replace=False)] = "d"
    data["g"] = level
    data["y"] = data.sum(axis=1, numeric_only=True) + rng.standard_normal(n)
    fit = gradstat.ols("y ~ x1 + x2 + x3 + x4 + x5 + C(g)", data)
    assert not fit.solution.refined and fit.solution.condition_number < 10
    forced = least_squares(fit.design.X, fit.design.y, refine=True)
    np.testing.assert_allclose(fit.coef.to_numpy(), forced.coef, rtol=1e-13)
