"""A factor with a rare level at full speed: gradstat's formula fit against its numeric fit, statsmodels
and its own Dask path, as ratios in one process (best of ``--rounds``).

n rows, five numeric predictors x1..x5 and a factor g of three common levels plus one level held by
7 rows (the case where a rare level used to switch the refinement on):

(a) ``y ~ x1 + ... + x5 + C(g)`` / ``y ~ x1 + ... + x5`` in memory (target <= 1.5), with g as text
    (its labels hashed on every fit) and as a pandas Categorical (the codes used as they are),
(b) the same factor fit / statsmodels' ``smf.ols(...).fit()`` (target <= 0.3),
(c) the factor fit through ``dd.from_pandas(frame, npartitions)`` (threaded scheduler) / in memory
    (target <= 1.5).

The three gradstat fits alternate round by round (best of ``--rounds`` each), so that a change in a
shared machine's load falls on every side alike.

    python benchmarks/factors.py              # n = 1,000,000
    python benchmarks/factors.py --smoke      # tiny, a few seconds
"""

from __future__ import annotations

import argparse
import gc
import time
import warnings
from collections.abc import Callable
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import statsmodels.formula.api as smf

import gradstat

NUMERIC = "y ~ x1 + x2 + x3 + x4 + x5"
FACTOR = NUMERIC + " + C(g)"
RARE_ROWS = 7


def factor_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """Five standard-normal predictors, g in {a, b, c} at random and level "d" on 7 rows."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.standard_normal((n, 5)), columns=[f"x{j}" for j in range(1, 6)])
    g = rng.choice(np.array(["a", "b", "c"], dtype=object), size=n)
    g[rng.choice(n, size=RARE_ROWS, replace=False)] = "d"
    frame["g"] = g
    effect = frame["g"].map({"a": 0.0, "b": 1.0, "c": -1.0, "d": 3.0}).to_numpy()
    frame["y"] = 1.0 + frame[[f"x{j}" for j in range(1, 6)]].to_numpy() @ np.arange(1.0, 6.0) + effect
    frame["y"] += rng.standard_normal(n)
    return frame


def best_times(fns: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    """Best of ``rounds`` for each function, the functions alternated round by round (so that a
    change in the machine's load falls on every side alike); one warm-up call each."""
    for fn in fns.values():
        fn()
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            gc.collect()
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (CI)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--partitions", type=int, default=4)
    args = parser.parse_args(argv)
    if args.smoke:
        args.rows, args.rounds = 2_000, 1
    warnings.simplefilter("ignore")
    frame = factor_frame(args.rows)
    coded = frame.assign(g=frame["g"].astype("category"))
    ddf = dd.from_pandas(frame, npartitions=args.partitions).persist()
    with dask.config.set(scheduler="threads"):
        best = best_times(
            {
                "numeric": lambda: gradstat.ols(NUMERIC, frame),
                "factor": lambda: gradstat.ols(FACTOR, frame),
                "categorical": lambda: gradstat.ols(FACTOR, coded),
                "dask": lambda: gradstat.ols(FACTOR, ddf),
            },
            args.rounds,
        )
    statsmodels_fit = {"statsmodels": lambda: smf.ols(FACTOR, frame).fit()}
    t_statsmodels_fit = best_times(statsmodels_fit, max(1, args.rounds // 3))["statsmodels"]
    t_numeric, t_factor, t_dask = best["numeric"], best["factor"], best["dask"]
    fit = gradstat.ols(FACTOR, frame)
    theirs = smf.ols(FACTOR, frame).fit().params[fit.coef.index]
    with dask.config.set(scheduler="threads"):
        out_of_core = gradstat.ols(FACTOR, ddf).coef
    scale = np.abs(fit.coef).max()
    same = (np.abs(fit.coef - theirs).max() / scale, np.abs(out_of_core - fit.coef).max() / scale)
    print(f"n = {args.rows:,}, five numeric predictors + a factor (3 common levels, one of {RARE_ROWS} rows)")
    print(f"  refined: {fit.solution.refined}, condition number {fit.solution.condition_number:.3g}")
    print(f"  max coefficient difference / max |coefficient|: statsmodels {same[0]:.1e}, Dask {same[1]:.1e}")
    print(f"  (a) factor / numeric fit      = {t_factor / t_numeric:.2f}x  (target <= 1.5)")
    print(f"      g as a Categorical        = {best['categorical'] / t_numeric:.2f}x")
    print(f"  (b) factor fit / statsmodels  = {t_factor / t_statsmodels_fit:.2f}x  (target <= 0.3)")
    print(f"  (c) Dask ({args.partitions} partitions) / memory = {t_dask / t_factor:.2f}x  (target <= 1.5)")
    print(
        f"  seconds: numeric {t_numeric:.3f}, factor {t_factor:.3f}, statsmodels {t_statsmodels_fit:.3f}, "
        f"Dask {t_dask:.3f}"
    )


if __name__ == "__main__":
    main()
