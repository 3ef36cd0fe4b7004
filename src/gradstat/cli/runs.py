"""What the ``gradstat train`` commands share: checked option types and a run's options kept
beside its checkpoints (``run.json``), so ``--resume`` continues the same run or refuses."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from gradstat.nn.io import write_atomically

RUN_FILE = "run.json"


def integer(text: str) -> int:
    """``text`` as an int, else argparse's error."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def positive_int(text: str) -> int:
    """argparse type: an integer ≥ 1."""
    value = integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """argparse type: an integer ≥ 0."""
    value = integer(text)
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
    """Write ``options`` to ``directory/run.json`` (atomically, see ``gradstat.nn.io``)."""
    write_atomically(directory / RUN_FILE, json.dumps(options, indent=1).encode())
