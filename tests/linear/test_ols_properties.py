"""Properties any least-squares fit must have, probed by hypothesis at the edges."""

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import gradstat
from gradstat.linear import CollinearityWarning


@st.composite
def frames(draw):
    p = draw(st.integers(1, 4))
    n = draw(st.integers(p + 3, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    magnitude = draw(st.sampled_from([1e-6, 1.0, 1e6]))
    rng = np.random.default_rng(seed)
    data = {f"x{j}": rng.standard_normal(n) * magnitude for j in range(p)}
    frame = pd.DataFrame(data)
    frame["y"] = frame.sum(axis=1) / magnitude + rng.standard_normal(n)
    return frame, " + ".join(data)


SETTINGS = settings(max_examples=40, deadline=None)


@SETTINGS
@given(frames(), st.sampled_from([1e-3, 7.0, 2.0**20]))
def test_rescaling_a_predictor_rescales_its_coefficient_only(case, factor):
    frame, rhs = case
    base = gradstat.ols(f"y ~ {rhs}", frame)
    scaled = frame.assign(x0=frame["x0"] * factor)
    fit = gradstat.ols(f"y ~ {rhs}", scaled)
    np.testing.assert_allclose(fit.coef["x0"] * factor, base.coef["x0"], rtol=1e-9)
    np.testing.assert_allclose(fit.t_values, base.t_values, rtol=1e-8)
    np.testing.assert_allclose(fit.r_squared, base.r_squared, rtol=1e-10)


@SETTINGS
@given(frames(), st.integers(0, 2**32 - 1))
def test_row_order_does_not_matter(case, seed):
    frame, rhs = case
    order = np.random.default_rng(seed).permutation(len(frame))
    base = gradstat.ols(f"y ~ {rhs}", frame)
    shuffled = gradstat.ols(f"y ~ {rhs}", frame.iloc[order])
    np.testing.assert_allclose(shuffled.coef, base.coef, rtol=1e-9, atol=1e-12 * np.abs(base.coef).max())
    np.testing.assert_allclose(shuffled.sse, base.sse, rtol=1e-10)


@SETTINGS
@given(frames())
def test_duplicate_column_is_reported_aliased(case):
    frame, rhs = case
    base = gradstat.ols(f"y ~ {rhs}", frame)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = gradstat.ols(f"y ~ {rhs} + dup", frame.assign(dup=frame["x0"]))
    assert any(issubclass(w.category, CollinearityWarning) for w in caught)
    assert fit.aliased == ["dup"] and np.isnan(fit.coef["dup"])
    np.testing.assert_allclose(
        fit.coef.drop("dup"), base.coef, rtol=1e-9, atol=1e-12 * np.abs(base.coef).max()
    )
    assert fit.df_resid == base.df_resid


@SETTINGS
@given(frames())
def test_sums_of_squares_add_up(case):
    frame, rhs = case
    fit = gradstat.ols(f"y ~ {rhs}", frame)
    np.testing.assert_allclose(fit.ssr + fit.sse, fit.sst, rtol=1e-10)
    table = fit.anova(by_term=True)
    np.testing.assert_allclose(table["sum_sq"].iloc[:-1].sum(), fit.ssr, rtol=1e-9)
