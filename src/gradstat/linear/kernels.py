"""The numerical kernels of least squares, shared by the in-memory, streaming and Dask fits.

Every fit solves ``min ||y - X b||`` to the exact solution of the float64 design with these steps
(``A = [X S | y t]``, ``S`` and ``t`` powers of two, so scaling is exact):

1. Scaling (:func:`column_scale`, :func:`scale_of_max`, :func:`scaled_block`).
2. ``R`` factor of ``A`` by blocked Householder QR (LAPACK ``dgeqrf``, :func:`householder_r`),
   reduced row block by row block (TSQR: ``R <- qr([R; A_block])``, :func:`reduce_r`), so ``X`` is
   never copied whole; the ``R`` factors of two row blocks combine (:func:`combine_r`), so a
   distributed fit reduces partitions in a tree.  A design whose leading columns are the
   intercept and the treatment dummies of one main-effect factor is reduced level by level
   (:func:`reduce_r_by_level`): the QR then runs on the other columns only.
3. Rank: columns are taken in order.  By default a column is *aliased* only where
   the refined solution cannot be trusted: when keeping it would make the condition
   number ``kappa`` of the column-equilibrated kept design exceed ``KAPPA_TRUSTED``
   (``kappa^2 2**-106``, the refined solver's error, would pass ``1e-9``: fewer than
   9 correct digits).  With ``rank_tol`` given, R's ``lm``/``dqrdc2`` rule instead:
   column ``j`` is aliased when the norm of its part orthogonal to the kept earlier
   columns is below ``rank_tol`` times its own norm (R's default ``tol = 1e-7``; the
   ratio is unchanged by column scaling).  Aliased columns are deleted from ``R`` and
   the rest re-triangularised, so a duplicate of an earlier column is the one reported.
4. ``b = R^-1 Q'y`` and ``(X'X)^-1 = R^-1 R^-T`` on the kept columns (no inverse of
   ``X'X`` is ever formed) (:func:`solve_r`).
5. The error bound that decides refinement: refinement is applied when the a-priori relative
   error bound of step 4, ``kappa eps + kappa^2 eps ||r|| / (||R|| ||b||)`` (``kappa`` the
   2-norm condition number of the kept design with unit-norm columns — Householder QR is
   invariant to column scaling, so a rare factor level's short dummy column does not count as
   ill-conditioning — and ``r`` the residual), exceeds ``REFINE_THRESHOLD = 1e-13``.
6. Refinement: the Gram matrix ``G = A'A`` is computed exactly in double-double
   (:func:`gram_dd`, Ozaki-split BLAS products, below; :func:`reduce_gram` by row blocks,
   :func:`combine_gram` for two blocks) and the corrected semi-normal equations
   ``z <- z + (R'R)^-1 (rhs - G z)`` are iterated with the residual ``rhs - G z`` in
   double-double, for ``b`` (``rhs = X'y``) and for ``(X'X)^-1`` (``rhs = I``).  The
   iteration matrix ``R^-T (R'R - G) R^-1`` has norm ~``kappa eps``, so it converges to the
   exact least-squares solution, kept in double-double; fitted values and residuals are then
   evaluated in double-double from it (:func:`fitted_dd`).  ``G`` is computed to
   ``2**-bits`` with ``bits = min(120, 64 + 2 log2(kappa) + log2(n)/2)`` (:func:`gram_bits`),
   and its double-double Cholesky factor gives full-precision leverages and sequential effects.

Without refinement, fitted values come from a float64 product whose rigorous rounding bound
``k eps |X||b|`` is checked row by row; rows where it exceeds ``2**-40 |fitted|`` are recomputed
in double-double (:func:`fitted_checked`).

Double-double arithmetic: a double-double number is an unevaluated sum ``hi + lo`` of two
float64 with ``|lo| <= ulp(hi)/2``: about 106 significant bits.  The building blocks are the
classic error-free transformations (Knuth's TwoSum, Dekker's TwoProduct): ``a + b = s + e`` and
``a * b = p + e`` exactly, with ``s = fl(a + b)`` and ``p = fl(a * b)``.  The Gram matrix ``A'A``
is computed exactly (up to a cut-off far below the double-double unit) with ordinary BLAS
products, following Ozaki's splitting: each column is cut into slices of at most ``b`` bits on a
grid fixed by the column's largest entry, so every product of two slices, summed over a block of
``m`` rows with ``2b + log2(m) <= 53``, is an exact float64 GEMM.  The slice products are then
added in double-double.

Peak extra memory is one row block (65,536 rows) of ``[X | y]`` plus the outputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.linalg import lapack, solve_triangular

FloatArray = np.ndarray
DD = tuple[np.ndarray, np.ndarray]

_SPLITTER = 134217729.0  # 2**27 + 1: Dekker's split of a float64 into two 26-bit halves
GRAM_BITS = 120  # slices are taken until the remainder is below 2**-120 of the column maximum


def two_sum(a: FloatArray, b: FloatArray) -> DD:
    """``s + e = a + b`` exactly, ``s = fl(a + b)`` (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def fast_two_sum(a: FloatArray, b: FloatArray) -> DD:
    """``s + e = a + b`` exactly when ``|a| >= |b|`` (Dekker)."""
    s = a + b
    return s, b - (s - a)


def _split(a: FloatArray) -> DD:
    """``a = hi + lo`` with both halves of at most 26 significant bits."""
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


def two_prod(a: FloatArray, b: FloatArray) -> DD:
    """``p + e = a * b`` exactly, ``p = fl(a * b)`` (Dekker, no FMA needed)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def dd_add(a: DD, b: DD) -> DD:
    """Double-double sum ``a + b`` (accurate version, relative error ~2**-106)."""
    s, e = two_sum(a[0], b[0])
    t, f = two_sum(a[1], b[1])
    s, e = fast_two_sum(s, e + t)
    return fast_two_sum(s, e + f)


def dd_add_f(a: DD, b: FloatArray) -> DD:
    """Double-double plus float64: ``a + b``."""
    s, e = two_sum(a[0], b)
    return fast_two_sum(s, e + a[1])


def dd_mul(a: DD, b: DD) -> DD:
    """Double-double product ``a * b``."""
    p, e = two_prod(a[0], b[0])
    return fast_two_sum(p, e + (a[0] * b[1] + a[1] * b[0]))


def dd_div(a: DD, b: DD) -> DD:
    """Double-double quotient ``a / b`` (long division, two float64 digits)."""
    q1 = a[0] / b[0]
    r = dd_add(a, dd_mul((-q1, np.zeros_like(q1)), b))
    return fast_two_sum(q1, r[0] / b[0])


def dd_sqrt(a: DD) -> DD:
    """Double-double square root of ``a > 0`` (one Newton step from the float64 root)."""
    x = np.sqrt(a[0])
    p, e = two_prod(x, x)
    r = dd_add(a, (-p, -e))
    return fast_two_sum(x, r[0] / (2.0 * x))


def dd_cholesky(g: DD) -> DD:
    """Upper-triangular ``U`` in double-double with ``U'U = G`` (column by column)."""
    k = g[0].shape[0]
    uhi, ulo = np.zeros((k, k)), np.zeros((k, k))
    for j in range(k):
        s: DD = (g[0][j, j:].copy(), g[1][j, j:].copy())  # G_j,i - sum_l U_lj U_li, i >= j
        for col in range(j):
            prod = dd_mul((uhi[col, j:], ulo[col, j:]), (uhi[col, j], ulo[col, j]))
            s = dd_add(s, (-prod[0], -prod[1]))
        d = dd_sqrt((s[0][:1], s[1][:1]))
        row = dd_div(s, (np.broadcast_to(d[0], s[0].shape), np.broadcast_to(d[1], s[0].shape)))
        uhi[j, j:], ulo[j, j:] = row
        uhi[j, j], ulo[j, j] = d[0][0], d[1][0]
    return uhi, ulo


def dd_forward_solve(u: DD, x: FloatArray, x_lo: FloatArray | None = None) -> FloatArray:
    """``q = U^-T x`` for the columns of ``x`` (k, m), in double-double, rounded to float64.

    ``x_lo`` is the low part when the right-hand side itself is double-double.
    """
    k, m = x.shape
    qhi, qlo = np.zeros((k, m)), np.zeros((k, m))
    for j in range(k):
        s: DD = (x[j].copy(), np.zeros(m) if x_lo is None else x_lo[j].copy())
        for col in range(j):
            prod = dd_mul((qhi[col], qlo[col]), (u[0][col, j], u[1][col, j]))
            s = dd_add(s, (-prod[0], -prod[1]))
        qhi[j], qlo[j] = dd_div(s, (np.full(m, u[0][j, j]), np.full(m, u[1][j, j])))
    return qhi + qlo


def dd_matmul_residual(g: DD, z: DD, rhs: DD) -> FloatArray:
    """``rhs - G z`` rounded to float64, with ``G``, ``z``, ``rhs`` in double-double.

    ``G`` is (k, k), ``z`` and ``rhs`` are (k, m).  The products use TwoProduct
    on the high parts; the cross terms ``G_hi z_lo + G_lo z_hi`` are below
    2**-53 of a product so plain float64 suffices for them.
    """
    ghi, glo = g
    zhi, zlo = z
    acc = (rhs[0].copy(), rhs[1].copy())
    for j in range(ghi.shape[1]):
        p, e = two_prod(ghi[:, j : j + 1], zhi[j : j + 1, :])
        e = e + (ghi[:, j : j + 1] * zlo[j : j + 1, :] + glo[:, j : j + 1] * zhi[j : j + 1, :])
        acc = dd_add(acc, (-p, -e))
    return acc[0] + acc[1]


def dd_matvec(x: FloatArray, beta: DD) -> DD:
    """``x @ beta`` in double-double for a float64 block ``x`` (m, k) and ``beta`` (k,)."""
    acc = (np.zeros(x.shape[0]), np.zeros(x.shape[0]))
    for j in range(x.shape[1]):
        if beta[0][j] == 0 and beta[1][j] == 0:
            continue
        p, e = two_prod(x[:, j], beta[0][j])
        acc = dd_add(acc, (p, e + x[:, j] * beta[1][j]))
    return acc


def slice_bits(rows: int) -> int:
    """Largest slice width ``b`` with ``2b + ceil(log2(rows)) <= 53``."""
    return (53 - max(1, math.ceil(math.log2(max(rows, 2))))) // 2


def gram_dd(a: FloatArray, bits: int = GRAM_BITS) -> DD:
    """``A'A`` of a row block in double-double, exact up to ~``2**-bits`` relative.

    Every column of ``a`` must satisfy ``max|a_j| < 1`` (scale columns by powers
    of two first).  ``a = sum_t S_t`` with slice ``S_t`` on the grid
    ``2**-(t+1)b``; ``S_s' S_t`` is an exact GEMM; pairs below ``2**-bits`` are
    dropped, every other pair is added in double-double.
    """
    m, c = a.shape
    b = slice_bits(m)
    slices: list[np.ndarray] = []
    rem = np.array(a, dtype=np.float64)
    covered = 0
    while covered < bits and np.any(rem):
        scale = 2.0 ** (covered + b)
        piece = np.rint(rem * scale)
        piece /= scale  # exact: scaling by 2**k and rint are exact
        rem -= piece  # exact: piece holds the leading bits of rem
        slices.append(piece)
        covered += b
    acc = (np.zeros((c, c)), np.zeros((c, c)))
    # S_s'S_t is below 2**-(s+t)b of the column maxima: for each s, one GEMM with all
    # partners t >= s above the cut-off; the blocks are added smallest first
    products: list[tuple[int, np.ndarray]] = []
    for s in range(len(slices)):
        partners = [t for t in range(s, len(slices)) if (s + t) * b < bits]
        if not partners:
            break
        p = slices[s].T @ np.hstack([slices[t] for t in partners])  # exact GEMM
        products += [(s + t, p[:, i * c : (i + 1) * c]) for i, t in enumerate(partners)]
        products += [(s + t, p[:, i * c : (i + 1) * c].T) for i, t in enumerate(partners) if t != s]
    for _, block in sorted(products, key=lambda item: -item[0]):
        acc = dd_add_f(acc, block)
    return acc


EPS = float(np.finfo(np.float64).eps)
TRUSTED_ERROR = 1e-9  # a column is kept while the refined solution keeps 9 digits
KAPPA_TRUSTED = math.sqrt(TRUSTED_ERROR * 2.0**106)  # kappa^2 2**-106 = 1e-9: kappa = 2.85e11
REFINE_THRESHOLD = 1e-13  # refine when the a-priori relative error bound exceeds this
QR_BLOCK_ROWS = 65_536
GRAM_BLOCK_ROWS = 8_192  # 2**13 rows: slices of 20 bits keep every GEMM exact
FITTED_REL_BOUND = 2.0**-40  # float64 fitted values are kept when their bound is below this
_MAX_REFINE_STEPS = 12
_CONVERGED = 2.0**-100


def scale_of_max(amax: np.ndarray) -> np.ndarray:
    """Powers of two ``s`` with ``amax s`` in ``[1/2, 1)`` (1 for a zero column)."""
    _, exponent = np.frexp(amax)
    return np.ldexp(1.0, -np.clip(exponent, -1021, 1023))


def column_amax(X: np.ndarray) -> np.ndarray:
    """``max_i |X_ij|`` for each column, by reductions only (no copy of ``X``)."""
    X = np.atleast_2d(X.T).T
    return np.maximum(X.max(axis=0), -X.min(axis=0))


def column_scale(X: np.ndarray) -> np.ndarray:
    """Powers of two ``s_j`` with ``max_i |X_ij| s_j`` in ``[1/2, 1)`` (1 for a zero column)."""
    return scale_of_max(column_amax(X))


def scaled_block(X: np.ndarray, y: np.ndarray, scale: np.ndarray, y_scale: float, top: int = 0) -> np.ndarray:
    """The row block ``[X S | y t]`` in Fortran order, below ``top`` unset rows."""
    a = np.empty((top + X.shape[0], X.shape[1] + 1), order="F")
    np.multiply(X, scale, out=a[top:, :-1])
    np.multiply(y, y_scale, out=a[top:, -1])
    return a


def householder_r(stacked: np.ndarray) -> np.ndarray:
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
        return householder_r(np.array(block, order="F"))
    return householder_r(np.asfortranarray(np.vstack([r_prev, block])))


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
        r = householder_r(stacked)
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
        trailing = householder_r(np.asfortranarray(w[r:, r:]))
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


def fitted_checked(
    X: np.ndarray, y: np.ndarray, beta: np.ndarray, kept: np.ndarray, scale: np.ndarray, y_scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """``X b`` in float64, rows with a large rounding bound redone in double-double."""
    n, k = X.shape
    fitted = X @ beta
    resid = y - fitted
    abs_beta = np.abs(beta)
    z = (beta[kept] / scale[kept] * y_scale, np.zeros(int(kept.sum())))  # exact: powers of 2
    rough = []
    for start in range(0, n, GRAM_BLOCK_ROWS):
        stop = start + GRAM_BLOCK_ROWS
        bound = (k + 1) * EPS * (np.abs(X[start:stop]) @ abs_beta)  # |fl(x'b) - x'b| <= k eps |x|'|b|
        rough.append(start + np.flatnonzero(bound > FITTED_REL_BOUND * np.abs(fitted[start:stop])))
    rows = np.concatenate(rough)
    for start in range(0, rows.size, GRAM_BLOCK_ROWS):  # the rough rows of every block, redone together
        some = rows[start : start + GRAM_BLOCK_ROWS]
        f, r = _fitted_rows_dd(scaled_block(X[some][:, kept], y[some], scale[kept], y_scale), z)
        fitted[some] = f / y_scale
        resid[some] = r / y_scale
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
            kept,
            coef,
            cov,
            (empty, empty),
            np.zeros((0, 0)),
            abs(w[0, 0]),
            math.nan,
            False,
            None,
            empty,
            math.nan,
            EPS,
            np.zeros((0, 0)),
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
        kept,
        coef,
        cov,
        zdd,
        r1.copy(),
        rnorm,
        kappa,
        bool(do_refine),
        chol,
        effects,
        kappa_eq,
        error_bound,
        zinv,
    )
