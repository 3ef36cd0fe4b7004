"""Least-squares solver vs numpy / statsmodels: time ratio and peak extra memory.

Usage: ``python benchmarks/ols_solver.py [--smoke] [--n N] [--p P]``.  All timings
are best-of-repeats in this one process; ratios ``gradstat / peer`` are printed
(below 1 means gradstat is faster).  Peak extra memory is measured with
``tracemalloc`` (NumPy reports its buffers to it) relative to ``X.nbytes``.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import statsmodels.api as sm

from gradstat.linear.lstsq import least_squares


def best_times(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Best-of-``repeats`` wall time of each function, the runs interleaved so that
    a change in machine load hits every contender alike."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def peak_extra_bytes(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak - base


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--p", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    n, p, repeats = (5_000, 10, 2) if args.smoke else (args.n, args.p, args.repeats)
    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(n), rng.standard_normal((n, p - 1))])
    y = X @ rng.standard_normal(p) + rng.standard_normal(n)

    fit = least_squares(X, y)
    t = best_times(
        {
            "gradstat": lambda: least_squares(X, y),
            "statsmodels": lambda: sm.OLS(y, X).fit(),
            "statsmodels qr": lambda: sm.OLS(y, X).fit(method="qr"),
            "numpy": lambda: np.linalg.lstsq(X, y, rcond=None),
        },
        repeats,
    )
    t.update(best_times({"refined": lambda: least_squares(X, y, refine=True)}, 1))
    mem = peak_extra_bytes(lambda: least_squares(X, y)) / X.nbytes
    mem_refined = peak_extra_bytes(lambda: least_squares(X, y, refine=True)) / X.nbytes
    ratios = {
        "gradstat / statsmodels OLS (pinv)": t["gradstat"] / t["statsmodels"],
        "gradstat / statsmodels OLS (qr)": t["gradstat"] / t["statsmodels qr"],
        "gradstat / numpy lstsq": t["gradstat"] / t["numpy"],
        "gradstat refined / statsmodels OLS (pinv)": t["refined"] / t["statsmodels"],
        "peak extra memory / X.nbytes": mem,
        "peak extra memory (refined) / X.nbytes": mem_refined,
    }
    print(f"n={n} p={p} refined(auto)={fit.refined} kappa={fit.condition_number:.3g}")
    for name, value in ratios.items():
        print(f"{name:45s} {value:8.3f}")
    return ratios


if __name__ == "__main__":
    main()
