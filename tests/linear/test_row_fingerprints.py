"""Out of core, the rows are identified by a fingerprint of every response value: compare refuses
fits on different rows whose n, mean and variance agree, and a source that changes between passes
is refused."""

import numpy as np
import pytest

import gradstat
from tests.linear.test_streaming import FORMULA, chunks, make_frame


def _reflected(df):
    """Other rows with the same n, mean and variance: y → 2ȳ − y."""
    out = df.copy()
    out["y"] = 2 * df["y"].mean() - df["y"]
    return out


def test_compare_refuses_out_of_core_fits_on_rows_with_equal_moments():
    df = make_frame()
    other = _reflected(df)
    assert np.isclose(other["y"].var(), df["y"].var(), rtol=1e-12)
    full = gradstat.ols(FORMULA, chunks(df, [200, 400]))
    reduced_same = gradstat.ols("y ~ x1 + x2", chunks(df, [300]))  # same rows, other blocking
    reduced_other = gradstat.ols("y ~ x1 + x2", chunks(other, [300]))
    assert gradstat.compare(reduced_same, full).shape == (2, 6)
    with pytest.raises(ValueError, match="not fitted on the same rows"):
        gradstat.compare(reduced_other, full)
    # an in-memory fit of the same rows is recognised too
    assert gradstat.compare(gradstat.ols("y ~ x1 + x2", df), full).shape == (2, 6)


def test_a_source_that_changes_between_passes_is_named():
    df = make_frame()
    calls = []

    def source():
        calls.append(1)
        data = df if len(calls) <= 3 else _reflected(df)  # the column peek, levels and R passes see df
        return chunks(data, [300])

    with pytest.raises(ValueError, match="different rows on the HC1 covariance pass"):
        gradstat.ols(FORMULA, source, cov_type="HC1")
    calls.clear()
    fit = gradstat.ols(FORMULA, lambda: chunks(df, [300]), cov_type="HC1")
    np.testing.assert_allclose(fit.std_err, gradstat.ols(FORMULA, df, cov_type="HC1").std_err, rtol=1e-10)
