"""Streaming least squares (iterables of DataFrames): every statistic equals the in-memory fit.

The in-memory fit is itself checked against statsmodels (test_ols_statsmodels.py); here the
oracle is the same model fitted on the concatenated rows, plus statsmodels once directly.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.anova import anova_lm
from statsmodels.stats.outliers_influence import variance_inflation_factor

import gradstat
from gradstat.linear.design import ResponseMoments

RTOL = 1e-12


def make_frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.uniform(0, 1000, size=n),
            "g": rng.choice(["a", "b", "c"], size=n),
        }
    )
    df["y"] = 2.0 + df.x1 - 0.003 * df.x2 + (df.g == "b") * 1.5 + rng.normal(size=n)
    return df


def assert_same_fit(out: gradstat.OLSResults, ref: gradstat.OLSResults, new_data: pd.DataFrame) -> None:
    """Every statistic that does not need the rows, to RTOL relative."""
    assert out.coef.index.tolist() == ref.coef.index.tolist()
    assert out.aliased == ref.aliased
    assert (out.nobs, out.rank, out.df_resid, out.df_model, out.n_dropped) == (
        ref.nobs,
        ref.rank,
        ref.df_resid,
        ref.df_model,
        ref.n_dropped,
    )
    for name in ("sse", "ssr", "sst", "sigma2", "r_squared", "adj_r_squared", "f_statistic"):
        assert getattr(out, name) == pytest.approx(getattr(ref, name), rel=RTOL), name
    for name in ("coef", "std_err", "t_values", "p_values"):
        np.testing.assert_allclose(getattr(out, name), getattr(ref, name), rtol=RTOL, err_msg=name)
    np.testing.assert_allclose(out.cov, ref.cov, rtol=RTOL, atol=RTOL * np.abs(ref.cov.to_numpy()).max())
    np.testing.assert_allclose(out.conf_int(), ref.conf_int(), rtol=RTOL)
    for by_term in (False, True):
        a, b = out.anova(by_term=by_term), ref.anova(by_term=by_term)
        assert a.index.tolist() == b.index.tolist()
        np.testing.assert_allclose(a.to_numpy(float), b.to_numpy(float), rtol=RTOL)
    for interval in ("confidence", "prediction"):
        np.testing.assert_allclose(
            out.predict(new_data, interval=interval), ref.predict(new_data, interval=interval), rtol=RTOL
        )
    assert str(out.summary()).splitlines()[-3:] == str(ref.summary()).splitlines()[-3:]


def chunks(df: pd.DataFrame, cuts: list[int]) -> list[pd.DataFrame]:
    edges = [0, *cuts, len(df)]
    return [df.iloc[a:b] for a, b in itertools.pairwise(edges)]


FORMULA = "y ~ x1 + x2 + g"


def test_uneven_chunks_with_empty_ones_equal_in_memory() -> None:
    df = make_frame()
    ref = gradstat.ols(FORMULA, df)
    out = gradstat.ols(FORMULA, chunks(df, [0, 7, 7, 250, 251, 599]))  # empty first and middle chunks
    assert_same_fit(out, ref, df.iloc[:20])
    assert isinstance(out, gradstat.linear.OutOfCoreOLSResults) and isinstance(ref, gradstat.OLSResults)


def test_matches_statsmodels_directly() -> None:
    df = make_frame(seed=3)
    out = gradstat.ols(FORMULA, chunks(df, [100, 350]))
    sm = smf.ols("y ~ x1 + x2 + g", df).fit()
    names = ["Intercept", "x1", "x2", "g[T.b]", "g[T.c]"]
    assert out.coef.index.tolist() == names
    np.testing.assert_allclose(out.coef.to_numpy(), sm.params[names].to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(out.std_err.to_numpy(), sm.bse[names].to_numpy(), rtol=1e-10)
    assert out.r_squared == pytest.approx(sm.rsquared, rel=1e-12)
    assert out.f_statistic == pytest.approx(sm.fvalue, rel=1e-10)


def test_level_present_in_one_chunk_only() -> None:
    df = make_frame()
    df.loc[400, "g"] = "d"  # only the third chunk sees level d
    df.loc[0, "g"] = "0"  # the reference level sits in the first chunk only
    ref = gradstat.ols(FORMULA, df)
    out = gradstat.ols(FORMULA, chunks(df, [200, 390, 410]))
    assert "g[T.d]" in out.coef.index and "g[T.b]" in out.coef.index
    assert_same_fit(out, ref, df.iloc[395:405])


def test_missing_drop_sums_the_dropped_rows_and_raise_names_them() -> None:
    df = make_frame()
    df.loc[[3, 310, 311, 590], "x1"] = np.nan
    ref = gradstat.ols(FORMULA, df, missing="drop")
    out = gradstat.ols(FORMULA, chunks(df, [300, 312]), missing="drop")
    assert out.n_dropped == 4
    assert_same_fit(out, ref, df.iloc[20:30])
    with pytest.raises(ValueError, match="missing values"):
        gradstat.ols(FORMULA, chunks(df, [300, 312]))


def test_ill_conditioned_design_refines_and_matches() -> None:
    rng = np.random.default_rng(5)
    x = np.linspace(1.0, 2.0, 400)
    df = pd.DataFrame({"x": x, "y": np.cos(3 * x) + 1e-6 * rng.normal(size=x.size)})
    formula = "y ~ x + I(x**2) + I(x**3) + I(x**4) + I(x**5) + I(x**6) + I(x**7)"
    ref = gradstat.ols(formula, df)
    out = gradstat.ols(formula, chunks(df, [50, 51, 300]))
    assert ref.solution.refined and out.solution.refined
    assert_same_fit(out, ref, df.iloc[::40])


def test_nested_compare_out_of_core() -> None:
    df = make_frame()
    parts = chunks(df, [123, 456])
    full, reduced = gradstat.ols(FORMULA, parts), gradstat.ols("y ~ x1 + x2", parts)
    ref = gradstat.compare(gradstat.ols("y ~ x1 + x2", df), gradstat.ols(FORMULA, df))
    np.testing.assert_allclose(
        gradstat.compare(reduced, full).to_numpy(float), ref.to_numpy(float), rtol=RTOL
    )
    with pytest.raises(ValueError, match="reversed"):
        gradstat.compare(full, reduced)
    other = gradstat.ols("y ~ x1", chunks(df.iloc[:500], [100]))
    with pytest.raises(ValueError, match="same rows"):
        gradstat.compare(other, full)


def test_chunked_csv_reader_one_shot(tmp_path: pytest.TempPathFactory) -> None:
    df = make_frame(n=500, seed=9)
    path = tmp_path / "data.csv"  # type: ignore[operator]
    df.to_csv(path, index=False)
    ref = gradstat.ols(FORMULA, pd.read_csv(path))
    out = gradstat.ols(FORMULA, pd.read_csv(path, chunksize=64))  # one-shot reader: spooled
    assert_same_fit(out, ref, df.iloc[:5])
    again = gradstat.ols(FORMULA, lambda: pd.read_csv(path, chunksize=100))  # re-readable factory
    assert_same_fit(again, ref, df.iloc[:5])
    generated = gradstat.ols(FORMULA, (chunk for chunk in pd.read_csv(path, chunksize=77)))
    assert_same_fit(generated, ref, df.iloc[:5])


def test_row_level_quantities_raise_clearly() -> None:
    df = make_frame()
    out = gradstat.ols(FORMULA, chunks(df, [300]))
    for attribute in ("resid", "fitted_values", "leverage", "cooks_distance", "standardized_resid"):
        with pytest.raises(ValueError, match="out-of-core"):
            getattr(out, attribute)
    with pytest.raises(ValueError, match="out-of-core"):
        out.predict()
    with pytest.raises(ValueError, match="out-of-core"):
        out.plot_diagnostics()
    assert "not kept by an out-of-core fit" in str(out.summary())


def test_bad_streams() -> None:
    df = make_frame()
    with pytest.raises(ValueError, match="empty iterable"):
        gradstat.ols(FORMULA, iter([]))
    with pytest.raises(TypeError, match="pandas DataFrame"):
        gradstat.ols(FORMULA, iter([df, np.ones((3, 3))]))
    with pytest.raises(ValueError, match="not in the data"):
        gradstat.ols("y ~ x1 + nope", [df])
    with pytest.raises(ValueError, match="constant"):
        gradstat.ols("x2 ~ x1", [df.assign(x2=1.0).iloc[:10], df.assign(x2=1.0).iloc[10:]])
    with pytest.raises(ValueError, match="stateful"):
        gradstat.ols("y ~ poly(x1, 2)", chunks(df, [300]))


def test_response_moments_combine_as_one_pass() -> None:
    y = np.random.default_rng(1).normal(1e6, 1.0, size=1000)  # large mean: y'y - n ybar^2 would cancel
    m = ResponseMoments.of(y[:10]).combine(ResponseMoments.of(y[10:700])).combine(ResponseMoments.of(y[700:]))
    exact = math.fsum((v - math.fsum(y) / y.size) ** 2 for v in y)
    assert m.n == 1000
    assert m.m2 == pytest.approx(exact, rel=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 300), max_size=6))
def test_any_split_gives_the_in_memory_numbers(cuts: list[int]) -> None:
    df = SMALL
    out = gradstat.ols(FORMULA, chunks(df, sorted(cuts)))
    np.testing.assert_allclose(out.coef, REF_SMALL.coef, rtol=RTOL)
    np.testing.assert_allclose(out.std_err, REF_SMALL.std_err, rtol=RTOL)
    assert out.r_squared == pytest.approx(REF_SMALL.r_squared, rel=RTOL)


SMALL = make_frame(n=300, seed=11)
REF_SMALL = gradstat.ols(FORMULA, SMALL)


@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "HC2", "HC3"])
def test_robust_covariances_take_a_second_pass(cov_type: str) -> None:
    df = make_frame()
    streamed = gradstat.ols(FORMULA, chunks(df, [0, 170, 300, 595]), cov_type=cov_type)
    memory = gradstat.ols(FORMULA, df, cov_type=cov_type)
    np.testing.assert_allclose(streamed.std_err, memory.std_err, rtol=1e-12)
    np.testing.assert_allclose(streamed.f_statistic, memory.f_statistic, rtol=1e-12)


@pytest.mark.parametrize("typ", [2, 3])
@pytest.mark.parametrize(
    ("table", "formula"),
    [
        ("warpbreaks", "breaks ~ C(wool) * C(tension)"),
        ("mtcars", "mpg ~ C(cyl) + wt + hp + wt:hp"),
    ],
)
def test_out_of_core_anova_types_2_and_3_equal_statsmodels(table: str, formula: str, typ: int) -> None:
    """Type II / III sums of squares from the R factor alone (no rows kept), against statsmodels."""
    data = gradstat.datasets.load(table).dropna()
    out = gradstat.ols(formula, chunks(data, [10, 11, 30]))
    assert isinstance(out, gradstat.linear.OutOfCoreOLSResults)
    ours = out.anova(typ=typ)
    theirs = anova_lm(smf.ols(formula, data).fit(), typ=typ)
    assert ours.index[:-1].tolist() == theirs.index[:-1].tolist()
    np.testing.assert_allclose(ours["sum_sq"], theirs["sum_sq"], rtol=1e-9)
    np.testing.assert_allclose(ours["df"], theirs["df"])
    np.testing.assert_allclose(ours["F"].iloc[:-1], theirs["F"].iloc[:-1], rtol=1e-9)


def test_out_of_core_vif_equals_statsmodels() -> None:
    cars = gradstat.datasets.load("mtcars")
    formula = "mpg ~ C(cyl) + wt + hp + disp"
    out = gradstat.ols(formula, chunks(cars, [7, 20]))
    exog = smf.ols(formula, cars).fit().model.exog
    ref = [variance_inflation_factor(exog, j) for j in range(1, exog.shape[1])]
    np.testing.assert_allclose(out.vif(), ref, rtol=1e-9)
    assert out.vif().index.tolist() == out.coef.index[1:].tolist()
    through_origin = gradstat.ols("mpg ~ 0 + wt + hp", chunks(cars, [7]))
    with pytest.raises(ValueError, match="intercept as the first column"):
        through_origin.vif()


def test_out_of_core_row_errors_name_the_statistic() -> None:
    out = gradstat.ols(FORMULA, chunks(make_frame(), [300]))
    for attribute in ("resid", "fitted_values", "leverage", "cooks_distance", "standardized_resid"):
        with pytest.raises(ValueError, match=f"^{attribute} needs the rows of the data"):
            getattr(out, attribute)
