"""gradstat's least squares against the exact solution of the float64 design.

Correct significant digits measured here: the minimum over coefficients,
diag (X'X)^-1, SSE and fitted values (coefficients alone in parentheses);
numpy has no covariance, so its minimum is over the other three.

=========================  ===========  ============  ===========  ===========  ===========
design                     gradstat     plain QR      numpy lstsq  sm OLS pinv  sm OLS qr
=========================  ===========  ============  ===========  ===========  ===========
poly10, x in [0.4, 1.4]    14.7 (14.9)   7.6  (7.6)   7.3  (7.3)   7.3  (7.3)   0.0  (7.3)
Longley                    16.1 (16.3)  12.6 (14.3)  10.9 (10.9)  10.9 (10.9)   7.7 (10.9)
Wampler-like quintic       16.0 (16.3)  11.0 (12.2)   8.1 (10.4)   8.1 (10.4)  10.1 (12.0)
cubic, huge residuals      16.0 (16.2)   7.5 (13.0)   5.1 (11.2)   4.9 (11.2)   5.4 (11.2)
=========================  ===========  ============  ===========  ===========  ===========

("plain QR" is ``least_squares(..., refine=False)``; statsmodels' ``qr`` method
inverts ``R'R`` for the covariance, hence its 0 digits on the polynomial.)
"""

from __future__ import annotations

import functools
from fractions import Fraction

import numpy as np
import pytest
import statsmodels.api as sm

from gradstat.linear.lstsq import least_squares
from tests.linear.oracles import (
    HARD_DESIGNS,
    ExactFit,
    digits,
    exact_least_squares,
    polynomial_design,
    random_design,
    rel_error,
)

DESIGNS = {**HARD_DESIGNS, "random well-conditioned": random_design}


@functools.cache
def _case(name: str) -> tuple[np.ndarray, np.ndarray, ExactFit]:
    X, y = DESIGNS[name]()
    return X, y, exact_least_squares(X, y)


@pytest.mark.parametrize("name", list(DESIGNS))
def test_ten_significant_digits(name: str) -> None:
    X, y, exact = _case(name)
    fit = least_squares(X, y)
    assert fit.rank == X.shape[1]
    assert rel_error(fit.coef, exact.coef) <= 1e-10
    assert rel_error(np.diag(fit.cov_unscaled), exact.cov_diag) <= 1e-10
    assert rel_error(fit.sse, exact.sse) <= 1e-10
    assert rel_error(fit.fitted, exact.fitted) <= 1e-10
    assert rel_error(float(fit.resid @ fit.resid), exact.sse) <= 1e-10
    assert rel_error(fit.leverage(X), exact.leverage) <= 1e-10


@pytest.mark.parametrize("name", list(HARD_DESIGNS))
def test_hard_designs_trigger_refinement(name: str) -> None:
    X, y, _ = _case(name)
    assert least_squares(X, y).refined


def test_well_conditioned_design_skips_refinement_and_forcing_it_agrees() -> None:
    X, y, exact = _case("random well-conditioned")
    fast = least_squares(X, y)
    refined = least_squares(X, y, refine=True)
    assert not fast.refined and refined.refined
    assert fast.condition_number < 10
    assert rel_error(refined.coef, exact.coef) <= 1e-14
    np.testing.assert_allclose(fast.coef, refined.coef, rtol=1e-13)


def test_refinement_gains_over_plain_qr_and_peers_on_the_polynomial() -> None:
    """Plain QR and the peers stay near 7 digits where gradstat keeps more than 10."""
    X, y, exact = _case("poly10 x in [0.4, 1.4]")
    fit = least_squares(X, y)
    plain = least_squares(X, y, refine=False)
    lstsq = np.linalg.lstsq(X, y, rcond=None)[0]
    statsmodels_pinv = sm.OLS(y, X).fit().params
    assert 1e9 < fit.condition_number < 1e10
    assert digits(rel_error(fit.coef, exact.coef)) >= 10
    assert digits(rel_error(plain.coef, exact.coef)) < 9
    assert digits(rel_error(lstsq, exact.coef)) < 9
    assert digits(rel_error(np.asarray(statsmodels_pinv), exact.coef)) < 9


def test_beyond_the_target_kappa_1e11_still_nine_digits() -> None:
    """Degree 10 on [1, 2] (kappa 1.5e11, needs rank_tol=1e-10): the limit is kappa^2 2**-106."""
    X, y = polynomial_design(1.0, 2.0, 100, 10)
    exact = exact_least_squares(X, y)
    fit = least_squares(X, y, rank_tol=1e-10)
    assert fit.rank == 11 and fit.condition_number > 1e11
    assert digits(rel_error(fit.coef, exact.coef)) >= 9.5
    assert digits(rel_error(np.diag(fit.cov_unscaled), exact.cov_diag)) >= 9.5
    assert digits(rel_error(np.linalg.lstsq(X, y, rcond=None)[0], exact.coef)) < 7
    # R's default tolerance calls x^9 aliased on this design; the trust rule keeps it
    assert least_squares(X, y, rank_tol=1e-7).aliased.tolist() == [False] * 9 + [True, False]
    assert not least_squares(X, y).aliased.any()


def test_aliased_design_solves_exactly_on_the_kept_columns() -> None:
    X, y, _ = _case("longley")
    with_dup = np.column_stack([X[:, :3], X[:, 1] * 2.0, X[:, 3:], X[:, 2] - X[:, 1]])
    fit = least_squares(with_dup, y)
    assert fit.aliased.tolist() == [False] * 3 + [True] + [False] * 4 + [True]
    exact = exact_least_squares(with_dup[:, ~fit.aliased], y)
    assert rel_error(fit.coef[~fit.aliased], exact.coef) <= 1e-10
    assert rel_error(fit.sse, exact.sse) <= 1e-10
    assert np.isnan(fit.coef[fit.aliased]).all()


@pytest.mark.parametrize("name", ["poly10 x in [0.4, 1.4]", "longley"])
def test_effects_give_exact_sequential_sums_of_squares(name: str) -> None:
    X, y, exact = _case(name)
    fit = least_squares(X, y)
    k = X.shape[1]
    sse = [sum((Fraction(float(v)) ** 2 for v in y), Fraction(0))]  # empty model: y'y
    sse += [exact_least_squares(X[:, : j + 1], y).sse for j in range(k - 1)] + [exact.sse]
    drops = [sse[j] - sse[j + 1] for j in range(k)]
    assert rel_error(fit.effects**2, drops) <= 1e-10
