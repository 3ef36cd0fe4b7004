"""benchmarks/mlp.py runs end to end at smoke size and reports both ratios."""

from __future__ import annotations

import importlib.util
import math
import pathlib

BENCH = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "mlp.py"


def test_mlp_benchmark_smoke(capsys):
    spec = importlib.util.spec_from_file_location("bench_mlp", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    ratios = module.main(["--smoke"])
    assert set(ratios) == {"gradstat/pytorch", "gradstat/sklearn"}
    assert all(math.isfinite(r) and r > 0 for r in ratios.values())
    assert "gradstat/pytorch" in capsys.readouterr().out
