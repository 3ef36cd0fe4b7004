"""Random DataFrames against statsmodels: a clear gradstat error or statsmodels' numbers.

Hypothesis builds frames whose predictor columns take random dtypes (int, float, bool, pandas
category, object strings, numbers stored as text), scales, NaN patterns and factor-level layouts.
A frame with a column of numbers stored as text, or a factor left with one level in the complete
rows, must be refused, naming that column (statsmodels would silently make one dummy per number,
or silently drop the factor; R refuses both). Every other frame must either give statsmodels'
(patsy's) coefficients and standard errors, or raise a ValueError/TypeError whose message names a
column of the frame (or the formula, which names them), for the frames where statsmodels itself
cannot give an answer (rank-deficient designs, too few complete rows, a constant response).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import gradstat

KINDS = ["int", "float", "bool", "category", "text", "numeric_text"]


@st.composite
def frames(draw: st.DrawFn) -> tuple[pd.DataFrame, dict[str, str]]:
    n = draw(st.integers(min_value=8, max_value=40))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    rng = np.random.default_rng(seed)
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=4))
    data: dict[str, object] = {}
    for j, kind in enumerate(kinds):
        name = f"{kind}{j}"
        scale = 10.0 ** draw(st.integers(min_value=-3, max_value=3))
        if kind == "int":
            data[name] = rng.integers(-draw(st.integers(1, 10**6)), 10**6, n)
        elif kind == "float":
            data[name] = scale * rng.standard_normal(n) + scale * draw(st.integers(-5, 5))
        elif kind == "bool":
            data[name] = rng.random(n) < draw(st.floats(0.2, 0.8))
        elif kind in ("category", "text"):
            k = draw(st.integers(min_value=2, max_value=4))
            labels = [f"L{i}" for i in range(k)]
            # level layouts: balanced, or one level rare
            weights = np.ones(k) if draw(st.booleans()) else np.r_[np.full(k - 1, 1.0), 0.15]
            values = rng.choice(labels, n, p=weights / weights.sum())
            if kind == "category":
                order = draw(st.permutations(labels))
                data[name] = pd.Categorical(values, categories=order)
            else:
                data[name] = values.astype(object)
        else:  # numbers stored as text: a CSV whose "?" became NaN, read without na_values
            values = pd.Series([f"{v:.4g}" for v in scale * rng.standard_normal(n)], dtype=object)
            if draw(st.booleans()):
                values[rng.random(n) < 0.2] = "?"
            else:
                values[rng.random(n) < 0.2] = np.nan
            data[name] = values
    noise = rng.standard_normal(n)
    y = noise * 10.0 ** draw(st.integers(min_value=-3, max_value=3))
    frame = pd.DataFrame({"y": y, **data})
    nan_pattern = draw(st.sampled_from(["none", "response", "predictor", "both"]))
    columns = [c for c, kind in zip(data, kinds, strict=True) if kind in ("float", "category", "text")]
    if nan_pattern in ("response", "both"):
        frame.loc[rng.random(n) < 0.15, "y"] = np.nan
    if nan_pattern in ("predictor", "both") and columns:
        col = columns[draw(st.integers(0, len(columns) - 1))]
        frame.loc[rng.random(n) < 0.15, col] = np.nan
    return frame, dict(zip(data, kinds, strict=True))


def statsmodels_fit(formula: str, frame: pd.DataFrame):
    """patsy's design and statsmodels' OLS, or None where they have no unique answer."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = smf.ols(formula, frame, missing="drop")
        except Exception:  # patsy cannot build the design: no oracle
            return None
        X = model.exog
        if X.shape[0] <= X.shape[1] or np.linalg.matrix_rank(X) < X.shape[1] or np.ptp(model.endog) == 0:
            return None
        return model.fit()


def patsy_name(name: str, kinds: dict[str, str]) -> str:
    """patsy codes a bool column as a factor ``b[T.True]``; gradstat (formulaic) as 0/1 ``b``."""
    for column, kind in kinds.items():
        if kind == "bool" and name == f"{column}[T.True]":
            return column
    return name


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames())
def test_random_frame_gives_statsmodels_numbers_or_a_clear_error(case):
    frame, kinds = case
    formula = "y ~ " + " + ".join(kinds)
    text_numbers = [c for c, kind in kinds.items() if kind == "numeric_text"]
    # R and gradstat drop incomplete rows before coding factors (a level seen only in a dropped
    # row gets no column); patsy codes first, so it is given the complete rows
    complete = frame.dropna()
    # a text column left with one level has no contrast; a pandas Categorical keeps its declared
    # levels, the unobserved ones coded as all-zero (aliased) columns
    one_level = [c for c, kind in kinds.items() if kind == "text" and complete[c].nunique() == 1]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = gradstat.ols(formula, frame, missing="drop")
    except (ValueError, TypeError) as exc:
        message = str(exc)
        if text_numbers:
            assert any(f"column {c!r} holds numbers stored as text" in message for c in text_numbers), message
            event("numbers stored as text refused")
            return
        if one_level:  # R refuses a one-level factor; statsmodels silently drops it
            assert any(f"factor {c!r} has a single level" in message for c in one_level), message
            event("one-level factor refused")
            return
        assert any(str(c) in message for c in frame.columns), message
        assert statsmodels_fit(formula, complete) is None, (
            f"gradstat refused a frame statsmodels fits: {message}"
        )
        event("refused, naming a column; statsmodels has no answer either")
        return
    assert not text_numbers, f"numbers stored as text in {text_numbers} were fitted silently"
    assert not one_level, f"factors {one_level} with one level were fitted silently"
    oracle = statsmodels_fit(formula, complete)
    if oracle is None:  # statsmodels has no unique answer: gradstat must have flagged it
        assert fit.coef.isna().any() or fit.nobs <= len(fit.coef)
        event("aliased columns reported as NaN; statsmodels has no unique answer")
        return
    params = oracle.params.rename(lambda s: patsy_name(s, kinds))
    bse = oracle.bse.rename(lambda s: patsy_name(s, kinds))
    assert sorted(params.index) == sorted(fit.coef.index)
    scale = np.abs(params).max()
    np.testing.assert_allclose(fit.coef[params.index], params, rtol=1e-7, atol=1e-9 * scale)
    np.testing.assert_allclose(fit.std_err[bse.index], bse, rtol=1e-7, atol=1e-9 * bse.abs().max())
    assert fit.nobs == int(oracle.nobs)
    event("statsmodels' numbers")
