"""Ridge on Dask arrays (TSQR to R, then least squares on the augmented R) equals the in-memory ridge."""

import dask.array as da
import numpy as np
import pytest

from gradstat.regularisation import Ridge


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("standardize", [False, True])
@pytest.mark.parametrize("alpha", [0.0, 0.5, 40.0])
def test_dask_ridge_equals_in_memory(fit_intercept, standardize, alpha):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((503, 6)) * [1.0, 10.0, 0.1, 3.0, 1.0, 100.0] + [5.0, 0, 0, -2.0, 0, 50.0]
    y = X @ rng.standard_normal(6) + 3.0 + rng.standard_normal(503)
    chunks = (100, 37, 200, 166)  # uneven row chunks
    dask_X, dask_y = da.from_array(X, chunks=(chunks, 6)), da.from_array(y, chunks=(chunks,))
    ours = Ridge(alpha, fit_intercept=fit_intercept, standardize=standardize).fit(dask_X, dask_y)
    memory = Ridge(alpha, fit_intercept=fit_intercept, standardize=standardize).fit(X, y)
    np.testing.assert_allclose(ours.coef_, memory.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.intercept_, memory.intercept_, rtol=1e-10, atol=1e-12)
    assert ours.n_features_in_ == 6
    np.testing.assert_allclose(ours.predict(X), memory.predict(X), rtol=1e-10)


def test_dask_ridge_refuses_a_singular_least_squares():
    X = np.ones((50, 2))
    X[:, 1] = np.arange(50.0)
    X = np.column_stack([X, X[:, 1] * 2])
    with pytest.raises(ValueError, match="rank"):
        Ridge(0.0, fit_intercept=False).fit(
            da.from_array(X, chunks=(20, 3)), da.from_array(np.arange(50.0), chunks=20)
        )
