"""Least-squares core: properties, aliasing, statsmodels agreement, block reductions, memory."""

from __future__ import annotations

import tracemalloc
from fractions import Fraction

import numpy as np
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.outliers_influence import OLSInfluence

from gradstat.linear.kernels import (
    column_scale,
    combine_gram,
    combine_r,
    dd_cholesky,
    dd_div,
    dd_forward_solve,
    dd_mul,
    dd_sqrt,
    gram_dd,
    r_factor,
    scaled_block,
    two_prod,
    two_sum,
)
from gradstat.linear.lstsq import least_squares
from tests.linear.oracles import longley, random_design

SETTINGS = settings(max_examples=30, deadline=None)


def _design(seed: int, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.standard_normal((n, k - 1)) * rng.uniform(0.1, 100, k - 1)])
    return X, X @ rng.standard_normal(k) + rng.standard_normal(n)


# ---- agreement with statsmodels on ordinary designs -------------------------------------


@pytest.mark.parametrize("refine", [None, True])
@pytest.mark.parametrize("seed,n,k", [(0, 50, 3), (1, 400, 8), (2, 30, 12)])
def test_matches_statsmodels_ols(seed: int, n: int, k: int, refine: bool | None) -> None:
    X, y = _design(seed, n, k)
    fit = least_squares(X, y, refine=refine)
    assert fit.refined is bool(refine)
    ref = sm.OLS(y, X).fit()
    np.testing.assert_allclose(fit.coef, ref.params, rtol=1e-10)
    np.testing.assert_allclose(fit.cov_unscaled, ref.normalized_cov_params, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(fit.fitted, ref.fittedvalues, rtol=1e-10)
    np.testing.assert_allclose(fit.resid, ref.resid, rtol=1e-9, atol=1e-12)
    assert fit.sse == pytest.approx(ref.ssr, rel=1e-10)
    np.testing.assert_allclose(fit.leverage(X), OLSInfluence(ref).hat_matrix_diag, rtol=1e-10)
    nested = [sm.OLS(y, X[:, :j]).fit().ssr if j else y @ y for j in range(k + 1)]
    np.testing.assert_allclose(fit.effects**2, -np.diff(nested), rtol=1e-8)
    assert fit.effects @ fit.effects + fit.sse == pytest.approx(y @ y, rel=1e-12)
    assert fit.rank == k and not fit.aliased.any()
    # the condition number of X with unit-norm columns (equilibrated)
    assert fit.condition_number == pytest.approx(np.linalg.cond(X / np.linalg.norm(X, axis=0)), rel=1e-8)


def test_leverage_of_new_points_is_the_prediction_variance_factor() -> None:
    X, y = longley()
    fit = least_squares(X, y)
    x0 = X[:3] * 1.01
    expected = np.einsum("ij,jk,ik->i", x0, np.linalg.inv(X.T @ X), x0)
    np.testing.assert_allclose(fit.leverage(x0), expected, rtol=1e-6)  # inv is the rough one
    assert fit.leverage(X).sum() == pytest.approx(X.shape[1], rel=1e-9)  # trace of H = rank


# ---- hypothesis properties ---------------------------------------------------------------


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(2, 6),
    column=st.integers(0, 5),
    log_factor=st.floats(-8, 8),
)
def test_scaling_a_column_scales_its_coefficient_inversely(
    seed: int, k: int, column: int, log_factor: float
) -> None:
    X, y = _design(seed, 40, k)
    j = column % k
    factor = 10.0**log_factor
    Xc = X.copy()
    Xc[:, j] *= factor
    base, scaled = least_squares(X, y), least_squares(Xc, y)
    expected = base.coef.copy()
    expected[j] /= factor
    np.testing.assert_allclose(scaled.coef, expected, rtol=1e-9)
    assert scaled.sse == pytest.approx(base.sse, rel=1e-10)
    assert scaled.cov_unscaled[j, j] == pytest.approx(base.cov_unscaled[j, j] / factor**2, rel=1e-9)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(1, 6))
