"""The linear-model benchmarks run end to end at their tiny --smoke size (not timing tests).

The other benchmarks have smoke tests beside their area's tests (mlp, cnn, rnn, regularisation).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize("name", ["ols", "ols_solver"])
def test_benchmark_smoke(name):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), "--smoke"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    ratios = [float(r) for r in re.findall(r"(\d+\.\d+)", done.stdout)]
    assert ratios and all(r > 0 for r in ratios), done.stdout
