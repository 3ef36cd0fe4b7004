"""Least squares on Dask (DataFrame and arrays, local scheduler and a LocalCluster): the in-memory numbers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster, get_task_stream

import gradstat
from tests.linear.test_streaming import FORMULA, RTOL, assert_same_fit, chunks, make_frame


def from_pieces(pieces: list[pd.DataFrame]) -> dd.DataFrame:
    """A Dask DataFrame whose partitions are exactly ``pieces`` (empty ones included)."""
    return dd.from_map(lambda i: pieces[i], range(len(pieces)), meta=pieces[0].iloc[:0])


def test_uneven_and_empty_partitions_equal_in_memory() -> None:
    df = make_frame()
    df.loc[450, "g"] = "e"  # a level in one partition only
    ddf = from_pieces(chunks(df, [0, 50, 50, 333, 599]))
    assert ddf.npartitions == 6
    out = gradstat.ols(FORMULA, ddf)
    assert_same_fit(out, gradstat.ols(FORMULA, df), df.iloc[440:460])


def test_nan_policy_across_partitions() -> None:
    df = make_frame()
    df.loc[[10, 11, 500], "x2"] = np.nan
    ddf = dd.from_pandas(df, npartitions=4)
    out = gradstat.ols(FORMULA, ddf, missing="drop")
    assert out.n_dropped == 3
    assert_same_fit(out, gradstat.ols(FORMULA, df, missing="drop"), df.iloc[:5])
    with pytest.raises(ValueError, match="missing values"):
        gradstat.ols(FORMULA, ddf)


def test_ill_conditioned_refines_over_partitions() -> None:
    x = np.linspace(1.0, 2.0, 300)
    df = pd.DataFrame({"x": x, "y": np.exp(x) + 1e-7 * np.sin(40 * x)})
    formula = "y ~ x + I(x**2) + I(x**3) + I(x**4) + I(x**5) + I(x**6) + I(x**7)"
    out = gradstat.ols(formula, dd.from_pandas(df, npartitions=5))
    ref = gradstat.ols(formula, df)
    assert out.solution.refined and ref.solution.refined
    assert_same_fit(out, ref, df.iloc[::30])


def test_dask_arrays_estimator_and_chunk_mismatch() -> None:
    df = make_frame()
    X = df[["x1", "x2"]].to_numpy()
    y = df["y"].to_numpy()
    ref = gradstat.OLS().fit(X, y)
    est = gradstat.OLS().fit(da.from_array(X, chunks=(97, 1)), da.from_array(y, chunks=97))
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=RTOL)
    assert est.intercept_ == pytest.approx(ref.intercept_, rel=RTOL)
    np.testing.assert_allclose(est.results_.std_err, ref.results_.std_err, rtol=RTOL)
    assert est.results_.r_squared == pytest.approx(ref.results_.r_squared, rel=RTOL)
    np.testing.assert_allclose(est.predict(X[:7]), ref.predict(X[:7]), rtol=RTOL)
    no_int = gradstat.OLS(fit_intercept=False).fit(
        da.from_array(X, chunks=(200, 2)), da.from_array(y, chunks=200)
    )
    np.testing.assert_allclose(no_int.coef_, gradstat.OLS(fit_intercept=False).fit(X, y).coef_, rtol=RTOL)
    with pytest.raises(ValueError, match="chunked differently"):
        gradstat.OLS().fit(da.from_array(X, chunks=(100, 2)), da.from_array(y, chunks=150))
    with pytest.raises(TypeError, match="both"):
        gradstat.OLS().fit(da.from_array(X, chunks=(100, 2)), y)
    bad = X.copy()
    bad[123, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        gradstat.OLS().fit(da.from_array(bad, chunks=(100, 2)), da.from_array(y, chunks=100))


@pytest.mark.parametrize("cov_type", ["HC1", "HC3"])
def test_robust_covariances_on_dask(cov_type: str) -> None:
    df = make_frame()
    memory = gradstat.ols(FORMULA, df, cov_type=cov_type)
    out = gradstat.ols(FORMULA, dd.from_pandas(df, npartitions=4), cov_type=cov_type)
    np.testing.assert_allclose(out.std_err, memory.std_err, rtol=1e-12)
    X, y = df[["x1", "x2"]].to_numpy(), df["y"].to_numpy()
    est = gradstat.OLS(cov_type=cov_type).fit(da.from_array(X, chunks=(97, 2)), da.from_array(y, chunks=97))
    np.testing.assert_allclose(
        est.results_.std_err, gradstat.OLS(cov_type=cov_type).fit(X, y).results_.std_err, rtol=1e-12
    )


def test_local_cluster_two_processes() -> None:
    df = make_frame(seed=4)
    ref = gradstat.ols(FORMULA, df)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, memory_limit="1GiB", dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(2, timeout=120)
        with get_task_stream(client) as stream:
            out = gradstat.ols(FORMULA, from_pieces(chunks(df, [100, 100, 420])))
        worker_pids = client.run(os.getpid)  # asks each worker now, rather than a cached identity
        assert len(set(worker_pids.values()) - {os.getpid()}) == 2
        ran_on = {task["worker"] for task in stream.data}
        assert ran_on and ran_on <= set(worker_pids)  # the fit's tasks ran in the worker processes
    assert_same_fit(out, ref, df.iloc[:9])
    with dask.config.set(scheduler="sync"):  # the default scheduler is back after the client closes
        assert gradstat.ols(FORMULA, dd.from_pandas(df, npartitions=3)).nobs == len(df)


def _die_once(part: pd.DataFrame, marker: str, partition_info: dict | None = None) -> pd.DataFrame:
    """The worker running partition 5 kills its own process, once (the marker file remembers)."""
    if partition_info is not None and partition_info["number"] == 5:
        flag = Path(marker)
        if not flag.exists():
            flag.write_text(str(os.getpid()))
            os._exit(1)  # the worker process dies mid-task, holding whatever it had computed
    return part


@pytest.mark.slow
def test_worker_killed_mid_computation_leaves_the_result_unchanged(tmp_path: Path) -> None:
    """Tasks are pure functions of their partition: Dask recomputes what a dead worker held.

    The kill is deterministic: the worker that runs partition 5 exits in the middle of that task,
    the first time only; the scheduler reschedules it and every result the dead worker held.
    """
    df = make_frame(n=2000, seed=5)
    ref = gradstat.ols(FORMULA, df)
    marker = tmp_path / "killed"
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, memory_limit="1GiB", dashboard_address=None
        ) as cluster,
        Client(cluster),
    ):
        ddf = dd.from_pandas(df, npartitions=12).map_partitions(_die_once, str(marker), meta=df.iloc[:0])
        pids = {w.process.process.pid for w in cluster.workers.values()}
        out = gradstat.ols(FORMULA, ddf)
    assert marker.exists() and int(marker.read_text()) in pids  # a worker really died mid-task
    np.testing.assert_allclose(out.coef, ref.coef, rtol=1e-12)
    np.testing.assert_allclose(out.std_err, ref.std_err, rtol=1e-12)


def test_core_does_not_import_dask() -> None:
    code = (
        "import sys, pandas as pd, gradstat; "
        "gradstat.ols('y ~ x', pd.DataFrame({'x': [1., 2, 3, 4], 'y': [1., 3, 2, 5]})); "
        "parts = [pd.DataFrame({'x': [1., 2], 'y': [1., 3]}), pd.DataFrame({'x': [3., 4], 'y': [2., 5]})]; "
        "gradstat.ols('y ~ x', parts); "
        "assert 'dask' not in sys.modules, 'dask imported'"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")},
    )
    assert done.returncode == 0, done.stderr


def test_scale_benchmark_smoke() -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "scale.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(root / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ratio" in done.stdout and "rows/s" in done.stdout and "2-worker cluster" in done.stdout


def test_factor_level_order_is_kept_out_of_core() -> None:
    """warpbreaks' tension is a Categorical L < M < H: the baseline stays L, not the sorted H."""
    data = gradstat.datasets.load("warpbreaks")
    formula = "breaks ~ C(wool) + C(tension)"
    memory = gradstat.ols(formula, data)
    out = gradstat.ols(formula, dd.from_pandas(data, npartitions=3))
    assert out.coef.index.tolist() == memory.coef.index.tolist()
    assert "C(tension)[T.M]" in out.coef.index
    np.testing.assert_allclose(out.coef, memory.coef, rtol=1e-12)
    streamed = gradstat.ols(formula, chunks(data, [20, 40]))
    np.testing.assert_allclose(streamed.coef, memory.coef, rtol=1e-12)
