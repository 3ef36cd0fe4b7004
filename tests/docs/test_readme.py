"""The README's Python blocks run, in order, as a new user would paste them.

A block preceded by ``<!-- readme-test: skip (reason) -->`` is not run (it needs a cluster);
every other ```` ```python ```` block is executed in one fresh interpreter, in a scratch folder.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import gradstat

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(
    r"(?P<marker><!-- readme-test: skip \((?P<why>[^)]*)\) -->\n)?```python\n(?P<code>.*?)```", re.S
)


def readme_blocks() -> tuple[list[str], list[str]]:
    """(blocks to run, reasons of the skipped ones), in the order of the README."""
    run, skipped = [], []
    for match in BLOCK.finditer(README.read_text(encoding="utf-8")):
        if match["marker"]:
            skipped.append(match["why"])
        else:
            run.append(match["code"])
    return run, skipped


def test_readme_has_code_to_run():
    run, skipped = readme_blocks()
    assert len(run) >= 3
    assert skipped == ["needs a Dask cluster and an object store"]


def test_readme_python_blocks_run_in_order(tmp_path):
    run, _ = readme_blocks()
    script = tmp_path / "readme.py"
    script.write_text("\n\n".join(run), encoding="utf-8")
    # the gradstat these tests import (an install, or src/ of this checkout), whatever the cwd
    package_root = str(Path(gradstat.__file__).resolve().parents[1])
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": package_root}
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "∂E/∂w5" in done.stdout  # explain's trace
    assert (tmp_path / "model.safetensors").exists()
