"""gradstat vs scikit-learn: lasso path, LassoCV and RidgeCV, timed in one process.

Both libraries solve the same problems at the same duality-gap tolerance
(gap / (‖y‖²/n) ≤ tol, tol = 1e-4) with BLAS limited to the same number of
threads; each timing is the best of several repeats and only the ratios
(gradstat / scikit-learn, below 1 = gradstat faster) are meant to be read.

    python benchmarks/regularisation.py            # full sizes
    python benchmarks/regularisation.py --smoke    # tiny sizes, a few seconds
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import sklearn.linear_model as sk
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

import gradstat.regularisation as gr
from gradstat.regularisation.coordinate_descent import enet_path_gram


def gaussian_problem(n: int, p: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Dense Gaussian design, 10 true non-zero coefficients, unit noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    beta = np.zeros(p)
    k = min(10, p)
    beta[:k] = rng.choice([-1.0, 1.0], k) * rng.uniform(1.0, 3.0, k)
    return X, X @ beta + rng.standard_normal(n)


def best_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, out = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (CI)")
    parser.add_argument("--repeats", type=int, default=None, help="best of this many runs")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for both (default 1)")
    args = parser.parse_args(argv)
    shape_a, shape_b = ((400, 20), (60, 300)) if args.smoke else ((10_000, 200), (1_000, 5_000))
    repeats = args.repeats or (1 if args.smoke else 3)
    tol, n_alphas, eps = 1e-4, 100, 1e-3
    ridge_alphas = np.logspace(-3, 3, 100)

    # warm-up: numba compiles (or loads its cache) outside the timed regions
    Xw, yw = gaussian_problem(50, 8)
    gr.lasso_path(Xw, yw, precompute=True)
    gr.lasso_path(Xw, yw, precompute=False)

    cases: list[tuple[str, Callable[[], Any], Callable[[], Any], float]] = []
    for label, (n, p) in (("a", shape_a), ("b", shape_b)):
        X, y = gaussian_problem(n, p)
        cases.append((
            f"lasso_path ({label}) n={n} p={p}",
            partial(gr.lasso_path, X, y, n_alphas=n_alphas, eps=eps, tol=tol),
            partial(sk.lasso_path, X, y, alphas=n_alphas, eps=eps, tol=tol),
            0.5,
        ))
        cases.append((
            f"LassoCV(cv=5) ({label}) n={n} p={p}",
            partial(gr.LassoCV(cv=5, n_alphas=n_alphas, eps=eps, tol=tol).fit, X, y),
            partial(sk.LassoCV(cv=5, alphas=n_alphas, eps=eps, tol=tol).fit, X, y),
            0.5,
        ))
    Xa, ya = gaussian_problem(*shape_a)
    cases.append((
        f"RidgeCV 100 alphas (a) n={shape_a[0]} p={shape_a[1]}",
        partial(gr.RidgeCV(alphas=ridge_alphas).fit, Xa, ya),
        partial(sk.RidgeCV(alphas=ridge_alphas).fit, Xa, ya),
        0.2,
    ))

    print(f"BLAS threads: {args.threads}; best of {repeats}; tol={tol}")
    print(f"{'case':42s} {'gradstat s':>11s} {'sklearn s':>10s} {'ratio':>7s} {'target':>7s}  agree")
    with threadpool_limits(args.threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", FutureWarning)
        for name, ours, theirs, target in cases:
            t_ours, out_ours = best_time(ours, repeats)
            t_theirs, out_theirs = best_time(theirs, repeats)
            if isinstance(out_ours, tuple):  # paths: largest coefficient difference
                agree = f"max|Δβ|={np.max(np.abs(out_ours[1] - out_theirs[1])):.1e}"
            else:
                agree = f"alpha {out_ours.alpha_:.4g} vs {out_theirs.alpha_:.4g}"
            ratio = t_ours / t_theirs
            mark = "ok" if ratio <= target else "MISSED"
            print(
                f"{name:42s} {t_ours:11.4f} {t_theirs:10.4f} {ratio:7.3f} {target:6.1f}x"
                f"  {agree} [{mark}]"
            )

        # does numba pay? the same kernel compiled versus interpreted, on a small problem
        Xs, ys = gaussian_problem(200, 30, seed=1)
        G, Xy, yy = Xs.T @ Xs, Xs.T @ ys, float(ys @ ys)
        l1s = 200 * np.logspace(np.log10(np.max(np.abs(Xy)) / 200), -1, 20)

        def kernel(fn: Callable[..., None]) -> Callable[[], None]:
            def run() -> None:
                fn(G, Xy, yy, l1s, np.zeros(20), tol * yy, tol, 1000, np.zeros(30),
                   np.empty((30, 20)), np.empty(20), np.zeros(20, dtype=np.int64))
            return run

        t_jit, _ = best_time(kernel(enet_path_gram), repeats)
        t_py, _ = best_time(kernel(enet_path_gram.py_func), 1)
        print(f"numba kernel vs interpreted (n=200, p=30, 20 alphas): {t_py / t_jit:.0f}x faster")


if __name__ == "__main__":
    main()
