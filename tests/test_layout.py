"""The library's layout rules: no private imports across modules; importing changes nothing.

A name or module starting with "_" is private to where it lives: ``from gradstat.x import _y``
is allowed nowhere outside ``gradstat.x``, and a private module ``gradstat.pkg._m`` only in
its sibling modules of ``gradstat.pkg``.
"""

from __future__ import annotations

import ast
import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
MODULES = sorted((SRC / "gradstat").rglob("*.py"))
ENV = {**{k: v for k, v in os.environ.items() if k != "MPLBACKEND"}, "PYTHONPATH": str(SRC)}


def package_of(path: pathlib.Path, src: pathlib.Path) -> str:
    """The package a module belongs to (a package's ``__init__`` belongs to itself)."""
    return ".".join(path.relative_to(src).parts[:-1])


def private_imports(path: pathlib.Path, src: pathlib.Path = SRC) -> list[str]:
    """The imports in ``path`` that reach into another module's private names or modules."""
    here = package_of(path, src)
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level:
            found.append(f"line {node.lineno}: relative import (use absolute gradstat.… imports)")
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "gradstat":
            targets = [node.module]
            found += [
                f"line {node.lineno}: from {node.module} import {alias.name}"
                for alias in node.names
                if alias.name.startswith("_") and alias.name != "__version__"
            ]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names if a.name.split(".")[0] == "gradstat"]
        else:
            continue
        for target in targets:
            parts = target.split(".")
            for i, part in enumerate(parts):
                # a private module may be used by the modules of the package that holds it
                if part.startswith("_") and ".".join(parts[:i]) != here:
                    found.append(f"line {node.lineno}: {target} is private to {'.'.join(parts[:i])}")
    return found


def test_the_check_catches_private_imports(tmp_path):
    fake = tmp_path / "src" / "gradstat" / "nn" / "layers" / "thing.py"
    fake.parent.mkdir(parents=True)
    fake.write_text(
        "from gradstat.nn.losses import _labels\n"
        "import gradstat._estimator\n"
        "from gradstat.nn.layers._kernels import step\n"  # a sibling's private module: allowed
        "from gradstat.nn._core import x\n"
        "from . import dense\n"
    )
    problems = private_imports(fake, tmp_path / "src")
    assert [p.split(":")[0] for p in problems] == ["line 1", "line 2", "line 4", "line 5"]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_private_imports_across_modules(path):
    assert private_imports(path) == []


def test_importing_gradstat_nn_prints_nothing():
    done = subprocess.run(
        [sys.executable, "-c", "import gradstat.nn"],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    assert (done.stdout, done.stderr) == ("", "")


IN_A_KERNEL = """
import sys, types, warnings
# what tqdm.auto sees in a Jupyter kernel (ipykernel's shell loaded), here without ipywidgets
class ZMQInteractiveShell:
    config = {"IPKernelApp": {}}
sys.modules["ipykernel.zmqshell"] = types.ModuleType("ipykernel.zmqshell")
sys.modules["IPython"] = types.SimpleNamespace(get_ipython=lambda: ZMQInteractiveShell())
sys.modules["ipywidgets"] = None  # not installed
warnings.simplefilter("always")  # shown on stderr (as errors, tqdm would catch them and say nothing)
import gradstat.nn
"""


def test_importing_gradstat_nn_in_a_notebook_without_ipywidgets_warns_nothing():
    done = subprocess.run(
        [sys.executable, "-c", IN_A_KERNEL], cwd=ROOT, env=ENV, capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr[-2000:]


GLOBAL_STATE = """
import json, logging, pkgutil, importlib, warnings
import matplotlib
import numpy as np
matplotlib.use("svg")
# third-party packages set their own warning filters on import (scipy.special does): import
# them first, so that what is measured is gradstat's doing
import formulaic, numba, pandas, scipy.linalg, scipy.optimize, scipy.special, scipy.stats, tqdm

def snapshot():
    return {
        "backend": matplotlib.get_backend(),
        "rc_changed": sorted(k for k, v in matplotlib.rcParams.items() if k != "backend"
                             and matplotlib.rcParamsDefault.get(k) != v),
        "numpy_errors": np.geterr(),
        "numpy_print": {k: str(v) for k, v in np.get_printoptions().items()},
        "warning_filters": len(warnings.filters),
        "root_handlers": len(logging.getLogger().handlers),
        "root_level": logging.getLogger().level,
    }

before = snapshot()
import gradstat
names = [m.name for m in pkgutil.walk_packages(gradstat.__path__, "gradstat.")
         if not m.name.endswith(".__main__")]  # running it is its job
for name in names:
    importlib.import_module(name)
print(json.dumps({"before": before, "after": snapshot(), "modules": names}))
"""


def test_importing_any_module_changes_no_global_state():
    """Every module of gradstat, the command-line demos included: the matplotlib backend,
    rcParams, NumPy's error and print settings, warning filters and logging stay as they were."""
    done = subprocess.run(
        [sys.executable, "-c", GLOBAL_STATE],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout)
    assert "gradstat.cli.demos.rnn" in report["modules"]
    assert report["after"] == report["before"]
