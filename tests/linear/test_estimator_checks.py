"""gradstat.OLS passes scikit-learn's estimator checks."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from gradstat import OLS


@parametrize_with_checks([OLS(), OLS(fit_intercept=False), OLS(cov_type="HC3")])
def test_sklearn_compatible(estimator, check):
    check(estimator)
