"""``gradstat train text``: train a character-level RNN/LSTM on a bundled corpus.

Example::

    gradstat train text --arch lstm --corpus shakespeare --epochs 2 --checkpoint-dir ck \\
        --sample 300 --temperature 0.8
    gradstat train text --arch lstm --corpus shakespeare --epochs 4 --checkpoint-dir ck --resume
"""

from __future__ import annotations

import argparse

from gradstat.cli.help import HelpFormatter
from gradstat.datasets.text import TEXTS, load_text
from gradstat.nn.layers.sequential import TrainingDiverged
from gradstat.nn.models.charmodel import CharModel


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradstat train text",
        description="Character-level language model trained with truncated BPTT.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--arch", choices=["rnn", "lstm"], default="lstm")
    parser.add_argument("--corpus", choices=sorted(TEXTS), default="shakespeare")
    parser.add_argument("--epochs", type=int, default=1, help="total epochs (including resumed)")
    parser.add_argument("--checkpoint-dir", help="save after every epoch here")
    parser.add_argument("--resume", action="store_true", help="continue from --checkpoint-dir")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--seq-length", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--clip-norm", type=float, default=5.0)
    parser.add_argument("--max-chars", type=int, help="train on the first N characters only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sample", type=int, default=0, help="characters to sample afterwards")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def main(argv: list[str]) -> int:
    """Run the command; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.resume and not args.checkpoint_dir:
        parser.error("--resume needs --checkpoint-dir")
    if args.temperature <= 0:
        parser.error(f"--temperature must be positive, got {args.temperature}")
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
    try:
        model.fit(text, checkpoint_dir=args.checkpoint_dir, resume=args.resume, progress=not args.no_progress)
    except (ValueError, FileNotFoundError, TrainingDiverged) as err:
        print(f"error: {err}")
        return 1
    print(model.history_.to_string(index=False))
    if args.sample:
        print(f"--- {args.sample} sampled characters, temperature {args.temperature} ---")
        print(model.sample(args.sample, temperature=args.temperature, seed=args.seed))
    return 0
