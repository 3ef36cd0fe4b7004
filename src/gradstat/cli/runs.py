"""What the ``gradstat train`` commands share: checked option types and a run's options kept
beside its checkpoints (``run.json``), so ``--resume`` continues the same run or refuses."""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

RUN_FILE = "run.json"


def positive_int(text: str) -> int:
    """argparse type: an integer ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer ≥ 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def check_resume(directory: Path, options: dict[str, Any]) -> None:
    """Refuse to resume the run in ``directory`` with options other than its own.

    ``options`` maps each option that shapes the model, the optimiser or the data (by
    its dest name, e.g. ``batch_size`` for ``--batch-size``) to its value now."""
    path = directory / RUN_FILE
    try:
        saved = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(
            f"{directory} holds checkpoints but no {RUN_FILE}, so the options of its run are unknown: "
            "start a new run in another --checkpoint-dir"
        ) from None
    except (OSError, ValueError) as exc:
        raise ValueError(
            f"{path} is unreadable ({exc}): start a new run in another --checkpoint-dir"
        ) from None
    for name, value in options.items():
        if name in saved and saved[name] != value:
            flag = "--" + name.replace("_", "-")
            raise ValueError(
                f"{flag} {value} differs from the run being resumed ({flag} {saved[name]}, saved in {path}): "
                f"--resume continues a run with its own options — drop {flag} "
                "or start another --checkpoint-dir"
            )


def save_run_options(directory: Path, options: dict[str, Any]) -> None:
    """Write ``options`` to ``directory/run.json`` (atomically)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{RUN_FILE}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(options, f, indent=1)
        os.replace(tmp, directory / RUN_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
