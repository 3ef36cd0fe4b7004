"""The wheel a user installs carries the code, the bundled data, py.typed and the command."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    # build from a copy of the sources, so that the checkout gets no build/ or egg-info
    tree = tmp_path_factory.mktemp("tree")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", out, tree],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("gradstat-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_carries_every_module_and_data_file(wheel):
    names = set(wheel.namelist())
    src = ROOT / "src"
    shipped = [
        p.relative_to(src).as_posix()
        for p in src.joinpath("gradstat").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]
    missing = sorted(set(shipped) - names)
    assert not missing, f"not in the wheel: {missing}"
    assert "gradstat/py.typed" in names
    assert "gradstat/datasets/data/digits.csv.gz" in names


def test_wheel_installs_the_command(wheel):
    (entry_points,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "[console_scripts]" in text
    assert "gradstat = gradstat.cli:main" in text
