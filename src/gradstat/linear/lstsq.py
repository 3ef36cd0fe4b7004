"""Least squares ``min ||y - X b||`` solved to the exact solution of the float64 design.

Pipeline (``A = [X S | y t]``, ``S`` and ``t`` powers of two, so scaling is exact):

1. ``R`` factor of ``A`` by Householder QR (LAPACK ``dgeqrf``), reduced row block by
   row block (TSQR: ``R <- qr([R; A_block])``), so ``X`` is never copied whole.
2. Rank: columns are taken in order; column ``j`` is *aliased* when the norm of
   its part orthogonal to the kept earlier columns is below ``rank_tol`` times
   its own norm (R's ``lm``/``dqrdc2`` rule, default ``tol = 1e-7``; the ratio is
   unchanged by column scaling).  Aliased columns are deleted from ``R`` and the
   rest re-triangularised, so a duplicate of an earlier column is the one reported.
3. ``b = R^-1 Q'y`` and ``(X'X)^-1 = R^-1 R^-T`` on the kept columns (no inverse of
   ``X'X`` is ever formed).
4. Refinement, applied when the a-priori relative error bound of step 3,
   ``kappa eps + kappa^2 eps ||r|| / (||R|| ||b||)`` (``kappa`` the 2-norm condition
   number of the scaled kept design, ``r`` the residual), exceeds ``1e-13``:
   the Gram matrix ``G = A'A`` is computed exactly in double-double (Ozaki-split
   BLAS products, see :mod:`gradstat.linear.extended`) and the corrected
   semi-normal equations ``z <- z + (R'R)^-1 (rhs - G z)`` are iterated with the
   residual ``rhs - G z`` in double-double, for ``b`` (``rhs = X'y``) and for
   ``(X'X)^-1`` (``rhs = I``).  The iteration matrix ``R^-T (R'R - G) R^-1`` has
   norm ~``kappa eps``, so it converges to the exact least-squares solution,
   kept in double-double; fitted values and residuals are then evaluated in
   double-double from it.

Without refinement, fitted values come from a float64 product whose rigorous
rounding bound ``k eps |X||b|`` is checked row by row; rows where it exceeds
``2**-40 |fitted|`` are recomputed in double-double.

Every quantity accumulated over rows (``R``, ``G``, the fitted values) is a
function of one row block, and ``R`` / ``G`` of two blocks combine pairwise
(:func:`combine_r`, :func:`combine_gram`), so a distributed fit can reduce
partitions in a tree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import lapack, solve_triangular

from gradstat.linear.extended import (
    DD,
    dd_add,
    dd_add_f,
    dd_matmul_residual,
    dd_matvec,
    gram_dd,
    slice_bits,
    two_sum,
)

EPS = float(np.finfo(np.float64).eps)
DEFAULT_RANK_TOL = 1e-7  # R's lm(): qr(X, tol = 1e-07)
REFINE_THRESHOLD = 1e-13  # refine when the a-priori relative error bound exceeds this
QR_BLOCK_ROWS = 65_536
GRAM_BLOCK_ROWS = 16_384  # 2**14 rows: slices of 19 bits keep every GEMM exact
FITTED_REL_BOUND = 2.0**-40  # float64 fitted values are kept when their bound is below this
_MAX_REFINE_STEPS = 12
_CONVERGED = 2.0**-100


@dataclass(frozen=True)
class LeastSquaresFit:
    """Least-squares solution of ``y ~ X`` (see :func:`least_squares`)."""

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

    def leverage(self, X: np.ndarray) -> np.ndarray:
        """Diagonal of the hat matrix, ``h_i = x_i'(X'X)^-1 x_i = ||R^-T s x_i||^2``."""
        X = np.asarray(X, dtype=np.float64)
        k = self.coef.shape[0]
        if X.ndim != 2 or X.shape[1] != k:
            raise ValueError(f"X must have shape (n, {k}), got {X.shape}")
        kept = ~self.aliased
        out = np.zeros(X.shape[0])
        if self.rank == 0:
            return out
        for start in range(0, X.shape[0], QR_BLOCK_ROWS):
            block = X[start : start + QR_BLOCK_ROWS][:, kept] * self._scale[kept]
            q = solve_triangular(self._r, block.T, trans="T", check_finite=False)
            out[start : start + block.shape[0]] = np.einsum("ij,ij->j", q, q)
        return out


def column_scale(X: np.ndarray) -> np.ndarray:
    """Powers of two ``s_j`` with ``max_i |X_ij| s_j`` in ``[1/2, 1)`` (1 for a zero column)."""
    X = np.atleast_2d(X.T).T
    amax = np.maximum(X.max(axis=0), -X.min(axis=0))  # reductions only: no copy of X
    _, exponent = np.frexp(amax)
    return np.ldexp(1.0, -np.clip(exponent, -1021, 1023))


def scaled_block(X: np.ndarray, y: np.ndarray, scale: np.ndarray, y_scale: float) -> np.ndarray:
    """The row block ``[X S | y t]`` in Fortran order (ready for LAPACK)."""
    a = np.empty((X.shape[0], X.shape[1] + 1), order="F")
    np.multiply(X, scale, out=a[:, :-1])
    np.multiply(y, y_scale, out=a[:, -1])
    return a


def r_factor(block: np.ndarray, r_prev: np.ndarray | None = None) -> np.ndarray:
    """Upper-triangular ``R`` (c, c) of the Householder QR of ``[r_prev; block]``."""
    c = block.shape[1]
    top = 0 if r_prev is None else c
    stacked = np.empty((top + block.shape[0], c), order="F")
    if r_prev is not None:
        stacked[:c] = r_prev
    stacked[top:] = block
    qr, _, _, info = lapack.dgeqrf(stacked, overwrite_a=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"dgeqrf failed with info={info}")
    r = np.zeros((c, c))
    m = min(c, stacked.shape[0])
    r[:m] = np.triu(qr[:m])
    return r


def combine_r(r1: np.ndarray, r2: np.ndarray) -> np.ndarray:
    """``R`` of two stacked row blocks from their ``R`` factors (``R'R`` adds)."""
    return r_factor(r2, r1)


def combine_gram(g1: DD, g2: DD) -> DD:
    """Double-double Gram matrices of two row blocks add."""
    return dd_add(g1, g2)


def _reduce_r(X: np.ndarray, y: np.ndarray, scale: np.ndarray, y_scale: float) -> np.ndarray:
    r: np.ndarray | None = None
    for start in range(0, X.shape[0], QR_BLOCK_ROWS):
        stop = start + QR_BLOCK_ROWS
        r = r_factor(scaled_block(X[start:stop], y[start:stop], scale, y_scale), r)
    assert r is not None
    return r


def _reduce_gram(
    X: np.ndarray, y: np.ndarray, kept: np.ndarray, scale: np.ndarray, y_scale: float
) -> DD:
    assert slice_bits(GRAM_BLOCK_ROWS) >= 19
    g: DD | None = None
    for start in range(0, X.shape[0], GRAM_BLOCK_ROWS):
        stop = start + GRAM_BLOCK_ROWS
        block = scaled_block(X[start:stop][:, kept], y[start:stop], scale[kept], y_scale)
        gb = gram_dd(block)
        g = gb if g is None else combine_gram(g, gb)
    assert g is not None
    return g


def _drop_aliased(w: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Aliased columns of the ``R`` factor ``w`` of ``[X | y]`` (R's in-order rule).

    Returns the kept mask and the triangular factor of ``[X[:, kept] | y]``.
    """
    k = w.shape[1] - 1
    norms = np.sqrt(np.einsum("ij,ij->j", w[:, :k], w[:, :k]))  # ||X_j||
    kept = np.zeros(k, dtype=bool)
    w = w.copy()
    r = 0  # columns kept so far: column j now sits at position r
    for j in range(k):
        if norms[j] > 0 and abs(w[r, r]) >= tol * norms[j]:
            kept[j] = True
            r += 1
            continue
        w = np.delete(w, r, axis=1)
        trailing = np.linalg.qr(w[r:, r:], mode="r")
        w[r:, r:] = 0.0
        w[r : r + trailing.shape[0], r:] = trailing
    return kept, w


def _csne(g: DD, rhs: DD, r: np.ndarray, z0: np.ndarray) -> tuple[DD, bool]:
    """Corrected semi-normal equations ``z <- z + (R'R)^-1 (rhs - G z)``, ``z`` in double-double.

    A step is taken only while the corrections shrink (by at least half); returns
    the iterate and whether it reached the double-double level (``2**-100``).
    """
    z: DD = (z0.copy(), np.zeros_like(z0))
    previous = math.inf
    for _ in range(_MAX_REFINE_STEPS):
        rho = dd_matmul_residual(g, z, rhs)
        d = solve_triangular(r, solve_triangular(r, rho, trans="T", check_finite=False),
                             check_finite=False)
        zmax = np.max(np.abs(z[0]), axis=0)
        size = float(np.max(np.abs(d).max(axis=0) / np.where(zmax > 0, zmax, 1.0)))
        if not math.isfinite(size) or size >= min(0.5 * previous, 1.0):
            break
        z = dd_add_f(z, d)
        previous = size
        if size <= _CONVERGED:
            break
    return z, previous <= 2.0**-80


def _fitted_float(
    X: np.ndarray, y: np.ndarray, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``X b`` in float64, rows with a large rounding bound redone in double-double."""
    n, k = X.shape
    fitted = np.empty(n)
    resid = np.empty(n)
    abs_beta = np.abs(beta)
    for start in range(0, n, QR_BLOCK_ROWS):
        xb = X[start : start + QR_BLOCK_ROWS]
        yb = y[start : start + QR_BLOCK_ROWS]
        f = xb @ beta
        bound = (k + 1) * EPS * (np.abs(xb) @ abs_beta)  # |fl(x'b) - x'b| <= k eps |x|'|b|
        rough = bound > FITTED_REL_BOUND * np.abs(f)
        fb, rb = f, yb - f
        if np.any(rough):
            f_dd = dd_matvec(xb[rough], (beta, np.zeros(k)))
            r_dd = dd_add((yb[rough], np.zeros(f_dd[0].shape)), (-f_dd[0], -f_dd[1]))
            fb[rough] = f_dd[0] + f_dd[1]
            rb[rough] = r_dd[0] + r_dd[1]
        fitted[start : start + xb.shape[0]] = fb
        resid[start : start + xb.shape[0]] = rb
    return fitted, resid


def _fitted_dd(X: np.ndarray, y: np.ndarray, beta: DD) -> tuple[np.ndarray, np.ndarray]:
    """``X b`` and ``y - X b`` in double-double, rounded to float64."""
    n = X.shape[0]
    fitted = np.empty(n)
    resid = np.empty(n)
    for start in range(0, n, GRAM_BLOCK_ROWS):
        stop = start + GRAM_BLOCK_ROWS
        f = dd_matvec(X[start:stop], beta)
        yb = y[start:stop]
        s, e = two_sum(yb, -f[0])
        rd = dd_add_f((s, e), -f[1])
        fitted[start:stop] = f[0] + f[1]
        resid[start:stop] = rd[0] + rd[1]
    return fitted, resid


def _check(X: np.ndarray, y: np.ndarray, rank_tol: float | None) -> float:
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n, k), got shape {X.shape}")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
    tol = DEFAULT_RANK_TOL if rank_tol is None else float(rank_tol)
    if not 0.0 <= tol < 1.0:
        raise ValueError(f"rank_tol must be in [0, 1), got {rank_tol}")
    return tol


def least_squares(
    X: np.ndarray,
    y: np.ndarray,
    *,
    rank_tol: float | None = None,
    refine: bool | None = None,
) -> LeastSquaresFit:
    """Least squares ``b = argmin ||y - X b||^2`` with R-style aliasing (module docstring).

    ``rank_tol`` (default ``1e-7``, as R's ``lm``): column ``j`` is aliased when
    ``|R_jj| < rank_tol ||X_j||`` after orthogonalising against the kept columns
    before it.  ``refine``: ``None`` refines when the a-priori error bound exceeds
    ``1e-13``; ``True`` / ``False`` force it on / off.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    tol = _check(X, y, rank_tol)
    n, k = X.shape
    scale = column_scale(X)
    y_scale = float(column_scale(y[:, None])[0])
    kept, w = _drop_aliased(_reduce_r(X, y, scale, y_scale), tol)
    rank = int(kept.sum())
    coef = np.full(k, np.nan)
    cov = np.full((k, k), np.nan)
    if rank == 0:
        resid = y.copy()
        return LeastSquaresFit(coef, ~kept, cov, np.zeros(n), resid, math.fsum(resid * resid),
                               0, math.nan, False, np.zeros((0, 0)), scale)
    r1 = w[:rank, :rank]
    qty = w[:rank, rank]
    rnorm = abs(w[rank, rank])
    sv = np.linalg.svd(r1, compute_uv=False)
    kappa = float(sv[0] / sv[-1]) if sv[-1] > 0 else math.inf
    z = solve_triangular(r1, qty, check_finite=False)
    r1_inv = solve_triangular(r1, np.eye(rank), check_finite=False)
    zinv = r1_inv @ r1_inv.T
    znorm = float(np.linalg.norm(z))
    if znorm > 0:
        residual_term = kappa**2 * EPS * rnorm / (sv[0] * znorm)
    else:
        residual_term = 0.0 if rnorm == 0 else math.inf
    bound = kappa * EPS + residual_term
    do_refine = bound > REFINE_THRESHOLD if refine is None else refine
    s = scale[kept]
    beta_full = np.zeros(k)
    if do_refine:
        g = _reduce_gram(X, y, kept, scale, y_scale)
        gxx = (g[0][:rank, :rank], g[1][:rank, :rank])
        gxy = (g[0][:rank, rank:], g[1][:rank, rank:])
        zdd, _ = _csne(gxx, gxy, r1, z[:, None])
        inv_dd, _ = _csne(gxx, (np.eye(rank), np.zeros((rank, rank))), r1, zinv)
        zinv = inv_dd[0] + inv_dd[1]
        beta_full[kept] = zdd[0][:, 0] * s / y_scale
        beta_lo = np.zeros(k)
        beta_lo[kept] = zdd[1][:, 0] * s / y_scale
        fitted, resid = _fitted_dd(X, y, (beta_full, beta_lo))
        coef[kept] = beta_full[kept] + beta_lo[kept]
    else:
        beta_full[kept] = z * s / y_scale
        fitted, resid = _fitted_float(X, y, beta_full)
        coef[kept] = beta_full[kept]
    cov[np.ix_(kept, kept)] = zinv * np.outer(s, s)
    return LeastSquaresFit(
        coef=coef,
        aliased=~kept,
        cov_unscaled=cov,
        fitted=fitted,
        resid=resid,
        sse=math.fsum(resid * resid),
        rank=rank,
        condition_number=kappa,
        refined=bool(do_refine),
        _r=r1.copy(),
        _scale=scale,
    )
