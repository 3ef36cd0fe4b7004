"""``gradstat demo``: every part of the library on bundled data, in order of the notes."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path

import matplotlib

PARTS = {
    "linear": "gradstat.cli.demos.linear",
    "regularisation": "gradstat.cli.demos.regularisation",
    "nn": "gradstat.cli.demos.nn",
    "cnn": "gradstat.cli.demos.cnn",
    "rnn": "gradstat.cli.demos.rnn",
}


def run_demo(out_dir: Path, parts: Sequence[str] | None = None) -> None:
    """Run the named parts (all by default), writing plots and checkpoints under ``out_dir``."""
    matplotlib.use("Agg")
    chosen = list(PARTS) if not parts else list(parts)
    unknown = [p for p in chosen if p not in PARTS]
    if unknown:
        raise ValueError(f"unknown demo part(s) {unknown}; choose from {list(PARTS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in chosen:
        print(f"\n{'=' * 30} {name} {'=' * 30}")
        importlib.import_module(PARTS[name]).run_demo(out_dir)
