"""poly(x, d, raw=True) against the exact least-squares fit of the exact powers of x (mpmath, 80 digits)."""

import mpmath as mp
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import gradstat


def _exact_fit(x, y, d):
    with mp.workdps(80):
        X = mp.matrix([[mp.mpf(float(v)) ** k for k in range(d + 1)] for v in x])
        Y = mp.matrix([mp.mpf(float(v)) for v in y])
        gram = X.T * X
        beta = mp.lu_solve(gram, X.T * Y)
        resid = Y - X * beta
        sse = sum(r**2 for r in resid)
        sigma2 = sse / (len(x) - d - 1)
        inverse = gram**-1
        se = [mp.sqrt(sigma2 * inverse[j, j]) for j in range(d + 1)]
        return (
            np.array([float(b) for b in beta]),
            np.array([float(s) for s in se]),
            float(sse),
            beta,
        )


def _evaluate(beta, t):
    with mp.workdps(80):
        return float(sum(b * mp.mpf(float(t)) ** k for k, b in enumerate(beta)))


def _digits(ours, exact):
    """Correct significant digits of the worst entry (inf when exact)."""
    with np.errstate(divide="ignore"):
        return -np.log10(np.max(np.abs(np.asarray(ours) - exact) / np.abs(exact)))


@pytest.mark.parametrize(("low", "high", "degree"), [(1.0, 2.0, 10), (1000.0, 1001.0, 5), (-3.0, 7.0, 8)])
def test_raw_polynomial_has_the_exact_digits(low, high, degree):
    rng = np.random.default_rng(degree)
    x = rng.uniform(low, high, 60)
    y = np.sin(3 * (x - low) / (high - low)) + 0.1 * rng.standard_normal(60)
    fit = gradstat.ols(f"y ~ poly(x, {degree}, raw=True)", pd.DataFrame({"x": x, "y": y}))
    beta, se, sse, exact_beta = _exact_fit(x, y, degree)
    assert _digits(fit.coef, beta) >= 12
    assert _digits(fit.std_err, se) >= 12
    assert _digits(fit.sse, sse) >= 12
    point = (low + high) / 2 + 0.1
    assert _digits(fit.predict(pd.DataFrame({"x": [point]})).iloc[0], _evaluate(exact_beta, point)) >= 12


def test_typing_the_powers_loses_what_poly_keeps():
    """The same model written as I(x**k): the rounded powers of x in [1, 2] defeat statsmodels."""
    rng = np.random.default_rng(10)
    x = rng.uniform(1.0, 2.0, 60)
    y = np.sin(3 * x) + 0.1 * rng.standard_normal(60)
    frame = pd.DataFrame({"x": x, "y": y})
    beta, _, _, _ = _exact_fit(x, y, 10)
    powers = " + ".join(f"I(x**{k})" for k in range(1, 11))
    theirs = smf.ols(f"y ~ {powers}", frame).fit()
    ours = gradstat.ols("y ~ poly(x, 10, raw=True)", frame)
    assert _digits(ours.coef, beta) >= 12
    assert _digits(theirs.params, beta) < 8


def test_orthogonal_poly_spans_the_same_fit():
    frame = pd.DataFrame({"x": np.linspace(-1, 3, 30)})
    frame["y"] = np.cos(frame["x"]) + 0.01 * np.arange(30) % 3
    orthogonal = gradstat.ols("y ~ poly(x, 4)", frame)
    raw = gradstat.ols("y ~ poly(x, 4, raw=True)", frame)
    theirs = smf.ols("y ~ x + I(x**2) + I(x**3) + I(x**4)", frame).fit()
    np.testing.assert_allclose(orthogonal.fitted_values, raw.fitted_values, rtol=1e-10)
    np.testing.assert_allclose(raw.coef, theirs.params, rtol=1e-9)
    np.testing.assert_allclose(raw.std_err, theirs.bse, rtol=1e-9)
    np.testing.assert_allclose(raw.r_squared, orthogonal.r_squared, rtol=1e-12)


def test_raw_poly_needs_an_intercept_and_no_interaction():
    # rounded powers (x not dyadic): the centred Chebyshev basis; exact powers are the direct design
    x = np.linspace(0.1, 1.3, 10)
    frame = pd.DataFrame({"x": x, "y": x**2, "g": list("ab") * 5})
    with pytest.raises(ValueError, match="needs an intercept"):
        gradstat.ols("y ~ 0 + poly(x, 2, raw=True)", frame)
    with pytest.raises(ValueError, match="inside an interaction"):
        gradstat.ols("y ~ poly(x, 2, raw=True):C(g)", frame)
