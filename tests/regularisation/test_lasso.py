"""Lasso, ElasticNet and their paths against scikit-learn and the KKT conditions."""

import warnings

import numpy as np
import pytest
import sklearn.linear_model as sk
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.preprocessing import StandardScaler

from gradstat.regularisation import ConvergenceWarning, ElasticNet, Lasso, enet_path, lasso_path

TIGHT = 1e-13


def problem(n, p, seed=0, k=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 1.0
    beta = np.zeros(p)
    k = min(k, p)
    beta[:k] = rng.uniform(1, 3, k) * rng.choice([-1, 1], k)
    return X, X @ beta + rng.standard_normal(n) + 2.0


def assert_kkt(X, y, coef, intercept, alpha, l1_ratio, atol=1e-7):
    """Stationarity of 1/(2n)‖r‖² + α(ρ‖β‖₁ + (1−ρ)/2‖β‖²):
    X_j'r/n − α(1−ρ)β_j = αρ·sign(β_j) where β_j ≠ 0, and |X_j'r/n| ≤ αρ where β_j = 0."""
    n = len(y)
    r = y - X @ coef - intercept
    assert abs(r.sum() / n) < atol  # the unpenalised intercept
    grad = X.T @ r / n - alpha * (1 - l1_ratio) * coef
    active = coef != 0
    np.testing.assert_allclose(grad[active], alpha * l1_ratio * np.sign(coef[active]), atol=atol)
    assert np.all(np.abs(grad[~active]) <= alpha * l1_ratio + atol)


@pytest.mark.parametrize("precompute", [True, False])
@pytest.mark.parametrize(("n", "p"), [(80, 10), (30, 60)])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.3])
def test_equals_sklearn_and_satisfies_kkt(n, p, l1_ratio, precompute):
    X, y = problem(n, p, seed=n + p)
    alpha = 0.05
    ours = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=TIGHT, max_iter=100_000,
                      precompute=precompute).fit(X, y)
    ref = sk.ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=TIGHT, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-6)
    assert_kkt(X, y, ours.coef_, ours.intercept_, alpha, l1_ratio)
    assert ours.dual_gap_ <= TIGHT * np.sum((y - y.mean()) ** 2) / n


def test_lasso_is_elastic_net_with_l1_ratio_one():
    X, y = problem(50, 8)
    a = Lasso(alpha=0.1, tol=TIGHT).fit(X, y)
    b = ElasticNet(alpha=0.1, l1_ratio=1.0, tol=TIGHT).fit(X, y)
    ref = sk.Lasso(alpha=0.1, tol=TIGHT).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_allclose(a.coef_, ref.coef_, atol=1e-6)
    assert (a.coef_ == 0).sum() == (ref.coef_ == 0).sum()


@pytest.mark.parametrize("precompute", [True, False])
def test_lasso_path_equals_sklearn_and_pointwise_fits(precompute):
    X, y = problem(40, 12, seed=2)
    alphas, coefs = lasso_path(X, y, tol=TIGHT, precompute=precompute)
    ref_alphas, ref_coefs, _ = sk.lasso_path(X, y, alphas=100, tol=TIGHT)
    np.testing.assert_allclose(alphas, ref_alphas, rtol=1e-12)
    assert coefs.shape == (12, 100)
    np.testing.assert_allclose(coefs, ref_coefs, atol=1e-6)
    for k in (0, 30, 99):
        point = Lasso(alpha=alphas[k], fit_intercept=False, tol=TIGHT).fit(X, y)
        np.testing.assert_allclose(coefs[:, k], point.coef_, atol=1e-6)
    assert np.all(coefs[:, 0] == 0)  # α_max zeroes every coefficient


def test_enet_path_with_intercept_and_given_alphas():
    X, y = problem(60, 6, seed=3)
    grid = [0.5, 0.05, 0.2]  # any order; returned decreasing
    alphas, coefs = enet_path(X, y, l1_ratio=0.6, alphas=grid, tol=TIGHT, fit_intercept=True)
    np.testing.assert_array_equal(alphas, [0.5, 0.2, 0.05])
    for k, a in enumerate(alphas):
        ref = sk.ElasticNet(alpha=a, l1_ratio=0.6, tol=TIGHT).fit(X, y)
        np.testing.assert_allclose(coefs[:, k], ref.coef_, atol=1e-6)


