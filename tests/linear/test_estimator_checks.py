"""gradstat.OLS passes scikit-learn's estimator checks."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from gradstat import OLS

# The check fits 30 features on 27 repeated rows: least squares refuses n <= parameters (no
# residual degrees of freedom) rather than fit a minimum-norm solution, by design.
EXPECTED = {"check_sample_weight_equivalence_on_dense_data": "OLS needs more rows than parameters"}


@parametrize_with_checks(
    [OLS(), OLS(fit_intercept=False), OLS(cov_type="HC3")], expected_failed_checks=lambda est: EXPECTED
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
