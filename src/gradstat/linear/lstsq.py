"""Least squares ``min ||y - X b||`` solved to the exact solution of the float64 design.

Pipeline (``A = [X S | y t]``, ``S`` and ``t`` powers of two, so scaling is exact):

1. ``R`` factor of ``A`` by Householder QR (LAPACK ``dgeqrf``), reduced row block by
   row block (TSQR: ``R <- qr([R; A_block])``), so ``X`` is never copied whole.
2. Rank: columns are taken in order.  By default a column is *aliased* only where
   the refined solution cannot be trusted: when keeping it would make the condition
   number ``kappa`` of the column-equilibrated kept design exceed ``KAPPA_TRUSTED``
   (``kappa^2 2**-106``, the refined solver's error, would pass ``1e-9``: fewer than
   9 correct digits).  With ``rank_tol`` given, R's ``lm``/``dqrdc2`` rule instead:
   column ``j`` is aliased when the norm of its part orthogonal to the kept earlier
   columns is below ``rank_tol`` times its own norm (R's default ``tol = 1e-7``; the
   ratio is unchanged by column scaling).  Aliased columns are deleted from ``R`` and
   the rest re-triangularised, so a duplicate of an earlier column is the one reported.
3. ``b = R^-1 Q'y`` and ``(X'X)^-1 = R^-1 R^-T`` on the kept columns (no inverse of
   ``X'X`` is ever formed).
4. Refinement, applied when the a-priori relative error bound of step 3,
   ``kappa eps + kappa^2 eps ||r|| / (||R|| ||b||)`` (``kappa`` the 2-norm condition
   number of the kept design with unit-norm columns — Householder QR is invariant to
   column scaling, so a rare factor level's short dummy column does not count as
   ill-conditioning — and ``r`` the residual), exceeds ``1e-13``:
   the Gram matrix ``G = A'A`` is computed exactly in double-double (Ozaki-split
   BLAS products, see :mod:`gradstat.linear.extended`) and the corrected
   semi-normal equations ``z <- z + (R'R)^-1 (rhs - G z)`` are iterated with the
   residual ``rhs - G z`` in double-double, for ``b`` (``rhs = X'y``) and for
   ``(X'X)^-1`` (``rhs = I``).  The iteration matrix ``R^-T (R'R - G) R^-1`` has
   norm ~``kappa eps``, so it converges to the exact least-squares solution,
   kept in double-double; fitted values and residuals are then evaluated in
   double-double from it.  ``G`` is computed to ``2**-bits`` with
   ``bits = min(120, 64 + 2 log2(kappa) + log2(n)/2)``, and its double-double
   Cholesky factor gives full-precision leverages and sequential effects.

Accuracy against the exact (rational) least-squares solution of the float64
data, min over coefficients, diag (X'X)^-1, SSE and fitted values: 14.7
significant digits on a degree-10 raw polynomial in [0.4, 1.4] (kappa 1.7e9),
16 on Longley, a Wampler-style quintic and a cubic with huge residuals; numpy's
``lstsq`` and statsmodels reach 7.3, 10.9, 8.1 and 5 there (see
``tests/linear/test_lstsq_exact.py``).  The limit is ``kappa^2 2**-106``: about
11 digits at kappa 1.5e11.

Without refinement, fitted values come from a float64 product whose rigorous
rounding bound ``k eps |X||b|`` is checked row by row; rows where it exceeds
``2**-40 |fitted|`` are recomputed in double-double.

Every quantity accumulated over rows (``R``, ``G``, the fitted values) is a
function of one row block (:func:`scaled_block`, :func:`r_factor`,
:func:`gram_dd`), and ``R`` / ``G`` of two blocks combine pairwise
(:func:`combine_r`, :func:`combine_gram`), so a distributed fit can reduce
partitions in a tree.  Peak extra memory is one row block (65,536 rows) of
``[X | y]`` plus the outputs: 0.07 x ``X.nbytes`` at n = 1e6, k = 50.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import lapack, solve_triangular

from gradstat.linear.extended import (
    DD,
    GRAM_BITS,
    dd_add,
    dd_add_f,
    dd_cholesky,
    dd_forward_solve,
    dd_matmul_residual,
    dd_matvec,
    gram_dd,
    slice_bits,
    two_sum,
)

EPS = float(np.finfo(np.float64).eps)
DEFAULT_RANK_TOL = 1e-7  # R's lm(): qr(X, tol = 1e-07), used when rank_tol is given as R's
TRUSTED_ERROR = 1e-9  # a column is kept while the refined solution keeps 9 digits
KAPPA_TRUSTED = math.sqrt(TRUSTED_ERROR * 2.0**106)  # kappa^2 2**-106 = 1e-9: kappa = 2.85e11
REFINE_THRESHOLD = 1e-13  # refine when the a-priori relative error bound exceeds this
QR_BLOCK_ROWS = 65_536
GRAM_BLOCK_ROWS = 8_192  # 2**13 rows: slices of 20 bits keep every GEMM exact
LEVERAGE_DD_WORK = 2e7  # n k^2 up to which refined fits get double-double leverages
FITTED_REL_BOUND = 2.0**-40  # float64 fitted values are kept when their bound is below this
_MAX_REFINE_STEPS = 12
_CONVERGED = 2.0**-100


@dataclass(frozen=True)
class LeastSquaresFit:
    """Least-squares solution of ``y ~ X`` (see :func:`least_squares`).

    ``effects`` (rank,) are ``Q'y`` on the kept columns in order, signed so that
    ``R`` has a positive diagonal (R's ``effects``): ``effects[j]**2`` is the drop in
    SSE when kept column ``j`` joins those before it (sequential, type I sums of
    squares), and ``||y||^2 = sum(effects**2) + sse``.  Refined fits compute them in
    double-double from the exact Gram matrix, ``U^-T X'y`` with ``U'U = X'X``.
    """

    coef: np.ndarray
    aliased: np.ndarray
    cov_unscaled: np.ndarray
    fitted: np.ndarray
    resid: np.ndarray
    sse: float
    rank: int
    condition_number: float
    refined: bool
    _r: np.ndarray = field(repr=False)  # R of the scaled kept columns X[:, kept] * _scale
    _scale: np.ndarray = field(repr=False)  # column scale factors (powers of two)
    _chol: DD | None = field(default=None, repr=False)  # U'U = G exactly (refined fits)
    effects: np.ndarray = field(default_factory=lambda: np.zeros(0))
    error_bound: float = EPS  # estimated relative error of the solution (see correct_digits)
    # scale-free forms, finite across the float range: y_scale t and the column scales S are powers
    # of two, cov_scaled = (S'X'XS)^-1 on the kept columns, so cov_unscaled = S cov_scaled S
    y_scale: float = 1.0
    cov_scaled: np.ndarray | None = None

    @property
    def column_scales(self) -> np.ndarray:
        """Powers of two ``S`` with the columns of ``X S`` of largest entry in [1/2, 1)."""
        return self._scale

    @property
    def correct_digits(self) -> float:
        """Estimated correct significant digits, −log10 of the error bound: ``kappa^2 2**-106 + eps``
        when refined, the a-priori ``kappa eps + kappa^2 eps ||r|| / (||R|| ||b||)`` otherwise."""
        return float(min(-math.log10(EPS), -math.log10(max(self.error_bound, EPS))))

    def leverage(self, X: np.ndarray) -> np.ndarray:
        """Diagonal of the hat matrix, ``h_i = x_i'(X'X)^-1 x_i = ||R^-T S x_i||^2``.

        ``X`` may hold new rows (``h`` is then the prediction-variance factor).  For a
        refined fit (and ``n k^2 <= 2e7``) ``R`` is the double-double Cholesky factor of
        the exact Gram matrix and the triangular solve runs in double-double, so ``h``
        keeps full precision; otherwise the float64 QR factor gives relative error
        ~``kappa eps``.
        """
        X = np.asarray(X, dtype=np.float64)
        k = self.coef.shape[0]
        if X.ndim != 2 or X.shape[1] != k:
            raise ValueError(f"X must have shape (n, {k}), got {X.shape}")
        kept = ~self.aliased
        out = np.zeros(X.shape[0])
        if self.rank == 0:
            return out
        exact = self._chol is not None and X.shape[0] * self.rank**2 <= LEVERAGE_DD_WORK
        for start in range(0, X.shape[0], QR_BLOCK_ROWS):
            block = X[start : start + QR_BLOCK_ROWS][:, kept] * self._scale[kept]
            if exact and self._chol is not None:
                q = dd_forward_solve(self._chol, block.T)
            else:
                q = solve_triangular(self._r, block.T, trans="T", check_finite=False)
            out[start : start + block.shape[0]] = np.einsum("ij,ij->j", q, q)
        return out


def column_scale(X: np.ndarray) -> np.ndarray:
    """Powers of two ``s_j`` with ``max_i |X_ij| s_j`` in ``[1/2, 1)`` (1 for a zero column)."""
    X = np.atleast_2d(X.T).T
    amax = np.maximum(X.max(axis=0), -X.min(axis=0))  # reductions only: no copy of X
    _, exponent = np.frexp(amax)
    return np.ldexp(1.0, -np.clip(exponent, -1021, 1023))


def scaled_block(X: np.ndarray, y: np.ndarray, scale: np.ndarray, y_scale: float, top: int = 0) -> np.ndarray:
    """The row block ``[X S | y t]`` in Fortran order, below ``top`` unset rows."""
    a = np.empty((top + X.shape[0], X.shape[1] + 1), order="F")
    np.multiply(X, scale, out=a[top:, :-1])
    np.multiply(y, y_scale, out=a[top:, -1])
    return a


def _triangle(stacked: np.ndarray) -> np.ndarray:
    """``R`` (c, c) of a Fortran-ordered (m, c) array, which LAPACK overwrites."""
    c = stacked.shape[1]
    work, info = lapack.dgeqrf_lwork(*stacked.shape)  # optimal workspace: blocked Householder
    qr, _, _, info = lapack.dgeqrf(stacked, lwork=int(work), overwrite_a=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"dgeqrf failed with info={info}")
    r = np.zeros((c, c))
    m = min(c, stacked.shape[0])
    r[:m] = np.triu(qr[:m])
    return r


def r_factor(block: np.ndarray, r_prev: np.ndarray | None = None) -> np.ndarray:
    """Upper-triangular ``R`` (c, c) of the Householder QR of ``[r_prev; block]``."""
    if r_prev is None:
        return _triangle(np.array(block, order="F"))
    return _triangle(np.asfortranarray(np.vstack([r_prev, block])))


def combine_r(r1: np.ndarray, r2: np.ndarray) -> np.ndarray:
    """``R`` of two stacked row blocks from their ``R`` factors (``R'R`` adds)."""
    return r_factor(r2, r1)


def combine_gram(g1: DD, g2: DD) -> DD:
    """Double-double Gram matrices of two row blocks add."""
    return dd_add(g1, g2)


def reduce_r(X: np.ndarray, y: np.ndarray, scale: np.ndarray, y_scale: float) -> np.ndarray:
    """``R`` of the scaled ``[X y]``, folded block by block (Householder QR of each block)."""
    c = X.shape[1] + 1
    r = np.zeros((c, c))
    for start in range(0, X.shape[0], QR_BLOCK_ROWS):
        stop = start + QR_BLOCK_ROWS
        stacked = scaled_block(X[start:stop], y[start:stop], scale, y_scale, top=c)
        stacked[:c] = r
        r = _triangle(stacked)
        del stacked  # free the block before the next one is allocated
    return r


def gram_bits(kappa: float, n: int) -> int:
    """Bits of ``G`` needed: ``||dz|| / ||z|| ~ kappa^2 sqrt(n) 2**-bits`` kept below 2**-64."""
    return int(min(GRAM_BITS, math.ceil(64 + 2 * math.log2(max(kappa, 1.0)) + math.log2(n) / 2)))


def reduce_gram(
    X: np.ndarray, y: np.ndarray, kept: np.ndarray, scale: np.ndarray, y_scale: float, bits: int
) -> DD:
    """Gram matrix of the scaled ``[X y]`` (kept columns) in double-double, by row blocks."""
    assert slice_bits(GRAM_BLOCK_ROWS) >= 20
    g: DD | None = None
    for start in range(0, X.shape[0], GRAM_BLOCK_ROWS):
        stop = start + GRAM_BLOCK_ROWS
        block = scaled_block(X[start:stop][:, kept], y[start:stop], scale[kept], y_scale)
        gb = gram_dd(block, bits)
        g = gb if g is None else combine_gram(g, gb)
    assert g is not None
    return g


def _drop_aliased(
    w: np.ndarray, tol: float, forced: frozenset[int] = frozenset()
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Aliased columns of the ``R`` factor ``w`` of ``[X | y]`` (R's in-order rule), ``forced`` aliased too.

    Returns the kept mask, the triangular factor of ``[X[:, kept] | y]`` and the ratios
    ``|R_jj| / ||X_j||`` of the kept columns (the part of each column orthogonal to those before it).
    """
    k = w.shape[1] - 1
    norms = np.sqrt(np.einsum("ij,ij->j", w[:, :k], w[:, :k]))  # ||X_j||
    kept = np.zeros(k, dtype=bool)
    ratios = []
    w = w.copy()
    r = 0  # columns kept so far: column j now sits at position r
    for j in range(k):
        if j not in forced and norms[j] > 0 and abs(w[r, r]) >= tol * norms[j]:
            kept[j] = True
            ratios.append(abs(w[r, r]) / norms[j])
            r += 1
            continue
        w = np.delete(w, r, axis=1)
        trailing = _triangle(np.asfortranarray(w[r:, r:]))
        w[r:, r:] = 0.0
        w[r : r + trailing.shape[0], r:] = trailing
    return kept, w, np.array(ratios)


def equilibrated_svd(r1: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Column norms of ``R``, singular values of ``R`` with unit-norm columns (those of ``X`` with
    unit-norm columns) and their ratio, the equilibrated 2-norm condition number."""
    norms = np.sqrt(np.einsum("ij,ij->j", r1, r1))
    sv = np.linalg.svd(r1 / np.where(norms > 0, norms, 1.0), compute_uv=False)
    return norms, sv, float(sv[0] / sv[-1]) if sv.size and sv[-1] > 0 else math.inf


def _trusted_columns(w: np.ndarray, tol: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Kept mask and triangle: R's rule with ``tol``; else drop, one by one, the column closest to the
    span of those before it until the equilibrated condition number is at most ``KAPPA_TRUSTED``."""
    if tol is not None:
        kept, w, _ = _drop_aliased(w, tol)
        return kept, w
    forced: frozenset[int] = frozenset()
    while True:
        kept, reduced, ratios = _drop_aliased(w, 1.0 / KAPPA_TRUSTED, forced)
        rank = int(kept.sum())
        if rank <= 1 or equilibrated_svd(reduced[:rank, :rank])[2] <= KAPPA_TRUSTED:
            return kept, reduced
        forced = forced | {int(np.flatnonzero(kept)[int(np.argmin(ratios))])}


def _csne(g: DD, rhs: DD, r: np.ndarray, z0: np.ndarray) -> DD:
    """Corrected semi-normal equations ``z <- z + (R'R)^-1 (rhs - G z)``, ``z`` in double-double.

    A step is taken only while the corrections shrink (by at least half), until they
    reach the double-double level (``2**-100`` of ``z``).
    """
    z: DD = (z0.copy(), np.zeros_like(z0))
    previous = math.inf
    for _ in range(_MAX_REFINE_STEPS):
        rho = dd_matmul_residual(g, z, rhs)
        d = solve_triangular(r, solve_triangular(r, rho, trans="T", check_finite=False), check_finite=False)
        zmax = np.max(np.abs(z[0]), axis=0)
        size = float(np.max(np.abs(d).max(axis=0) / np.where(zmax > 0, zmax, 1.0)))
        if not math.isfinite(size) or size >= min(0.5 * previous, 1.0):
            break
        z = dd_add_f(z, d)
        previous = size
        if size <= _CONVERGED:
            break
    return z


def _fitted_rows_dd(a: np.ndarray, z: DD) -> tuple[np.ndarray, np.ndarray]:
    """Fitted values and residuals of a scaled block ``a = [X S | y t]``, in double-double.

    Working on the scaled block keeps Dekker's splitting far from overflow.
    """
    f = dd_matvec(a[:, :-1], z)
    r = dd_add_f(two_sum(a[:, -1], -f[0]), -f[1])
    return f[0] + f[1], r[0] + r[1]


def _fitted_float(
    X: np.ndarray, y: np.ndarray, beta: np.ndarray, kept: np.ndarray, scale: np.ndarray, y_scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """``X b`` in float64, rows with a large rounding bound redone in double-double."""
    n, k = X.shape
    fitted = X @ beta
    resid = y - fitted
    abs_beta = np.abs(beta)
    z = (beta[kept] / scale[kept] * y_scale, np.zeros(int(kept.sum())))  # exact: powers of 2
    for start in range(0, n, GRAM_BLOCK_ROWS):
        stop = start + GRAM_BLOCK_ROWS
        xb = X[start:stop]
        bound = (k + 1) * EPS * (np.abs(xb) @ abs_beta)  # |fl(x'b) - x'b| <= k eps |x|'|b|
        rough = np.flatnonzero(bound > FITTED_REL_BOUND * np.abs(fitted[start:stop]))
        if rough.size:
            rows = start + rough
            a = scaled_block(X[rows][:, kept], y[rows], scale[kept], y_scale)
            f, r = _fitted_rows_dd(a, z)
            fitted[rows] = f / y_scale
            resid[rows] = r / y_scale
    return fitted, resid


def fitted_dd(
    X: np.ndarray, y: np.ndarray, z: DD, kept: np.ndarray, scale: np.ndarray, y_scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """``X b`` and ``y - X b`` in double-double (``b = S z / t``), rounded to float64."""
    n = X.shape[0]
    fitted = np.empty(n)
    resid = np.empty(n)
    for start in range(0, n, GRAM_BLOCK_ROWS):
        stop = start + GRAM_BLOCK_ROWS
        a = scaled_block(X[start:stop][:, kept], y[start:stop], scale[kept], y_scale)
        f, r = _fitted_rows_dd(a, z)
        fitted[start:stop] = f / y_scale
        resid[start:stop] = r / y_scale
    return fitted, resid


def _check(X: np.ndarray, y: np.ndarray, rank_tol: float | None) -> None:
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n, k), got shape {X.shape}")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
    if rank_tol is not None and not 0.0 <= float(rank_tol) < 1.0:
        raise ValueError(f"rank_tol must be in [0, 1), got {rank_tol}")


@dataclass(frozen=True)
class RSolution:
    """What the ``R`` factor of the scaled ``[X S | y t]`` (plus, when refined, its exact Gram) gives.

    ``z`` is the solution of the scaled problem (double-double when refined): ``b = S z / t``.
    """

    kept: np.ndarray
    coef: np.ndarray
    cov_unscaled: np.ndarray
    z: DD
    r1: np.ndarray
    rnorm: float
    kappa: float
    refined: bool
    chol: DD | None
    effects: np.ndarray
    kappa_equilibrated: float
    error_bound: float
    cov_scaled: np.ndarray  # (S'X'XS)^-1 on the kept columns

    @property
    def rank(self) -> int:
        return int(self.kept.sum())


GramPass = Callable[[np.ndarray, int], DD]  # (kept columns, bits) -> exact Gram of [X[:, kept] S | y t]


def solve_r(
    w: np.ndarray,
    scale: np.ndarray,
    y_scale: float,
    n: int,
    gram: GramPass,
    *,
    rank_tol: float | None = None,
    refine: bool | None = None,
) -> RSolution:
    """Steps 2-4 of the module docstring from the ``R`` factor ``w`` of the scaled ``[X S | y t]``.

    ``gram(kept, bits)`` is called only when refinement is needed: it is a second pass over the rows.
    """
    tol = None if rank_tol is None else float(rank_tol)
    if tol is not None and not 0.0 <= tol < 1.0:
        raise ValueError(f"rank_tol must be in [0, 1), got {rank_tol}")
    k = w.shape[1] - 1
    kept, w = _trusted_columns(w, tol)
    rank = int(kept.sum())
    coef = np.full(k, np.nan)
    cov = np.full((k, k), np.nan)
    if rank == 0:
        empty = np.zeros(0)
        return RSolution(
            kept, coef, cov, (empty, empty), np.zeros((0, 0)), abs(w[0, 0]), math.nan, False, None, empty,
            math.nan, EPS, np.zeros((0, 0)),
        )
    r1 = w[:rank, :rank]
    qty = w[:rank, rank]
    rnorm = abs(w[rank, rank])
    sv = np.linalg.svd(r1, compute_uv=False)
    kappa = float(sv[0] / sv[-1]) if sv[-1] > 0 else math.inf  # of the max-scaled design: Gram bits
    norms, sv_eq, kappa_eq = equilibrated_svd(r1)
    z = solve_triangular(r1, qty, check_finite=False)
    r1_inv = solve_triangular(r1, np.eye(rank), check_finite=False)
    zinv = r1_inv @ r1_inv.T
    znorm = float(np.linalg.norm(z * norms))  # the solution in unit-norm-column coordinates
    if znorm > 0:
        residual_term = kappa_eq**2 * EPS * rnorm / (sv_eq[0] * znorm)
    else:
        residual_term = 0.0 if rnorm == 0 else math.inf
    bound = kappa_eq * EPS + residual_term
    do_refine = bound > REFINE_THRESHOLD if refine is None else refine
    error_bound = kappa_eq**2 * 2.0**-106 + EPS if do_refine else max(bound, EPS)
    s = scale[kept]
    chol: DD | None = None
    effects = qty * np.sign(np.diag(r1)) / y_scale
    zdd: DD = (z, np.zeros(rank))
    if do_refine:
        g = gram(kept, gram_bits(kappa, n))
        gxx = (g[0][:rank, :rank], g[1][:rank, :rank])
        gxy = (g[0][:rank, rank:], g[1][:rank, rank:])
        z2 = _csne(gxx, gxy, r1, z[:, None])
        zdd = (z2[0][:, 0], z2[1][:, 0])
        inv_dd = _csne(gxx, (np.eye(rank), np.zeros((rank, rank))), r1, zinv)
        zinv = inv_dd[0] + inv_dd[1]
        chol = dd_cholesky(gxx)
        effects = dd_forward_solve(chol, gxy[0], gxy[1])[:, 0] / y_scale
        coef[kept] = (zdd[0] + zdd[1]) * s / y_scale
    else:
        coef[kept] = z * s / y_scale
    with np.errstate(over="ignore"):  # beyond float64 only when the true value is
        cov[np.ix_(kept, kept)] = zinv * s[:, None] * s[None, :]
    return RSolution(
        kept, coef, cov, zdd, r1.copy(), rnorm, kappa, bool(do_refine), chol, effects, kappa_eq, error_bound,
        zinv,
    )


def least_squares(
    X: np.ndarray,
    y: np.ndarray,
    *,
    rank_tol: float | None = None,
    refine: bool | None = None,
) -> LeastSquaresFit:
    """Least squares ``b = argmin ||y - X b||^2`` with in-order aliasing (module docstring).

    ``rank_tol=None`` (default) aliases a column only where the refined solution could not be
    trusted (equilibrated condition number above ``KAPPA_TRUSTED``); ``rank_tol=1e-7`` is R's
    ``lm``: column ``j`` is aliased when ``|R_jj| < rank_tol ||X_j||`` after orthogonalising
    against the kept columns before it.  ``refine``: ``None`` refines when the a-priori error
    bound exceeds ``1e-13``; ``True`` / ``False`` force it on / off.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    _check(X, y, rank_tol)
    n, k = X.shape
    scale = column_scale(X)
    y_scale = float(column_scale(y[:, None])[0])

    def gram(kept: np.ndarray, bits: int) -> DD:
        return reduce_gram(X, y, kept, scale, y_scale, bits)

    sol = solve_r(reduce_r(X, y, scale, y_scale), scale, y_scale, n, gram, rank_tol=rank_tol, refine=refine)
    kept = sol.kept
    if sol.rank == 0:
        resid = y.copy()
        fitted = np.zeros(n)
    elif sol.refined:
        fitted, resid = fitted_dd(X, y, sol.z, kept, scale, y_scale)
    else:
        beta_full = np.zeros(k)
        beta_full[kept] = sol.coef[kept]
        fitted, resid = _fitted_float(X, y, beta_full, kept, scale, y_scale)
    t = np.float64(y_scale)
    with np.errstate(over="ignore", under="ignore", divide="ignore"):  # SSE may lie beyond float64
        sse = float(np.dot(resid * t, resid * t) / t / t)
    return LeastSquaresFit(
        coef=sol.coef,
        aliased=~kept,
        cov_unscaled=sol.cov_unscaled,
        fitted=fitted,
        resid=resid,
        sse=sse,
        rank=sol.rank,
        condition_number=sol.kappa_equilibrated,
        refined=sol.refined,
        _r=sol.r1,
        _scale=scale,
        _chol=sol.chol,
        effects=sol.effects,
        error_bound=sol.error_bound,
        y_scale=y_scale,
        cov_scaled=sol.cov_scaled,
    )