def test_standardize_matches_sklearn_on_scaled_data():
    X, y = problem(50, 5, seed=4)
    X[:, 2] *= 50.0
    scaler = StandardScaler().fit(X)
    ref = sk.Lasso(alpha=0.2, tol=TIGHT).fit(scaler.transform(X), y)
    ours = Lasso(alpha=0.2, standardize=True, tol=TIGHT).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_ / scaler.scale_, atol=1e-8)
    np.testing.assert_allclose(ours.predict(X), ref.predict(scaler.transform(X)), atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(5, 40),
    p=st.integers(1, 40),
    frac=st.floats(0.01, 0.99),
    l1_ratio=st.floats(0.05, 1.0),
    precompute=st.booleans(),
)
def test_kkt_holds_on_random_problems(seed, n, p, frac, l1_ratio, precompute):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.1, 10, p)
    y = rng.standard_normal(n) * 3
    Xc, yc = X - X.mean(0), y - y.mean()
    alpha_max = np.max(np.abs(Xc.T @ yc)) / (n * l1_ratio)
    alpha = max(frac * alpha_max, 1e-3)
    model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-14, max_iter=200_000,
                       precompute=precompute)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(X, y)
    scale = np.sqrt(np.sum(yc**2) / n) * np.abs(Xc).max() + 1.0
    assert_kkt(X, y, model.coef_, model.intercept_, alpha, l1_ratio, atol=1e-6 * scale)


def test_non_convergence_warns_with_the_gap():
    X, y = problem(30, 60, seed=5)
    with pytest.warns(ConvergenceWarning, match=r"max_iter=2 .*duality gap reached"):
        Lasso(alpha=0.01, max_iter=2, tol=1e-12).fit(X, y)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Lasso(alpha=-0.1), ValueError, "alpha must be a finite number >= 0"),
        (lambda: Lasso(alpha=0.0), ValueError, "gradstat.ols"),
        (lambda: ElasticNet(l1_ratio=1.5), ValueError, r"l1_ratio must lie in \[0, 1\]"),
        (lambda: ElasticNet(l1_ratio=-0.1), ValueError, "l1_ratio"),
        (lambda: Lasso(max_iter=0), ValueError, "max_iter must be a positive integer"),
        (lambda: Lasso(alpha="big"), TypeError, "alpha must be a real number"),
    ],
)
def test_bad_parameters(make, error, message):
    X, y = problem(10, 3)
    with pytest.raises(error, match=message):
        make().fit(X, y)


def test_bad_data():
    X, y = problem(10, 3)
    X[0, 2] = np.inf
    with pytest.raises(ValueError, match=r"NaN or inf.*\[2\]"):
        lasso_path(X, y)
    with pytest.raises(ValueError, match="l1_ratio > 0"):
        enet_path(problem(10, 3)[0], y, l1_ratio=0.0)
    Xc = problem(10, 3)[0]
    Xc[:, 0] = 1.0
    with pytest.raises(ValueError, match=r"column\(s\) \[0\] of X are constant"):
        Lasso(standardize=True).fit(Xc, y)


@pytest.mark.parametrize("precompute", [True, False])
def test_l1_ratio_zero_is_ridge(precompute):
    """1/(2n)‖r‖² + α/2‖β‖² is ridge's ‖r‖² + nα‖β‖²; its duality gap is the ridge dual's."""
    from gradstat.regularisation import Ridge

    X, y = problem(40, 6, seed=9)
    model = ElasticNet(alpha=0.3, l1_ratio=0.0, tol=1e-14, precompute=precompute).fit(X, y)
    ridge = Ridge(alpha=40 * 0.3).fit(X, y)
    np.testing.assert_allclose(model.coef_, ridge.coef_, atol=1e-7)
    assert model.intercept_ == pytest.approx(ridge.intercept_, abs=1e-7)


def test_constant_target_gives_zero_coefficients():
    X, _ = problem(20, 4)
    model = Lasso(alpha=0.1).fit(X, np.full(20, 3.5))
    np.testing.assert_array_equal(model.coef_, 0.0)
    assert model.intercept_ == 3.5
    alphas, coefs = lasso_path(X, np.full(20, 3.5), fit_intercept=True, n_alphas=5)
    assert np.all(coefs == 0) and alphas.shape == (5,)