def test_row_permutation_changes_nothing_but_rounding(seed: int, k: int) -> None:
    X, y = _design(seed, 35, k)
    perm = np.random.default_rng(seed).permutation(35)
    base, shuffled = least_squares(X, y), least_squares(X[perm], y[perm])
    np.testing.assert_allclose(shuffled.coef, base.coef, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(shuffled.fitted, base.fitted[perm], rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(shuffled.cov_unscaled, base.cov_unscaled, rtol=1e-11, atol=1e-15)
    assert shuffled.sse == pytest.approx(base.sse, rel=1e-11)


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(1, 6),
    source=st.integers(0, 5),
    position=st.integers(0, 6),
    multiple=st.sampled_from([1.0, -2.0, 0.5, 3.0]),
)
def test_a_duplicated_column_is_reported_aliased(
    seed: int, k: int, source: int, position: int, multiple: float
) -> None:
    X, y = _design(seed, 30, k)
    src = source % k
    at = src + 1 + position % (k - src)  # the copy comes after its original
    Xd = np.insert(X, at, X[:, src] * multiple, axis=1)
    base, dup = least_squares(X, y), least_squares(Xd, y)
    assert dup.aliased.tolist() == [i == at for i in range(k + 1)]
    assert np.isnan(dup.coef[at]) and np.isnan(dup.cov_unscaled[at]).all()
    assert np.isnan(dup.cov_unscaled[:, at]).all()
    np.testing.assert_allclose(np.delete(dup.coef, at), base.coef, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(
        np.delete(np.delete(dup.cov_unscaled, at, 0), at, 1),
        base.cov_unscaled,
        rtol=1e-10,
        atol=1e-15,
    )
    np.testing.assert_allclose(dup.fitted, base.fitted, rtol=1e-10, atol=1e-12)
    assert dup.rank == k


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), levels=st.integers(2, 5))
def test_full_dummy_set_with_intercept_aliases_the_last_dummy(seed: int, levels: int) -> None:
    rng = np.random.default_rng(seed)
    g = np.concatenate([np.arange(levels), rng.integers(0, levels, 40)])
    dummies = (g[:, None] == np.arange(levels)).astype(float)
    x = rng.standard_normal(g.size)
    X = np.column_stack([np.ones(g.size), dummies, x])
    y = 2.0 + g + x + rng.standard_normal(g.size)
    fit = least_squares(X, y)
    assert fit.aliased.tolist() == [False] * levels + [True, False]
    ref = sm.OLS(y, X[:, ~fit.aliased]).fit()
    np.testing.assert_allclose(fit.coef[~fit.aliased], ref.params, rtol=1e-10)


def test_sum_of_columns_and_zero_column_are_aliased() -> None:
    X, y = random_design(60, 4)
    Xs = np.column_stack([X, X[:, 1] + X[:, 2] - 0.5 * X[:, 3], np.zeros(60), X[:, 2] ** 2])
    fit = least_squares(Xs, y)
    assert fit.aliased.tolist() == [False] * 4 + [True, True, False]
    assert fit.rank == 5
    ref = sm.OLS(y, Xs[:, ~fit.aliased]).fit()
    np.testing.assert_allclose(fit.coef[~fit.aliased], ref.params, rtol=1e-10)
    assert fit.sse == pytest.approx(ref.ssr, rel=1e-10)


def test_rank_tol_follows_r_rule_relative_to_each_column() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal(50)
    near = x + 1e-9 * rng.standard_normal(50)  # orthogonal part ~1e-9 of its norm
    X = np.column_stack([np.ones(50), x, near * 1e6])  # scaling the column changes nothing
    y = x + rng.standard_normal(50)
    assert least_squares(X, y, rank_tol=1e-7).aliased.tolist() == [False, False, True]
    assert least_squares(X, y, rank_tol=1e-12).aliased.tolist() == [False, False, False]
    # by default the column is kept: kappa ~1e9 leaves the refined solution ~15 digits
    assert least_squares(X, y).aliased.tolist() == [False, False, False]


@pytest.mark.parametrize("refine", [None, True, False])
def test_extreme_column_magnitudes_neither_overflow_nor_lose_accuracy(refine: bool | None) -> None:
    rng = np.random.default_rng(11)
    units = np.array([1.0, 1e150, 1e-150, 1.0])
    Z = np.column_stack([np.ones(50), rng.standard_normal((50, 3))])
    X = Z * units
    y = (Z[:, 0] + Z[:, 3] + rng.standard_normal(50)) * 1e-100
    fit = least_squares(X, y, refine=refine)
    ref = sm.OLS(y, Z).fit()
    np.testing.assert_allclose(fit.coef * units, ref.params, rtol=1e-12)
    np.testing.assert_allclose(
        np.diag(fit.cov_unscaled) * units**2, np.diag(ref.normalized_cov_params), rtol=1e-12
    )
    assert fit.sse == pytest.approx(ref.ssr, rel=1e-12)
    np.testing.assert_allclose(fit.leverage(X), ref.get_influence().hat_matrix_diag, rtol=1e-12)


def test_all_columns_aliased() -> None:
    y = np.arange(5.0)
    fit = least_squares(np.zeros((5, 2)), y)
    assert fit.rank == 0 and fit.aliased.all() and np.isnan(fit.coef).all()
    np.testing.assert_array_equal(fit.resid, y)
    assert fit.sse == 30.0
    np.testing.assert_array_equal(fit.leverage(np.ones((3, 2))), np.zeros(3))


def test_perfect_fit_has_zero_residuals() -> None:
    x = np.arange(10.0)
    X = np.column_stack([np.ones(10), x])
    fit = least_squares(X, 3.0 - 2.0 * x)
    np.testing.assert_allclose(fit.coef, [3.0, -2.0], rtol=1e-14)
    assert fit.sse < 1e-25


