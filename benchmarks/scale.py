"""Least squares beyond memory: gradstat on Dask / Parquet against its own in-memory fit.

(a) n rows x p predictors written once as Parquet files (250,000-row files) into a temporary folder,
    fitted by ``gradstat.ols(formula, dd.read_parquet(folder))`` with the local threaded
    scheduler and with a 2-worker LocalCluster: rows/s and peak memory (RSS of this process and
    its worker processes, sampled every 20 ms) against the bytes of a NumPy design ``n x (p+1)``.
(b) the same model on n_b rows in memory: time of the Dask path (``dd.from_pandas``, local
    scheduler) / time of ``gradstat.ols`` on the pandas frame, best of ``--repeats``; target <= 1.5.

Timings are noisy on a shared machine: the ratio is measured in one process, best of repeats.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import psutil
from distributed import Client, LocalCluster

import gradstat

FILE_ROWS = 250_000


def frame(n: int, p: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = 1.0 + X @ np.linspace(-1.0, 1.0, p) + rng.normal(size=n)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["y"] = y
    return df


def formula(p: int) -> str:
    return "y ~ " + " + ".join(f"x{j}" for j in range(p))


class PeakRSS:
    """Peak resident memory of this process plus its children, sampled in a thread."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> int:
        me = psutil.Process()
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            time.sleep(0.02)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def best_time(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def write_parquet(folder: Path, n: int, p: int, file_rows: int) -> None:
    for i, start in enumerate(range(0, n, file_rows)):
        frame(min(file_rows, n - start), p, seed=i).to_parquet(folder / f"part-{i:04d}.parquet", index=False)


def out_of_core(n: int, p: int, file_rows: int) -> None:
    design_gb = n * (p + 1) * 8 / 2**30
    with tempfile.TemporaryDirectory(prefix="gradstat-scale-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        write_parquet(folder, n, p, file_rows)
        print(
            f"(a) wrote {n:,} x {p} as Parquet in {time.perf_counter() - t0:.1f} s; "
            f"a NumPy design would need {design_gb:.2f} GiB at once"
        )
        base = psutil.Process().memory_info().rss
        with dask.config.set(scheduler="threads"), PeakRSS() as mem:
            t0 = time.perf_counter()
            fit = gradstat.ols(formula(p), dd.read_parquet(folder))
            elapsed = time.perf_counter() - t0
        print(
            f"    local scheduler : {n / elapsed:,.0f} rows/s ({elapsed:.1f} s), peak RSS "
            f"{mem.peak / 2**30:.2f} GiB (process before: {base / 2**30:.2f} GiB) = "
            f"{mem.peak / 2**30 / design_gb:.2f} x the design; nobs={fit.nobs:,}"
        )
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            Client(cluster),
            PeakRSS() as mem,
        ):
            t0 = time.perf_counter()
            fit2 = gradstat.ols(formula(p), dd.read_parquet(folder))
            elapsed = time.perf_counter() - t0
        same = float(np.max(np.abs(fit2.coef - fit.coef) / np.abs(fit.coef)))
        print(
            f"    2-worker cluster: {n / elapsed:,.0f} rows/s ({elapsed:.1f} s), peak RSS (client + "
            f"workers) {mem.peak / 2**30:.2f} GiB; max rel. coef difference to local {same:.1e}"
        )


def in_memory_ratio(n: int, p: int, repeats: int, partitions: int) -> float:
    df = frame(n, p, seed=123)
    t_mem, ref = best_time(lambda: gradstat.ols(formula(p), df), repeats)
    ddf = dd.from_pandas(df, npartitions=partitions).persist()
    with dask.config.set(scheduler="threads"):
        t_dask, out = best_time(lambda: gradstat.ols(formula(p), ddf), repeats)
    diff = float(np.max(np.abs(out.coef - ref.coef) / np.abs(ref.coef)))
    ratio = t_dask / t_mem
    print(
        f"(b) n = {n:,}, p = {p}: in memory {t_mem:.2f} s, Dask path ({partitions} partitions) "
        f"{t_dask:.2f} s: ratio {ratio:.2f} (target <= 1.5); max rel. coef difference {diff:.1e}"
    )
    return ratio


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--rows", type=int, default=20_000_000, help="rows of the Parquet fit (a)")
    parser.add_argument("--rows-memory", type=int, default=2_000_000, help="rows of the in-memory ratio (b)")
    parser.add_argument("--p", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if args.smoke:
        args.rows, args.rows_memory, args.repeats = 20_000, 20_000, 1
    file_rows = min(FILE_ROWS, max(1, args.rows // 4))
    in_memory_ratio(args.rows_memory, args.p, args.repeats, partitions=max(2, args.rows_memory // 250_000))
    out_of_core(args.rows, args.p, file_rows)


if __name__ == "__main__":
    main()
