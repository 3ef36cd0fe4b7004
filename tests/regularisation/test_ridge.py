"""Ridge, ridge_path, RidgeCV against exact arithmetic (mpmath) and scikit-learn."""

import mpmath
import numpy as np
import pytest
import sklearn.linear_model as sk
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import StandardScaler

from gradstat.regularisation import Ridge, RidgeCV, ridge_path


def problem(n, p, seed=0, shift=2.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + shift
    y = X @ rng.standard_normal(p) + rng.standard_normal(n) + 3.0
    return X, y


def exact_ridge(X, y, alpha):
    """(X'X + αI)⁻¹X'y on the centred data, in 50-digit arithmetic."""
    mpmath.mp.dps = 50
    Xc = X - X.mean(axis=0)
    yc = y - y.mean()
    A = mpmath.matrix(Xc.tolist())
    b = mpmath.matrix(yc.tolist())
    M = A.T * A + alpha * mpmath.eye(X.shape[1])
    return np.array([float(v) for v in mpmath.lu_solve(M, A.T * b)])


@pytest.mark.parametrize(("n", "p", "alpha"), [(30, 4, 0.7), (12, 20, 2.5), (25, 3, 0.0)])
def test_ridge_equals_exact_closed_form(n, p, alpha):
    X, y = problem(n, p)
    model = Ridge(alpha=alpha).fit(X, y)
    exact = exact_ridge(X, y, alpha)
    np.testing.assert_allclose(model.coef_, exact, rtol=0, atol=1e-10)
    assert model.intercept_ == pytest.approx(y.mean() - X.mean(axis=0) @ exact, abs=1e-10)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize(("n", "p"), [(50, 6), (15, 40)])
def test_ridge_equals_sklearn(n, p, fit_intercept):
    X, y = problem(n, p, seed=3)
    ours = Ridge(alpha=1.3, fit_intercept=fit_intercept).fit(X, y)
    ref = sk.Ridge(alpha=1.3, fit_intercept=fit_intercept, solver="svd").fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=0, atol=1e-10)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-10)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-9)


def test_standardize_penalises_standardised_coefficients():
    X, y = problem(40, 5, seed=4)
    X[:, 0] *= 100.0
    scaler = StandardScaler().fit(X)
    ref = sk.Ridge(alpha=2.0).fit(scaler.transform(X), y)
    ours = Ridge(alpha=2.0, standardize=True).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_ / scaler.scale_, atol=1e-10)
    np.testing.assert_allclose(ours.predict(X), ref.predict(scaler.transform(X)), atol=1e-9)


def test_ridge_path_equals_pointwise_fits_and_trace_of_hat_matrix():
    X, y = problem(30, 5, seed=5)
    alphas = np.array([0.0, 0.1, 1.0, 10.0, 100.0])
    path = ridge_path(X, y, alphas)
    Xc = X - X.mean(axis=0)
    for k, a in enumerate(alphas):
        # no intercept: exactly the notes' (X'X + αI)⁻¹X'y on the raw X
        direct = np.linalg.solve(X.T @ X + a * np.eye(5), X.T @ y)
        np.testing.assert_allclose(path.coefs[:, k], direct, atol=1e-10)
    centred = ridge_path(X, y, alphas[1:], fit_intercept=True)
    for k, a in enumerate(alphas[1:]):
        fit = sk.Ridge(alpha=a).fit(X, y)
        np.testing.assert_allclose(centred.coefs[:, k], fit.coef_, atol=1e-10)
        assert centred.intercepts[k] == pytest.approx(fit.intercept_, abs=1e-10)
        H = Xc @ np.linalg.solve(Xc.T @ Xc + a * np.eye(5), Xc.T)
        assert centred.df[k] == pytest.approx(np.trace(H), abs=1e-10)


