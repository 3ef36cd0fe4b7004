"""Transforms evaluate on exact values: integer columns cannot wrap around inside I(...)."""

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

import gradstat

X_INT = 10**9 * np.arange(1, 13, dtype=np.int64)  # x*x up to 1.4e20 > 2**63


def test_integer_square_is_the_exact_square_not_a_wrapped_int64():
    wrapped = X_INT * X_INT  # what int64 arithmetic would have fitted
    assert any(int(w) != int(v) ** 2 for w, v in zip(wrapped, X_INT, strict=True))
    y = np.array([float(3 * int(v) * int(v)) for v in X_INT]) + np.tile([1.0, -1.0], 6) * 1e16
    fit = gradstat.ols("y ~ I(x * x)", pd.DataFrame({"y": y, "x": X_INT}))
    exact = np.array([float(Fraction(int(v)) ** 2) for v in X_INT])  # correctly rounded x²
    np.testing.assert_array_equal(fit.design.X[:, 1], exact)
    assert fit.coef["I(x * x)"] == pytest.approx(3.0, rel=1e-2)
    new = pd.DataFrame({"x": X_INT[:3]})
    np.testing.assert_allclose(fit.predict(new), fit.coef.iloc[0] + fit.coef.iloc[1] * exact[:3], rtol=1e-15)


def test_integer_factor_keeps_its_integer_level_names():
    frame = pd.DataFrame({"y": np.arange(9.0) ** 1.5, "cyl": np.array([4, 6, 8] * 3, dtype=np.int64)})
    fit = gradstat.ols("y ~ C(cyl)", frame)
    assert list(fit.coef.index) == ["Intercept", "C(cyl)[T.6]", "C(cyl)[T.8]"]


def test_numbers_as_text_are_accepted_when_the_formula_asks_for_a_factor():
    frame = pd.DataFrame({"y": np.arange(9.0) ** 1.5, "code": ["10", "20", "30"] * 3})
    with pytest.raises(ValueError, match="column 'code' holds numbers stored as text"):
        gradstat.ols("y ~ code", frame)
    fit = gradstat.ols("y ~ C(code)", frame)
    assert list(fit.coef.index) == ["Intercept", "C(code)[T.20]", "C(code)[T.30]"]
