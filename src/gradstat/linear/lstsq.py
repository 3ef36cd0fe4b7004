"""Least squares ``min ||y - X b||`` in memory, solved to the exact solution of the float64 design.

The pipeline (scaling, blocked Householder QR, rank, refinement and the error bound that decides
it) is that of :mod:`gradstat.linear.kernels`; this module runs it on an array held in memory and
keeps what the inference needs (:class:`LeastSquaresFit`).

Accuracy against the exact (rational) least-squares solution of the float64
data, min over coefficients, diag (X'X)^-1, SSE and fitted values: 14.7
significant digits on a degree-10 raw polynomial in [0.4, 1.4] (kappa 1.7e9),
16 on Longley, a Wampler-style quintic and a cubic with huge residuals; numpy's
``lstsq`` and statsmodels reach 7.3, 10.9, 8.1 and 5 there (see
``tests/linear/test_lstsq_exact.py``).  The limit is ``kappa^2 2**-106``: about
11 digits at kappa 1.5e11.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import solve_triangular

from gradstat.linear.kernels import (
    DD,
    EPS,
    QR_BLOCK_ROWS,
    column_scale,
    dd_forward_solve,
    fitted_checked,
    fitted_dd,
    reduce_gram,
    reduce_r,
    solve_r,
)
from gradstat.threads import product_of_size

DEFAULT_RANK_TOL = 1e-7  # R's lm(): qr(X, tol = 1e-07), used when rank_tol is given as R's
LEVERAGE_DD_WORK = 2e7  # n k^2 up to which refined fits get double-double leverages


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
    def r(self) -> np.ndarray:
        """``R`` (rank, rank) of the Householder QR of the scaled kept columns ``X[:, kept] S``."""
        return self._r

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


def _check(X: np.ndarray, y: np.ndarray, rank_tol: float | None) -> None:
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n, k), got shape {X.shape}")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
    if rank_tol is not None and not 0.0 <= float(rank_tol) < 1.0:
        raise ValueError(f"rank_tol must be in [0, 1), got {rank_tol}")


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

    # a row block's Householder QR is level-2 BLAS (one pass per column): on one thread unless wide
    with product_of_size(min(n, QR_BLOCK_ROWS) * (k + 1) ** 2):
        r = reduce_r(X, y, scale, y_scale)
        sol = solve_r(r, scale, y_scale, n, gram, rank_tol=rank_tol, refine=refine)
        kept = sol.kept
        if sol.rank == 0:
            resid = y.copy()
            fitted = np.zeros(n)
        elif sol.refined:
            fitted, resid = fitted_dd(X, y, sol.z, kept, scale, y_scale)
        else:
            beta_full = np.zeros(k)
            beta_full[kept] = sol.coef[kept]
            fitted, resid = fitted_checked(X, y, beta_full, kept, scale, y_scale)
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
