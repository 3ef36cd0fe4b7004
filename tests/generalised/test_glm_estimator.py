"""The GLM regressor: scikit-learn's checks, and the same fit as ``glm`` and statsmodels."""

from __future__ import annotations

import numpy as np
import statsmodels.api as sm
from sklearn.utils.estimator_checks import parametrize_with_checks

from gradstat import GLM


@parametrize_with_checks([GLM(), GLM(family="poisson"), GLM(fit_intercept=False)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_poisson_regressor_matches_statsmodels_with_weights():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(150, 3))
    y = rng.poisson(np.exp(0.3 + X @ [0.5, -0.2, 0.1])).astype(float)
    w = rng.uniform(0.5, 2.0, 150)
    model = GLM(family="poisson").fit(X, y, sample_weight=w)
    ref = sm.GLM(y, sm.add_constant(X), family=sm.families.Poisson(), var_weights=w).fit(tol=1e-14)
    np.testing.assert_allclose(model.intercept_, ref.params[0], rtol=1e-10)
    np.testing.assert_allclose(model.coef_, ref.params[1:], rtol=1e-9)
    np.testing.assert_allclose(model.predict(X[:10]), ref.predict(sm.add_constant(X)[:10]), rtol=1e-10)
    np.testing.assert_allclose(model.results_.std_err, ref.bse, rtol=1e-8)
    assert list(model.results_.coef.index) == ["Intercept", "x0", "x1", "x2"]
