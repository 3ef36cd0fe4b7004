"""Double-double arithmetic on NumPy arrays, and an error-free Gram matrix.

A double-double number is an unevaluated sum ``hi + lo`` of two float64 with
``|lo| <= ulp(hi)/2``: about 106 significant bits.  The building blocks are
the classic error-free transformations (Knuth's TwoSum, Dekker's TwoProduct):
``a + b = s + e`` and ``a * b = p + e`` exactly, with ``s = fl(a + b)`` and
``p = fl(a * b)``.

The Gram matrix ``A'A`` is computed exactly (up to a cut-off far below the
double-double unit) with ordinary BLAS products, following Ozaki's splitting:
each column is cut into slices of at most ``b`` bits on a grid fixed by the
column's largest entry, so every product of two slices, summed over a block of
``m`` rows with ``2b + log2(m) <= 53``, is an exact float64 GEMM.  The slice
products are then added in double-double.
"""

from __future__ import annotations

import math

import numpy as np

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