# ---- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "X,y,kwargs,match",
    [
        (np.ones(5), np.ones(5), {}, "X must be 2-D"),
        (np.ones((5, 2)), np.ones(4), {}, r"y must have shape \(5,\)"),
        (np.ones((5, 2)), np.ones((5, 1)), {}, r"y must have shape \(5,\)"),
        (np.eye(5, 2), np.ones(5), {"rank_tol": 1.5}, "rank_tol must be in"),
        (np.eye(5, 2), np.ones(5), {"rank_tol": -1e-3}, "rank_tol must be in"),
    ],
)
def test_bad_input_is_rejected(X: np.ndarray, y: np.ndarray, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        least_squares(X, y, **kwargs)


def test_leverage_checks_its_shape() -> None:
    fit = least_squares(np.eye(5, 2), np.ones(5))
    with pytest.raises(ValueError, match=r"X must have shape \(n, 2\)"):
        fit.leverage(np.ones((3, 3)))


# ---- pairwise block reductions (for streamed / distributed fits) --------------------------


def test_r_factors_of_blocks_combine_to_the_r_of_the_whole() -> None:
    X, y = random_design(300, 6)
    scale = column_scale(X)
    parts = [scaled_block(X[i : i + 70], y[i : i + 70], scale, 1.0) for i in range(0, 300, 70)]
    rs = [r_factor(p) for p in parts]
    tree = combine_r(combine_r(rs[0], rs[1]), combine_r(combine_r(rs[2], rs[3]), rs[4]))
    whole = scaled_block(X, y, scale, 1.0)
    np.testing.assert_allclose(tree.T @ tree, whole.T @ whole, rtol=1e-12, atol=1e-10)


def test_gram_dd_is_exact_and_combines_pairwise() -> None:
    X, y = longley()
    a = scaled_block(X, y, column_scale(X), float(column_scale(y[:, None])[0]))
    ints = [[Fraction(float(v)) for v in col] for col in a.T]
    exact = [[sum((p * q for p, q in zip(ci, cj, strict=True)), Fraction(0)) for cj in ints] for ci in ints]
    g = combine_gram(gram_dd(a[:7]), gram_dd(a[7:]))
    for i in range(a.shape[1]):
        for j in range(a.shape[1]):
            err = abs(Fraction(g[0][i, j]) + Fraction(g[1][i, j]) - exact[i][j])
            assert err <= Fraction(2) ** -100 * abs(exact[i][j])


# ---- double-double arithmetic against exact rationals --------------------------------------

FINITE = st.floats(min_value=-1e100, max_value=1e100, allow_nan=False).filter(
    lambda v: v == 0 or abs(v) > 1e-100
)


def _dd(x: float) -> tuple[np.ndarray, np.ndarray]:
    return np.array([x]), np.array([0.0])


def _value(d: tuple[np.ndarray, np.ndarray]) -> Fraction:
    return Fraction(float(d[0][0])) + Fraction(float(d[1][0]))


@SETTINGS
@given(a=FINITE, b=FINITE)
def test_two_sum_and_two_prod_are_error_free(a: float, b: float) -> None:
    s, e = two_sum(np.array([a]), np.array([b]))
    assert Fraction(float(s[0])) + Fraction(float(e[0])) == Fraction(a) + Fraction(b)
    p, e = two_prod(np.array([a]), np.array([b]))
    assert Fraction(float(p[0])) + Fraction(float(e[0])) == Fraction(a) * Fraction(b)


@SETTINGS
@given(a=st.floats(1e-6, 1e6), b=st.floats(1e-6, 1e6), lo=st.floats(-1.0, 1.0))
def test_dd_mul_div_sqrt_have_double_double_accuracy(a: float, b: float, lo: float) -> None:
    x = (np.array([a]), np.array([lo * np.spacing(a) / 2]))
    y = _dd(b)
    exact_x = _value(x)
    tol = Fraction(2) ** -100
    assert abs(_value(dd_mul(x, y)) - exact_x * Fraction(b)) <= tol * abs(exact_x * Fraction(b))
    assert abs(_value(dd_div(x, y)) - exact_x / Fraction(b)) <= tol * abs(exact_x / Fraction(b))
    root = _value(dd_sqrt(x))
    assert abs(root * root - exact_x) <= tol * exact_x


def test_dd_cholesky_and_forward_solve_reproduce_the_gram_matrix() -> None:
    X, _ = longley()
    a = X * column_scale(X)
    g = gram_dd(a)
    u = dd_cholesky(g)
    np.testing.assert_allclose(u[0].T @ u[0], g[0], rtol=1e-12)
    assert np.all(np.diag(u[0]) > 0) and np.allclose(np.tril(u[0], -1), 0.0)
    q = dd_forward_solve(u, a.T)  # q = U^-T a_i: the rows of an orthonormal basis
    np.testing.assert_allclose(q @ q.T, np.eye(7), atol=1e-12)


# ---- memory: the fit never copies X whole ---------------------------------------------


def test_peak_extra_memory_is_below_half_of_x() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((250_000, 20))
    y = X[:, 0] + rng.standard_normal(250_000)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    fit = least_squares(X, y)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert fit.rank == 20
    assert peak < 0.5 * X.nbytes
