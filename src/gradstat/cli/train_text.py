"""``gradstat train text``: train a character-level RNN/LSTM on a bundled corpus.

Example::

    gradstat train text --arch lstm --corpus shakespeare --epochs 2 --checkpoint-dir ck \\
        --sample 300 --temperature 0.8
    gradstat train text --arch lstm --corpus shakespeare --epochs 4 --checkpoint-dir ck --resume

The options that shape the run are kept in ``ck/run.json``; a resumed run must repeat them.
One trainer at a time may use ``ck`` (a lock file holds its process id).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gradstat.cli.help import HelpFormatter
from gradstat.cli.runs import check_resume, non_negative_int, positive_float, positive_int, save_run_options
from gradstat.datasets.text import TEXTS, load_text
from gradstat.nn.models.charmodel import CHECKPOINT, CharModel
from gradstat.nn.training.callbacks import Callback
from gradstat.nn.training.trainer import TrainingDiverged

RUN_OPTIONS = (
    "arch",
    "corpus",
    "hidden",
    "layers",
    "seq_length",
    "batch_size",
    "lr",
    "clip_norm",
    "max_chars",
    "seed",
)  # they shape the model, the optimiser or the data


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradstat train text",
        description="Character-level language model trained with truncated BPTT.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--arch", choices=["rnn", "lstm"], default="lstm")
    parser.add_argument("--corpus", choices=sorted(TEXTS), default="shakespeare")
    parser.add_argument("--epochs", type=positive_int, default=1, help="total epochs (including resumed)")
    parser.add_argument("--checkpoint-dir", type=Path, help="save after every epoch here")
    parser.add_argument("--resume", action="store_true", help="continue from --checkpoint-dir")
    parser.add_argument("--hidden", type=positive_int, default=128)
    parser.add_argument("--layers", type=positive_int, default=1)
    parser.add_argument("--seq-length", type=positive_int, default=50)
    parser.add_argument("--batch-size", type=positive_int, default=32)
    parser.add_argument("--lr", type=positive_float, default=2e-3)
    parser.add_argument("--clip-norm", type=positive_float, default=5.0)
    parser.add_argument("--max-chars", type=positive_int, help="train on the first N characters only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sample", type=non_negative_int, default=0, help="characters to sample afterwards")
    parser.add_argument("--temperature", type=positive_float, default=1.0)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


class _SaveOptions(Callback):
    """Write the run's options beside its first checkpoint (inside the trainer's lock)."""

    def __init__(self, directory: Path, options: dict[str, Any]) -> None:
        self.directory, self.options = directory, options

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        if not logs["initial_epoch"]:
            save_run_options(self.directory, self.options)


def main(argv: list[str]) -> int:
    """Run the command; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)  # bad options stop here, before any training
    if args.resume and not args.checkpoint_dir:
        parser.error("--resume needs --checkpoint-dir")
    options = {name: getattr(args, name) for name in RUN_OPTIONS}
    directory: Path | None = args.checkpoint_dir
    try:
        if directory is not None and (directory / CHECKPOINT).exists():
            if not args.resume:
                raise FileExistsError(
                    f"{directory} already holds a model: pass --resume to continue, "
                    "or choose another --checkpoint-dir"
                )
            check_resume(directory, options)
        text = load_text(args.corpus)
        if args.max_chars is not None:
            text = text[: args.max_chars]
        model = CharModel(
            arch=args.arch,
            hidden_size=args.hidden,
            num_layers=args.layers,
            seq_length=args.seq_length,
            batch_size=args.batch_size,
            lr=args.lr,
            clip_norm=args.clip_norm,
            epochs=args.epochs,
            seed=args.seed,
        )
        model.fit(
            text,
            checkpoint_dir=directory,
            resume=args.resume,
            verbose=0 if args.no_progress else 1,
            callbacks=[] if directory is None else [_SaveOptions(directory, options)],
        )
    except (ValueError, FileNotFoundError, FileExistsError, NotADirectoryError, TrainingDiverged) as err:
        print(f"gradstat train text: {err}", file=sys.stderr)
        return 1
    print(model.history_.to_string(index=False))
    if args.sample:
        print(f"--- {args.sample} sampled characters, temperature {args.temperature} ---")
        print(model.sample(args.sample, temperature=args.temperature, seed=args.seed))
    return 0
