"""gradstat vs statsmodels on the same least-squares work, in one process; prints time and memory ratios.

(a) dense n = 1,000,000, p = 50 (a constant column included, as sm.add_constant): fit + summary.
(b) n = 100,000 with a 5-level categorical, through a formula: fit + sequential (by-term) ANOVA.

    python benchmarks/ols.py            # full size
    python benchmarks/ols.py --smoke    # tiny, for CI
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf

import gradstat


def best_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_memory(fn: Callable[[], object]) -> int:
    """Peak bytes allocated while ``fn`` runs (NumPy reports its buffers to tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def dense_case(n: int, p: int, repeats: int) -> None:
    rng = np.random.default_rng(0)
    X = np.empty((n, p))
    X[:, 0] = 1.0
    X[:, 1:] = rng.standard_normal((n, p - 1))
    y = X @ rng.standard_normal(p) + rng.standard_normal(n)

    def ours() -> object:
        return str(gradstat.OLS(fit_intercept=False).fit(X, y).results_.summary())

    def theirs() -> object:
        return str(sm.OLS(y, X).fit().summary())

    report(f"(a) dense n={n:,}, p={p}: fit + summary", ours, theirs, repeats, X.nbytes)


def formula_case(n: int, repeats: int) -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "x1": rng.standard_normal(n),
            "x2": rng.standard_normal(n),
            "g": rng.choice(list("abcde"), size=n),
        }
    )
    frame["y"] = (
        1.0
        + 2.0 * frame["x1"]
        - frame["x2"]
        + frame["g"].map(dict(zip("abcde", range(5), strict=True)))
        + rng.standard_normal(n)
    )
    formula = "y ~ C(g) + x1 + x2"

    def ours() -> object:
        return gradstat.ols(formula, frame).anova(by_term=True)

    def theirs() -> object:
        return sm.stats.anova_lm(smf.ols(formula, frame).fit(), typ=1)

    design_bytes = n * 7 * 8
    report(f"(b) formula n={n:,}, 5-level factor: fit + by-term ANOVA", ours, theirs, repeats, design_bytes)


def report(
    title: str, ours: Callable[[], object], theirs: Callable[[], object], repeats: int, design_bytes: int
) -> None:
    ours()
    theirs()  # warm-up: imports, caches
    t_ours, t_theirs = best_time(ours, repeats), best_time(theirs, repeats)
    m_ours, m_theirs = peak_memory(ours), peak_memory(theirs)
    print(title)
    print(f"  time   gradstat/statsmodels = {t_ours / t_theirs:.2f}x")
    print(
        f"  memory peak extra / design size: gradstat {m_ours / design_bytes:.2f}, "
        f"statsmodels {m_theirs / design_bytes:.2f} (ratio {m_ours / m_theirs:.2f}x)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (CI)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.smoke:
        dense_case(2_000, 5, 1)
        formula_case(500, 1)
    else:
        dense_case(1_000_000, 50, 3)
        formula_case(100_000, 3)


if __name__ == "__main__":
    main()
