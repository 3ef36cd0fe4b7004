"""``gradstat train images``: train a named CNN on a named image data set.

    gradstat train images --arch lenet --data digits|fashion-mnist|DIR --epochs N \\
        --checkpoint-dir D [--resume]

Shows a progress bar, writes ``D/epoch-NNN.safetensors`` (model, optimiser and generator
state) after every epoch, and with ``--resume`` continues from the last readable one; the
options that shape the run are kept in ``D/run.json`` and a resumed run must repeat them.
One trainer at a time may use ``D`` (a lock file holds its process id). Ends with the test
accuracy and the learning curves in ``D/learning_curves.png``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from gradstat.cli.help import HelpFormatter
from gradstat.cli.runs import check_resume, positive_float, positive_int, save_run_options
from gradstat.datasets.images import ImageData, load_digits_images, load_idx
from gradstat.nn.io import ModelFileError, resume_checkpoint
from gradstat.nn.layers.sequential import Sequential
from gradstat.nn.losses import CrossEntropy
from gradstat.nn.models.architectures import ARCHITECTURES, build
from gradstat.nn.optim.optimisers import Adam
from gradstat.nn.training.callbacks import Callback, ModelCheckpoint
from gradstat.nn.training.lock import DirectoryLock
from gradstat.nn.training.trainer import TrainingDiverged

FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
_CHECKPOINT = re.compile(r"epoch-(\d+)\.safetensors")
RUN_OPTIONS = ("arch", "data", "batch_size", "lr", "seed", "limit")  # they shape model, optimiser or data


def load_data(name: str, seed: int = 0) -> ImageData:
    """``digits`` (bundled; a seeded 80/20 split), ``fashion-mnist`` (Debian's
    ``dataset-fashion-mnist``) or a directory of MNIST-format IDX files."""
    if name == "digits":
        x, y = load_digits_images()
        order = np.random.default_rng(seed).permutation(len(x))
        test, train = order[: len(x) // 5], order[len(x) // 5 :]
        return ImageData(x[train], y[train], x[test], y[test])
    directory = FASHION_MNIST if name == "fashion-mnist" else Path(name)
    if not directory.is_dir():
        hint = " (install the Debian package dataset-fashion-mnist)" if name == "fashion-mnist" else ""
        raise FileNotFoundError(f"no data set directory {directory}{hint}")
    return load_idx(directory)


def checkpoints(directory: Path) -> dict[int, Path]:
    """The epoch checkpoints in ``directory``, by epoch."""
    found = {}
    for path in directory.glob("epoch-*.safetensors"):
        match = _CHECKPOINT.fullmatch(path.name)
        if match:
            found[int(match.group(1))] = path
    return found


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradstat train images", description="Train a CNN on images, checkpointing each epoch.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--arch", default="lenet", choices=sorted(ARCHITECTURES))
    parser.add_argument("--data", default="digits", help="digits, fashion-mnist or an IDX directory")
    parser.add_argument("--epochs", type=positive_int, default=10, help="total epochs (including resumed)")
    parser.add_argument("--checkpoint-dir", type=Path, required=True)
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    parser.add_argument("--batch-size", type=positive_int, default=64)
    parser.add_argument("--lr", type=positive_float, default=0.002, help="Adam's learning rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=positive_int, help="use only the first N training images")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str]) -> int:
    """Run the command; returns the exit status (2 for missing data, a clash of checkpoints or
    options, a directory in use, or a diverged run)."""
    args = _parser().parse_args(argv)  # bad options stop here, before any data is read
    try:
        with DirectoryLock(args.checkpoint_dir):
            return _train(args)
    except (FileNotFoundError, FileExistsError, NotADirectoryError, ValueError, TrainingDiverged) as exc:
        print(f"gradstat train images: {exc}", file=sys.stderr)
        return 2


class _Report(Callback):
    """One line per epoch on standard output."""

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.epochs = logs["epochs"]

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        print(
            f"epoch {epoch + 1}/{self.epochs}: loss {logs['loss']:.4f}, accuracy {logs['accuracy']:.4f}, "
            f"test accuracy {logs['val_accuracy']:.4f}"
        )


def _train(args: argparse.Namespace) -> int:
    directory: Path = args.checkpoint_dir
    options = {name: getattr(args, name) for name in RUN_OPTIONS}
    found = checkpoints(directory)
    if found and not args.resume:
        raise FileExistsError(
            f"{directory} already holds checkpoints up to epoch {max(found)}: "
            "pass --resume to continue, or choose another --checkpoint-dir"
        )
    if found:
        check_resume(directory, options)
    data = load_data(args.data, args.seed)
    x_train, y_train = data.x_train, data.y_train
    if args.limit is not None:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    if len(x_train) == 0:
        raise ValueError(f"{args.data} holds no training images")
    n_classes = int(max(data.y_train.max(), data.y_test.max())) + 1
    if found:
        # the newest checkpoint that loads: a corrupt last one falls back to the one before (logged)
        state, path = resume_checkpoint(*(found[e] for e in sorted(found, reverse=True)))
        start = state.epoch
        if not isinstance(state.model, Sequential) or state.optimiser is None:
            raise ModelFileError(f"{path} is not a training checkpoint of a Sequential model")
        model, optimiser, rng = state.model, state.optimiser, state.rng
        model.output_shape((None, *x_train.shape[1:]))  # the data must fit the saved network
        print(f"resuming {path.name} (epoch {start} of {args.epochs})")
    else:
        start = 0
        model = build(args.arch, x_train.shape[1:], n_classes, seed=args.seed)
        optimiser, rng = Adam(model, lr=args.lr), np.random.default_rng(args.seed)
        save_run_options(directory, options)
        print(model.summary().to_string())
    print(f"{args.data}: {len(x_train)} training and {len(data.x_test)} test images {x_train.shape[1:]}")
    if start >= args.epochs:
        print(f"nothing to do: the last checkpoint is epoch {start}")
    else:
        model.fit(
            x_train,
            y_train,
            epochs=args.epochs,
            initial_epoch=start,
            batch_size=args.batch_size,
            validation_data=(data.x_test, data.y_test),
            loss=CrossEntropy(),
            optimiser=optimiser,
            rng=rng,
            callbacks=[ModelCheckpoint(directory / "epoch-{epoch:03d}.safetensors"), _Report()],
            verbose=0 if args.quiet else 1,
        )
    accuracy = float(np.mean(model.predict(data.x_test).argmax(axis=1) == data.y_test))
    print(f"test accuracy {accuracy:.4f}")
    from gradstat.nn.inspection.visualise import plot_learning_curves

    plot_learning_curves(model.history_).savefig(directory / "learning_curves.png", dpi=100)
    return 0
