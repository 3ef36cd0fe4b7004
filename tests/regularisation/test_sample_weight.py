"""sample_weight in Ridge, Lasso, ElasticNet and their CV versions against scikit-learn's."""

import numpy as np
import pytest
import sklearn.linear_model as sk

from gradstat.regularisation import ElasticNet, ElasticNetCV, Lasso, LassoCV, Ridge, RidgeCV

TIGHT = 1e-13


def problem(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 1.5
    beta = np.zeros(p)
    beta[:3] = [2.0, -1.5, 1.0]
    y = X @ beta + 2 * rng.standard_normal(n) + 5.0
    w = rng.uniform(0.1, 4.0, n)
    w[::7] = 0.0  # zero weights included
    return X, y, w


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize(("n", "p"), [(60, 6), (20, 40)])
def test_ridge_equals_sklearn(fit_intercept, n, p):
    X, y, w = problem(n, p)
    ours = Ridge(alpha=2.5, fit_intercept=fit_intercept).fit(X, y, sample_weight=w)
    ref = sk.Ridge(alpha=2.5, fit_intercept=fit_intercept, solver="svd").fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-10, atol=1e-12)
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-10, abs=1e-12)


def test_ridge_weights_are_not_normalised():
    """As scikit-learn: weights × k act as α / k."""
    X, y, w = problem(50, 5)
    a = Ridge(alpha=3.0).fit(X, y, sample_weight=4 * w)
    ref = sk.Ridge(alpha=3.0, solver="svd").fit(X, y, sample_weight=4 * w)
    np.testing.assert_allclose(a.coef_, ref.coef_, rtol=1e-10)
    b = Ridge(alpha=0.75).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-10)


@pytest.mark.parametrize("cls", ["Lasso", "ElasticNet"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize(("n", "p"), [(80, 6), (25, 40)])  # covariance and naive solvers
def test_lasso_and_enet_equal_sklearn(cls, fit_intercept, n, p):
    X, y, w = problem(n, p, seed=p)
    kwargs = {"alpha": 0.05, "fit_intercept": fit_intercept, "tol": TIGHT, "max_iter": 100_000}
    if cls == "ElasticNet":
        kwargs["l1_ratio"] = 0.3
    ours = {"Lasso": Lasso, "ElasticNet": ElasticNet}[cls](**kwargs).fit(X, y, sample_weight=w)
    ref = getattr(sk, cls)(**kwargs).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-8)
    # the scale of the weights does not matter (they are rescaled to sum to n)
    again = {"Lasso": Lasso, "ElasticNet": ElasticNet}[cls](**kwargs).fit(X, y, sample_weight=10 * w)
    np.testing.assert_allclose(again.coef_, ref.coef_, atol=1e-8)


@pytest.mark.parametrize(("n", "p"), [(103, 8), (30, 45)])
def test_lassocv_equals_sklearn(n, p):
    X, y, w = problem(n, p, seed=n)
    ours = LassoCV(cv=5, tol=TIGHT, max_iter=100_000).fit(X, y, sample_weight=w)
    ref = sk.LassoCV(cv=5, tol=TIGHT, max_iter=100_000).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-12)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)
    assert ours.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-6)


def test_elasticnetcv_equals_sklearn():
    X, y, w = problem(60, 10, seed=1)
    ratios = [0.2, 0.7, 1.0]
    ours = ElasticNetCV(l1_ratio=ratios, cv=4, tol=TIGHT).fit(X, y, sample_weight=w)
    ref = sk.ElasticNetCV(l1_ratio=ratios, cv=4, tol=TIGHT).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)
    assert ours.l1_ratio_ == ref.l1_ratio_ and ours.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_ridgecv_leave_one_out_equals_sklearn(fit_intercept):
    X, y, w = problem(50, 6, seed=3)
    alphas = np.logspace(-2, 3, 12)
    ours = RidgeCV(alphas=alphas, fit_intercept=fit_intercept).fit(X, y, sample_weight=w)
    ref = sk.RidgeCV(alphas=alphas, fit_intercept=fit_intercept, store_cv_results=True, gcv_mode="svd")
    ref.fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.cv_mean_, ref.cv_results_.mean(axis=0), rtol=1e-9)
    assert ours.alpha_ == ref.alpha_
    assert ours.best_score_ == pytest.approx(ref.best_score_, rel=1e-9)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-9)


def test_ridgecv_kfold_uses_sklearns_weighted_fold_fits():
    X, y, w = problem(40, 5, seed=4)
    alphas = np.array([0.1, 1.0, 10.0])
    ours = RidgeCV(alphas=alphas, cv=4).fit(X, y, sample_weight=w)
    folds = np.array_split(np.arange(40), 4)
    for k, test in enumerate(folds):
        train = np.setdiff1d(np.arange(40), test)
        for i, a in enumerate(alphas):
            fit = sk.Ridge(alpha=a, solver="svd").fit(X[train], y[train], sample_weight=w[train])
            mse = np.average((y[test] - fit.predict(X[test])) ** 2, weights=w[test])
            assert ours.mse_path_[i, k] == pytest.approx(mse, rel=1e-9)


def test_bad_sample_weight_is_named():
    X, y, w = problem(30, 3)
    with pytest.raises(ValueError, match=r"sample_weight must have one weight per sample, shape \(30,\)"):
        Lasso().fit(X, y, sample_weight=w[:5])
    with pytest.raises(ValueError, match=r"sample_weight must be >= 0"):
        Ridge().fit(X, y, sample_weight=-w)
