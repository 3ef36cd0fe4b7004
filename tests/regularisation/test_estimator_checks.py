"""scikit-learn's own estimator checks on every regularisation estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from gradstat.regularisation import (
    ElasticNet,
    ElasticNetCV,
    Lasso,
    LassoCV,
    Ridge,
    RidgeCV,
)


@parametrize_with_checks(
    [
        Ridge(),
        Ridge(alpha=0.5, standardize=True),
        RidgeCV(),
        RidgeCV(cv=3),
        Lasso(alpha=0.01),
        ElasticNet(alpha=0.01, l1_ratio=0.5, precompute=False),
        LassoCV(cv=3, n_alphas=10),
        ElasticNetCV(cv=3, n_alphas=10, l1_ratio=[0.5, 1.0]),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
