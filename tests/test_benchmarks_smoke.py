"""The benchmarks run end to end at their tiny --smoke size. Not timing tests: they check that
the harness controls what it claims to (each worker's thread counts), that both sides of a
workload do the same computation (the same first-batch loss from the same weights, the same
fitted number), and that the README's speed table is the one generated from the results file.
"""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from workloads import WORKLOADS  # noqa: E402


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True, text=True, timeout=900, check=False, env=env,
    )  # fmt: skip


@pytest.fixture(scope="module")
def smoke_results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "results.json"
    done = run("harness.py", "--smoke", "--threads", "1 thread", "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


def test_every_workload_and_side_is_measured(smoke_results):
    results = smoke_results["results"]
    seen = {(e["workload"], side): data for e in results for side, data in e["sides"].items()}
    expected = {(name, side) for name, wl in WORKLOADS.items() for side in wl.sides}
    assert set(seen) == expected
    unavailable = {key: data["unavailable"] for key, data in seen.items() if "unavailable" in data}
    assert not unavailable
    for entry in smoke_results["results"]:
        assert math.isfinite(entry["ratio_best"]), entry["workload"]


def test_workers_run_with_the_thread_count_asked_for(smoke_results):
    """With one thread asked for, every BLAS pool a worker sees has one thread, and so has PyTorch."""
    for entry in smoke_results["results"]:
        for side, data in entry["sides"].items():
            blas_threads = {lib["num_threads"] for lib in data["blas"]}
            assert blas_threads == {1}, (entry["workload"], side, data["blas"])
            if side == "pytorch":
                assert data["torch_threads"] == 1


def test_both_sides_compute_the_same_thing(smoke_results):
    """Same initial weights and data: the first-batch losses (or fitted numbers) agree."""
    for entry in smoke_results["results"]:
        wl = WORKLOADS[entry["workload"]]
        if wl.check_rtol is None:
            continue
        ours = entry["sides"]["gradstat"]["check"]
        theirs = entry["sides"][wl.peer]["check"]
        assert ours == pytest.approx(theirs, rel=wl.check_rtol), entry["workload"]


def test_readme_speed_table_is_generated_from_the_results_file():
    done = run("readme_table.py", "--check")
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", ["ols", "ols_solver", "factors"])
def test_linear_benchmarks_run(name):
    done = run(f"{name}.py", "--smoke")
    assert done.returncode == 0, done.stderr[-3000:]