def test_ridgecv_leave_one_out_equals_sklearn_and_brute_force():
    X, y = problem(25, 4, seed=6)
    alphas = np.logspace(-2, 2, 15)
    ours = RidgeCV(alphas=alphas).fit(X, y)
    ref = sk.RidgeCV(alphas=alphas).fit(X, y)
    assert ours.alpha_ == ref.alpha_
    assert ours.best_score_ == pytest.approx(ref.best_score_, rel=1e-10)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-10)
    # brute force: refit without each row
    k = 7
    errs = [
        y[i] - sk.Ridge(alpha=alphas[k]).fit(np.delete(X, i, 0), np.delete(y, i)).predict(X[i : i + 1])[0]
        for i in range(len(y))
    ]
    assert ours.cv_mean_[k] == pytest.approx(np.mean(np.square(errs)), rel=1e-10)
    assert ours.effective_df_ == pytest.approx(ours.df_[list(alphas).index(ours.alpha_)])


def test_ridgecv_gcv_matches_its_formula():
    X, y = problem(20, 3, seed=7)
    alphas = np.array([0.5, 5.0])
    model = RidgeCV(alphas=alphas, cv="gcv").fit(X, y)
    n = len(y)
    Xc = X - X.mean(axis=0)
    for k, a in enumerate(alphas):
        H = np.full((n, n), 1 / n) + Xc @ np.linalg.solve(Xc.T @ Xc + a * np.eye(3), Xc.T)
        r = y - H @ y
        assert model.cv_mean_[k] == pytest.approx(np.mean(r**2) / (1 - np.trace(H) / n) ** 2)


def test_ridgecv_kfold_equals_sklearn_grid_search():
    X, y = problem(37, 5, seed=8)
    alphas = np.logspace(-2, 3, 12)
    ours = RidgeCV(alphas=alphas, cv=5).fit(X, y)
    grid = GridSearchCV(
        sk.Ridge(), {"alpha": alphas}, cv=KFold(5), scoring="neg_mean_squared_error"
    ).fit(X, y)
    np.testing.assert_allclose(-grid.cv_results_["mean_test_score"], ours.cv_mean_, rtol=1e-10)
    assert ours.alpha_min_ == grid.best_params_["alpha"]
    assert ours.alpha_1se_ >= ours.alpha_min_


def test_singular_design_with_alpha_zero_points_to_ols():
    X, _ = problem(20, 3)
    X = np.column_stack([X, X[:, 0] + X[:, 1]])
    with pytest.raises(ValueError, match=r"rank 3 < 4.*gradstat\.ols"):
        Ridge(alpha=0.0).fit(X, np.arange(20.0))
    with pytest.raises(ValueError, match=r"gradstat\.ols"):
        ridge_path(X, np.arange(20.0), [0.0, 1.0])
    # any alpha > 0 is fine
    assert np.isfinite(Ridge(alpha=1e-3).fit(X, np.arange(20.0)).coef_).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"alpha": -1.0}, "alpha must be a finite number >= 0"), ({"alpha": np.inf}, "alpha")],
)
def test_bad_alpha(kwargs, message):
    X, y = problem(10, 2)
    with pytest.raises(ValueError, match=message):
        Ridge(**kwargs).fit(X, y)


def test_bad_input_messages():
    X, y = problem(10, 2)
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN or inf.*column\(s\) \[1\]"):
        Ridge().fit(Xn, y)
    with pytest.raises(ValueError, match="y contains NaN"):
        Ridge().fit(X, np.r_[y[:-1], np.inf])
    Xc = X.copy()
    Xc[:, 1] = 4.0
    with pytest.raises(ValueError, match=r"column\(s\) \[1\] of X are constant"):
        Ridge(standardize=True).fit(Xc, y)
    with pytest.raises(ValueError, match="fewer than the cv=5 folds"):
        RidgeCV(cv=5).fit(X[:4], y[:4])
    with pytest.raises(ValueError, match="X has 10 samples but y has 9"):
        Ridge().fit(X, y[:-1])
