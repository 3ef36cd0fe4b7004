"""Fit the rational tanh of ``gradstat.nn.layers.tanh`` and print its coefficients.

    python tools/fit_tanh.py

tanh(x) ≈ x P(s) / Q(s) with s = x², P of degree 6 and Q of degree 3 (Q(0) = 1), on
0 < x ≤ 9, minimising the largest relative error: Sanathanan–Koerner iterations (a weighted
linear least-squares fit of P − f Q, f = tanh(x)/x, divided by the last Q) in the scaled
variable u = s / 81, with Lawson's reweighting towards the minimax fit; the best iterate whose
Q stays positive is kept and scaled back to powers of s. Prints the largest relative error in
float64 arithmetic (about 6.6e-9) and the coefficients, lowest power first.
"""

from __future__ import annotations

import numpy as np

CLAMP, DEG_P, DEG_Q = 9.0, 6, 3


def fit() -> tuple[np.ndarray, np.ndarray, float]:
    x = np.linspace(1e-3, CLAMP, 40_000)
    x = np.unique(np.concatenate([x, CLAMP * (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, 40_000)))]))
    x = x[x > 0]
    u, f = (x / CLAMP) ** 2, np.tanh(x) / x
    vp, vq = np.vander(u, DEG_P + 1, increasing=True), np.vander(u, DEG_Q + 1, increasing=True)
    q_last, weights = np.ones_like(u), np.ones_like(u)
    best_error, best = np.inf, (np.empty(0), np.empty(0))
    for iteration in range(400):
        a = np.hstack([vp, -(f[:, None] * vq[:, 1:])]) / (f * q_last)[:, None]
        root = np.sqrt(weights)
        coef, *_ = np.linalg.lstsq(a * root[:, None], root / q_last, rcond=None)
        p, q = coef[: DEG_P + 1], np.concatenate([[1.0], coef[DEG_P + 1 :]])
        q_last = vq @ q
        error = np.abs((vp @ p) / q_last / f - 1)
        if q_last.min() > 0 and error.max() < best_error:
            best_error, best = error.max(), (p.copy(), q.copy())
        if iteration >= 20:  # Lawson: weight the points where the error is largest
            weights *= error + 1e-3 * error.max()
            weights /= weights.mean()
    p, q = best
    return p / CLAMP ** (2 * np.arange(DEG_P + 1)), q / CLAMP ** (2 * np.arange(DEG_Q + 1)), float(best_error)


if __name__ == "__main__":
    p, q, error = fit()
    print(f"largest relative error {error:.2e}")
    print("P:", ", ".join(repr(float(c)) for c in p))
    print("Q:", ", ".join(repr(float(c)) for c in q))
