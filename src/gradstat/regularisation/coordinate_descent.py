"""Coordinate descent for the elastic net along a path of penalties (numba).

In sum-of-squares units the problem for one penalty pair (λ₁, λ₂) is

    P(w) = ½‖y − Xw‖² + λ₁‖w‖₁ + ½λ₂‖w‖²,

scikit-learn's objective times n (λ₁ = nα·l1_ratio, λ₂ = nα(1 − l1_ratio)).
One coordinate step is the soft-threshold
    w_j ← S(X_j'r + w_j‖X_j‖², λ₁) / (‖X_j‖² + λ₂),   S(z, λ) = sign(z)(|z| − λ)₊.

The elastic net is a lasso on the augmented data [X; √λ₂I], [y; 0], so the
lasso dual gives the duality gap: with g = X'r − λ₂w and the dual-feasible
scaling s = min(1, λ₁/‖g‖∞),
    D = s·r'y − ½s²(‖r‖² + λ₂‖w‖²),   gap = P − D ≥ 0.
(With λ₁ = 0, pure ridge, the dual point is θ = r and
D = r'y − ½‖r‖² − ‖X'r‖²/(2λ₂).)  A path is solved by warm starts from the previous penalty.  Within one
penalty only a working set is swept: the sequential strong rule keeps
|g_j| ≥ 2λ₁ₖ − λ₁ₖ₋₁ (plus the current non-zeros); once the working set is
solved (its gap ≤ tol) the full gradient checks the KKT conditions
|X_j'r| ≤ λ₁ outside it, and violators join the set.  With no violators the
full gap equals the working-set gap, so convergence is always judged by the
full problem's duality gap.

Two kernels: the *naive* one keeps the residual r (cost n per update, for
p ≫ n); the *covariance* one keeps q = X'r = X'y − Gw through the Gram matrix
G = X'X (cost p per update, for n ≫ p).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _soft(z: float, lam: float) -> float:
    if z > lam:
        return z - lam
    if z < -lam:
        return z + lam
    return 0.0


@njit(cache=True)
def _gap(rr: float, ry: float, w_l1: float, w_l2sq: float, dual_norm: float,
         xtr_sq: float, l1: float, l2: float) -> float:
    """Primal minus dual objective at w, given ‖r‖², r'y, ‖w‖₁, ‖w‖², ‖g‖∞, ‖X'r‖²."""
    primal = 0.5 * (rr + l2 * w_l2sq) + l1 * w_l1
    if l1 == 0.0:
        # pure ridge: dual point θ = r, D = r'y − ½‖r‖² − ‖X'r‖²/(2λ₂)
        return primal - (ry - 0.5 * rr - 0.5 * xtr_sq / l2)
    s = 1.0
    if dual_norm > l1:
        s = l1 / dual_norm
    dual = s * ry - 0.5 * s * s * (rr + l2 * w_l2sq)
    return primal - dual


@njit(cache=True)
def _strong_set(w, g, norms, thresh, ws, in_ws):
    m = 0
    for j in range(w.shape[0]):
        in_ws[j] = False
        if norms[j] == 0.0:
            continue
        if w[j] != 0.0 or abs(g[j]) >= thresh:
            ws[m] = j
            in_ws[j] = True
            m += 1
    return m


@njit(cache=True)
def enet_path_naive(X, y, l1s, l2s, tol, tol_dw, max_iter, w, coefs, gaps, n_iters):
    """Naive (residual) updates; ``X`` Fortran-ordered (n, p). Fills coefs, gaps, n_iters."""
    n, p = X.shape
    norms = np.empty(p)
    for j in range(p):
        norms[j] = np.dot(X[:, j], X[:, j])
    r = y - np.dot(X, w)
    g = np.dot(X.T, r)
    ws = np.empty(p, dtype=np.int64)
    in_ws = np.zeros(p, dtype=np.bool_)
    lam_prev = np.max(np.abs(g)) if p > 0 else 0.0
    for k in range(l1s.shape[0]):
        l1 = l1s[k]
        l2 = l2s[k]
        m = _strong_set(w, g, norms, 2.0 * l1 - lam_prev, ws, in_ws)
        it = 0
        gap = np.inf
        while True:
            # --- solve the working set ---------------------------------
            while it < max_iter:
                it += 1
                dw_max = 0.0
                w_max = 0.0
                for t in range(m):
                    j = ws[t]
                    wj = w[j]
                    xj = X[:, j]
                    z = np.dot(xj, r) + wj * norms[j]
                    new = _soft(z, l1) / (norms[j] + l2)
                    if new != wj:
                        delta = new - wj
                        for i in range(n):
                            r[i] -= delta * xj[i]
                        w[j] = new
                    dw_max = max(dw_max, abs(new - wj))
                    w_max = max(w_max, abs(new))
                if w_max == 0.0 or dw_max <= tol_dw * w_max:
                    # working-set duality gap
                    rr = np.dot(r, r)
                    ry = np.dot(r, y)
                    dual_norm = 0.0
                    xtr_sq = 0.0
                    w_l1 = 0.0
                    w_l2sq = 0.0
                    for t in range(m):
                        j = ws[t]
                        xtr = np.dot(X[:, j], r)
                        dual_norm = max(dual_norm, abs(xtr - l2 * w[j]))
                        xtr_sq += xtr * xtr
                        w_l1 += abs(w[j])
                        w_l2sq += w[j] * w[j]
                    if _gap(rr, ry, w_l1, w_l2sq, dual_norm, xtr_sq, l1, l2) <= tol:
                        break
            # --- KKT check on the full problem ---------------------------
            g = np.dot(X.T, r)
            n_viol = 0
            dual_norm = 0.0
            xtr_sq = 0.0
            w_l1 = 0.0
            w_l2sq = 0.0
            for j in range(p):
                dual_norm = max(dual_norm, abs(g[j] - l2 * w[j]))
                xtr_sq += g[j] * g[j]
                w_l1 += abs(w[j])
                w_l2sq += w[j] * w[j]
                if not in_ws[j] and norms[j] > 0.0 and abs(g[j]) > l1:
                    ws[m] = j
                    in_ws[j] = True
                    m += 1
                    n_viol += 1
            gap = _gap(np.dot(r, r), np.dot(r, y), w_l1, w_l2sq, dual_norm, xtr_sq, l1, l2)
            if (n_viol == 0 and gap <= tol) or it >= max_iter:
                break
        coefs[:, k] = w
        gaps[k] = gap
        n_iters[k] = it
        lam_prev = l1


@njit(cache=True)
def enet_path_gram(G, Xy, yy, l1s, l2s, tol, tol_dw, max_iter, w, coefs, gaps, n_iters):
    """Covariance updates with G = X'X (C-ordered, p×p), Xy = X'y, yy = y'y."""
    p = G.shape[0]
    norms = np.empty(p)
    for j in range(p):
        norms[j] = G[j, j]
    q = Xy - np.dot(G, w)  # q = X'r
    ws = np.empty(p, dtype=np.int64)
    in_ws = np.zeros(p, dtype=np.bool_)
    lam_prev = np.max(np.abs(q)) if p > 0 else 0.0
    for k in range(l1s.shape[0]):
        l1 = l1s[k]
        l2 = l2s[k]
        m = _strong_set(w, q, norms, 2.0 * l1 - lam_prev, ws, in_ws)
        it = 0
        gap = np.inf
        while True:
            while it < max_iter:
                it += 1
                dw_max = 0.0
                w_max = 0.0
                for t in range(m):
                    j = ws[t]
                    wj = w[j]
                    new = _soft(q[j] + wj * norms[j], l1) / (norms[j] + l2)
                    if new != wj:
                        delta = new - wj
                        Gj = G[j]
                        for i in range(p):
                            q[i] -= delta * Gj[i]
                        w[j] = new
                    dw_max = max(dw_max, abs(new - wj))
                    w_max = max(w_max, abs(new))
                if w_max == 0.0 or dw_max <= tol_dw * w_max:
                    break
            # full gap and KKT check from q (cheap: O(p))
            n_viol = 0
            dual_norm = 0.0
            xtr_sq = 0.0
            w_l1 = 0.0
            w_l2sq = 0.0
            wXy = 0.0
            wq = 0.0
            for j in range(p):
                dual_norm = max(dual_norm, abs(q[j] - l2 * w[j]))
                xtr_sq += q[j] * q[j]
                w_l1 += abs(w[j])
                w_l2sq += w[j] * w[j]
                wXy += w[j] * Xy[j]
                wq += w[j] * q[j]
                if not in_ws[j] and norms[j] > 0.0 and abs(q[j]) > l1:
                    ws[m] = j
                    in_ws[j] = True
                    m += 1
                    n_viol += 1
            # ‖r‖² = y'y − w'X'y − w'q,  r'y = y'y − w'X'y
            gap = _gap(yy - wXy - wq, yy - wXy, w_l1, w_l2sq, dual_norm, xtr_sq, l1, l2)
            if (n_viol == 0 and gap <= tol) or it >= max_iter:
                break
        coefs[:, k] = w
        gaps[k] = gap
        n_iters[k] = it
        lam_prev = l1
