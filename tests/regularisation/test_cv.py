"""LassoCV / ElasticNetCV against scikit-learn; the one-standard-error choice."""

import numpy as np
import pytest
import sklearn.linear_model as sk
from sklearn.model_selection import KFold

from gradstat.regularisation import ElasticNetCV, Lasso, LassoCV
from gradstat.regularisation.cv import kfold

TIGHT = 1e-12


def problem(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 2.0
    beta = np.zeros(p)
    beta[:3] = [2.0, -1.5, 1.0]
    return X, X @ beta + 2 * rng.standard_normal(n) + 5.0


def test_folds_are_sklearns_kfold():
    for n, k in [(10, 3), (23, 5), (5, 5)]:
        ours = kfold(n, k)
        ref = list(KFold(k).split(np.zeros(n)))
        for (tr, te), (rtr, rte) in zip(ours, ref, strict=True):
            np.testing.assert_array_equal(tr, rtr)
            np.testing.assert_array_equal(te, rte)


@pytest.mark.parametrize(("n", "p"), [(103, 8), (30, 45)])  # covariance and naive solvers
def test_lassocv_equals_sklearn(n, p):
    X, y = problem(n, p, seed=n)
    ours = LassoCV(cv=5, tol=TIGHT, max_iter=100_000).fit(X, y)
    ref = sk.LassoCV(cv=5, tol=TIGHT, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-12)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)
    assert ours.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-6)


def test_elasticnetcv_picks_l1_ratio_like_sklearn():
    X, y = problem(60, 10, seed=1)
    ratios = [0.2, 0.7, 1.0]
    ours = ElasticNetCV(l1_ratio=ratios, cv=4, tol=TIGHT).fit(X, y)
    ref = sk.ElasticNetCV(l1_ratio=ratios, cv=4, tol=TIGHT).fit(X, y)
    assert ours.mse_path_.shape == ref.mse_path_.shape == (3, 100, 4)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)
    assert ours.l1_ratio_ == ref.l1_ratio_
    assert ours.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)


@pytest.mark.parametrize("standardize", [False, True])
def test_one_standard_error_choice(standardize):
    X, y = problem(80, 12, seed=2)
    model = LassoCV(cv=5, selection="1se", standardize=standardize, tol=TIGHT).fit(X, y)
    mean = model.mse_path_.mean(axis=1)
    se = model.mse_path_.std(axis=1, ddof=1) / np.sqrt(5)
    i = np.argmin(mean)
    eligible = model.alphas_[mean <= mean[i] + se[i]]
    assert model.alpha_min_ == model.alphas_[i]
    assert model.alpha_1se_ == eligible.max() > model.alpha_min_
    assert model.alpha_ == model.alpha_1se_
    refit = Lasso(alpha=model.alpha_1se_, standardize=standardize, tol=TIGHT).fit(X, y)
    np.testing.assert_allclose(model.coef_, refit.coef_, atol=1e-7)
    # the 1-SE model is sparser (or as sparse) than the minimum-error one
    fuller = Lasso(alpha=model.alpha_min_, standardize=standardize, tol=TIGHT).fit(X, y)
    assert (model.coef_ != 0).sum() <= (fuller.coef_ != 0).sum()


@pytest.mark.parametrize(("fit_intercept", "standardize"), [(True, True), (False, True), (False, False)])
def test_fold_gram_shortcut_matches_explicit_folds(fit_intercept, standardize):
    """Fold Grams from per-block sums equal centring and scaling each training fold directly."""
    X, y = problem(60, 5, seed=3)
    X[:, 1] *= 30
    kw = {"cv": 3, "fit_intercept": fit_intercept, "standardize": standardize, "tol": TIGHT}
    gram = LassoCV(precompute=True, **kw).fit(X, y)
    naive = LassoCV(precompute=False, **kw).fit(X, y)
    np.testing.assert_allclose(gram.mse_path_, naive.mse_path_, rtol=1e-7)
    np.testing.assert_allclose(gram.coef_, naive.coef_, atol=1e-8)


def test_cv_bad_input():
    X, y = problem(4, 3)
    with pytest.raises(ValueError, match="n_samples=4 is fewer than the cv=5 folds"):
        LassoCV(cv=5).fit(X, y)
    X, y = problem(20, 3)
    with pytest.raises(ValueError, match="selection must be 'min' or '1se'"):
        LassoCV(selection="best").fit(X, y)
    with pytest.raises(ValueError, match=r"l1_ratio must lie in \[0, 1\]"):
        ElasticNetCV(l1_ratio=[0.5, 2.0]).fit(X, y)
    with pytest.raises(ValueError, match="cv must be at least 2 folds"):
        LassoCV(cv=1).fit(X, y)
