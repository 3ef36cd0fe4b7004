"""Bad input gets a clear error naming the column, the shape or the formula — never a wrong answer."""

import re

import numpy as np
import pandas as pd
import pytest

import gradstat
from gradstat import datasets
from gradstat.linear import CollinearityWarning


@pytest.fixture
def cars():
    return datasets.load("mtcars")


def test_nan_in_a_used_column_names_it_and_counts_rows(cars):
    cars.loc[[1, 4, 7], "hp"] = np.nan
    with pytest.raises(ValueError, match=r"3 row\(s\).*'hp' \(3\).*missing='drop'"):
        gradstat.ols("mpg ~ wt + hp", cars)
    fit = gradstat.ols("mpg ~ wt + hp", cars, missing="drop")
    assert fit.nobs == 29 and fit.n_dropped == 3


def test_nan_in_an_unused_column_does_not_matter(cars):
    cars.loc[0, "qsec"] = np.nan
    assert gradstat.ols("mpg ~ wt", cars).nobs == 32


def test_infinite_values_are_refused(cars):
    cars.loc[2, "wt"] = np.inf
    with pytest.raises(ValueError, match="'wt' contains 1 infinite"):
        gradstat.ols("mpg ~ wt", cars, missing="drop")


def test_transform_creating_inf_names_the_design_column(cars):
    cars.loc[0, "hp"] = 0
    with pytest.raises(ValueError, match=re.escape("'np.log(hp)' (1)")):
        gradstat.ols("mpg ~ np.log(hp)", cars)


def test_unknown_column_suggests_close_names(cars):
    with pytest.raises(ValueError, match=r"'wgt' \(did you mean 'wt'"):
        gradstat.ols("mpg ~ wgt + hp", cars)


def test_too_few_rows_says_n_and_p(cars):
    with pytest.raises(ValueError, match=r"n = 3 rows but 4 parameters \(p = 3 predictors \+ intercept\)"):
        gradstat.ols("mpg ~ wt + hp + qsec", cars.head(3))


def test_constant_response(cars):
    cars["mpg"] = 20.0
    with pytest.raises(ValueError, match="'mpg' is constant"):
        gradstat.ols("mpg ~ wt", cars)


def test_empty_data(cars):
    with pytest.raises(ValueError, match="no rows"):
        gradstat.ols("mpg ~ wt", cars.iloc[:0])


def test_text_in_a_numeric_column_is_named(cars):
    cars["hp"] = cars["hp"].astype(object)
    cars.loc[3, "hp"] = "n/a"
    message = r"'hp' holds numbers stored as text .*also text value\(s\) \['n/a'\]"
    with pytest.raises(ValueError, match=message):
        gradstat.ols("mpg ~ wt + hp", cars)


def test_text_response_is_refused():
    frame = pd.DataFrame({"y": list("abcdef"), "x": np.arange(6.0)})
    with pytest.raises(ValueError, match="response 'y' must be numeric"):
        gradstat.ols("y ~ x", frame)


def test_unseen_level_at_predict_is_named(cars):
    fit = gradstat.ols("mpg ~ wt + C(cyl)", cars)
    new = pd.DataFrame({"wt": [3.0], "cyl": [5]})
    with pytest.raises(ValueError, match=r"level\(s\) 5 not seen"):
        fit.predict(new)


def test_collinear_columns_are_aliased_by_name_with_a_warning(cars):
    cars["wt2"] = 2.0 * cars["wt"]
    with pytest.warns(CollinearityWarning, match=r"\['wt2'\]"):
        fit = gradstat.ols("mpg ~ wt + hp + wt2", cars)
    assert np.isnan(fit.coef["wt2"]) and np.isnan(fit.std_err["wt2"])
    assert fit.aliased == ["wt2"] and fit.rank == 3 and fit.df_resid == 29
    reference = gradstat.ols("mpg ~ wt + hp", cars)
    np.testing.assert_allclose(fit.coef[["Intercept", "wt", "hp"]], reference.coef, rtol=1e-12)
    np.testing.assert_allclose(fit.std_err[["Intercept", "wt", "hp"]], reference.std_err, rtol=1e-12)
    assert "aliased" in str(fit.summary()) and "wt2" in str(fit.summary())


def test_compare_refuses_different_rows_and_non_nested(cars):
    full = gradstat.ols("mpg ~ wt + hp", cars)
    with pytest.raises(ValueError, match="not fitted on the same rows"):
        gradstat.compare(gradstat.ols("mpg ~ wt", cars.iloc[1:]), full)
    with pytest.raises(ValueError, match="not nested"):
        gradstat.compare(gradstat.ols("mpg ~ qsec", cars), full)
    with pytest.raises(ValueError, match="reversed"):
        gradstat.compare(full, gradstat.ols("mpg ~ wt", cars))


def test_bad_options(cars):
    with pytest.raises(ValueError, match="missing must be"):
        gradstat.ols("mpg ~ wt", cars, missing="omit")
    with pytest.raises(ValueError, match="cov_type must be one of"):
        gradstat.ols("mpg ~ wt", cars, cov_type="HC9")
    with pytest.raises(ValueError, match="level must be in"):
        gradstat.ols("mpg ~ wt", cars).conf_int(1.5)
    with pytest.raises(ValueError, match="has no response"):
        gradstat.ols("~ wt", cars)
