"""The bias–variance identity on a simulation whose truth is known in closed form.

OLS on a fixed design X (with intercept) is unbiased, with
Var f̂(x₀) = σ² x̃₀'(X̃'X̃)⁻¹x̃₀ (x̃ = (1, x)) and E‖β̂ − β‖² = σ² tr[(X̃'X̃)⁻¹]
restricted to the slopes.
"""

import mpmath
import numpy as np
import pytest

from gradstat.regularisation import Ridge
from gradstat.regularisation.bias_variance import (
    FirstColumns,
    bias_variance,
    bias_variance_curve,
)

N, P, SIGMA = 30, 4, 1.5
RNG0 = np.random.default_rng(11)
X = RNG0.standard_normal((N, P))
BETA = np.array([1.0, -2.0, 0.5, 0.0])
B0 = 0.7
X0 = RNG0.standard_normal((8, P))
F0 = B0 + X0 @ BETA


def simulate(rng):
    return X, B0 + X @ BETA + SIGMA * rng.standard_normal(N)


def closed_form():
    Xt = np.column_stack([np.ones(N), X])
    inv = np.linalg.inv(Xt.T @ Xt)
    X0t = np.column_stack([np.ones(len(X0)), X0])
    var = SIGMA**2 * np.einsum("ij,jk,ik->i", X0t, inv, X0t)
    return var, SIGMA**2 * np.trace(inv[1:, 1:])


def test_ols_on_fixed_design_matches_closed_form():
    R = 1500
    res = bias_variance(lambda: Ridge(alpha=0.0), simulate, X0, F0, SIGMA, n_rep=R, beta=BETA)
    var, mse_beta = closed_form()
    # the variance estimate has relative SE ≈ √(2/R) per point
    np.testing.assert_allclose(res.per_point["variance"], var, rtol=5 * np.sqrt(2 / R))
    # unbiased: the estimated bias² is (mean − f0)², of order Var/R
    assert np.all(res.per_point["bias2"] < 12 * var / R)
    assert res.mse_beta == pytest.approx(mse_beta, abs=5 * res.mse_beta_se)
    assert res.noise == SIGMA**2
    # the measured prediction error agrees with the decomposition within MC error
    assert abs(res.mspe_empirical - res.mspe) < 4 * res.mspe_empirical_se
    assert abs(res.mspe - (SIGMA**2 + var.mean())) < 4 * res.mspe_empirical_se


def ridge_closed_form(alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Bias and variance of ridge at X0 on the fixed design, in 40-digit arithmetic (mpmath).

    Ridge with an unpenalised intercept is the linear smoother f̂(x₀) = h(x₀)'y with
    h = 1/n + X_c (X_c'X_c + αI)⁻¹ (x₀ − x̄): E f̂(x₀) = h'f and Var f̂(x₀) = σ² h'h, f = b₀ + Xβ.
    """
    with mpmath.workdps(40):
        Xm = mpmath.matrix(X.tolist())
        xbar = [mpmath.fsum(Xm[i, j] for i in range(N)) / N for j in range(P)]
        Xc = mpmath.matrix(N, P)
        for i in range(N):
            for j in range(P):
                Xc[i, j] = Xm[i, j] - xbar[j]
        A = Xc.T * Xc + alpha * mpmath.eye(P)
        f = [B0 + mpmath.fsum(Xm[i, j] * BETA[j] for j in range(P)) for i in range(N)]
        bias, var = [], []
        for x0, f0 in zip(X0, F0, strict=True):
            d = mpmath.matrix([x0[j] - xbar[j] for j in range(P)])
            h = Xc * mpmath.lu_solve(A, d)
            h = [h[i] + mpmath.mpf(1) / N for i in range(N)]
            bias.append(float(mpmath.fsum(hi * fi for hi, fi in zip(h, f, strict=True)) - f0))
            var.append(float(SIGMA**2 * mpmath.fsum(hi * hi for hi in h)))
    return np.array(bias), np.array(var)


def test_ridge_on_fixed_design_matches_closed_form_bias_and_variance():
    R, alpha = 1500, 25.0
    res = bias_variance(lambda: Ridge(alpha=alpha), simulate, X0, F0, SIGMA, n_rep=R)
    bias, var = ridge_closed_form(alpha)
    assert np.all(np.abs(bias) > 10 * np.sqrt(var / R))  # a bias the simulation can see
    mc_se = np.sqrt(var / R)  # SE of the mean prediction over R replications
    np.testing.assert_array_less(np.abs(res.per_point["mean_prediction"] - (F0 + bias)), 5 * mc_se)
    np.testing.assert_allclose(res.per_point["variance"], var, rtol=5 * np.sqrt(2 / R))
    # bias² estimated as (mean − f0)²: within 5 SE of the mean, through d(b²) = 2|b| db
    np.testing.assert_array_less(
        np.abs(res.per_point["bias2"] - bias**2), 10 * np.abs(bias) * mc_se + 25 * var / R
    )
    expected_mspe = float(np.mean(bias**2 + var)) + SIGMA**2
    assert abs(res.mspe - expected_mspe) < 5 * np.sqrt(2 / R) * float(np.mean(var)) + 5 * float(
        np.mean(2 * np.abs(bias) * mc_se)
    )
    assert abs(res.mspe_empirical - expected_mspe) < 4 * res.mspe_empirical_se


def test_omitting_predictors_adds_bias_and_removes_variance():
    curve = bias_variance_curve(
        lambda k: FirstColumns(k), [1, 3], simulate, X0, F0, SIGMA, n_rep=300, name="k"
    )
    one, three = curve.iloc[0], curve.iloc[1]
    # omitting x₂ (β = −2) is a large bias; three predictors only miss β₄ = 0
    assert one["bias2"] > 10 * three["bias2"]
    assert one["variance"] < three["variance"]
    assert list(curve.columns[:2]) == ["k", "bias2"]


def test_ridge_trades_bias_for_variance_along_alpha():
    curve = bias_variance_curve(
        lambda a: Ridge(alpha=a), [0.01, 10.0, 1000.0], simulate, X0, F0, SIGMA, n_rep=200
    )
    assert np.all(np.diff(curve["variance"]) < 0)
    assert np.all(np.diff(curve["bias2"]) > 0)
    assert np.all(np.abs(curve["mspe"] - curve["mspe_empirical"]) < 4 * curve["mspe_empirical_se"])


def test_bad_arguments():
    with pytest.raises(ValueError, match="f0 has 3 values but x0 has 8 rows"):
        bias_variance(Ridge, simulate, X0, F0[:3], SIGMA)
    with pytest.raises(ValueError, match="sigma must be a finite SD"):
        bias_variance(Ridge, simulate, X0, F0, -1.0)
    with pytest.raises(ValueError, match="beta has"):
        bias_variance(Ridge, simulate, X0, F0, SIGMA, n_rep=2, beta=[1.0, 2.0])
