"""Command line: gradstat ols, gradstat train, gradstat demo."""

from __future__ import annotations

import argparse
import codecs
import io
import sys
import warnings
from pathlib import Path

import pandas as pd

from gradstat import __version__
from gradstat.cli.help import HelpFormatter


def _read_table(source: str, encoding: str = "utf-8") -> pd.DataFrame:
    """A CSV path, ``-`` for standard input, or the name of a bundled data set."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"unknown --encoding {encoding!r} (e.g. utf-8, latin-1, cp1252, utf-16)") from None
    if source == "-":
        stdin = getattr(sys.stdin, "buffer", None)
        raw = stdin.read() if stdin is not None else sys.stdin.read().encode("utf-8")
        return _parse_csv(raw, "standard input", encoding)
    path = Path(source)
    if path.is_dir():
        raise ValueError(f"{source!r} is a directory; give a CSV file")
    if path.exists():
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ValueError(f"cannot read {source!r}: {exc.strerror}") from exc
        return _parse_csv(raw, repr(source), encoding)
    from gradstat import datasets

    if source.lower() in datasets.names():
        return datasets.load(source)
    raise ValueError(f"no file {source!r} (bundled data sets: {', '.join(datasets.names())})")


def _parse_csv(raw: bytes, where: str, encoding: str) -> pd.DataFrame:
    """The table in ``raw``; undecodable bytes, empty input and malformed rows name ``where``."""
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{where} is not valid {encoding}: byte {exc.start} (0x{raw[exc.start]:02x}) cannot be decoded; "
            "pass --encoding (e.g. --encoding latin-1 or cp1252)"
        ) from None
    if not text.strip():
        raise ValueError(f"{where} is empty: no header line and no rows")
    try:
        return pd.read_csv(io.StringIO(text))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"cannot read {where} as CSV: {exc}") from None


def _run_ols(args: argparse.Namespace) -> int:
    from gradstat.linear import compare, ols

    data = _read_table(args.data, args.encoding)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = ols(args.formula, data, missing=args.missing, cov_type=args.cov_type, safe=True)
        reduced = ols(args.compare, data, missing=args.missing, safe=True) if args.compare else None
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    print(fit.summary())
    print("\nAnalysis of variance:")
    print(fit.anova().to_string(float_format=lambda v: f"{v:.6g}", na_rep=""))
    print("\nSequential F-tests by term:")
    print(fit.anova(by_term=True).to_string(float_format=lambda v: f"{v:.6g}", na_rep=""))
    if reduced is not None:
        print("\nNested-model F-test (reduced vs full):")
        print(compare(reduced, fit).to_string(float_format=lambda v: f"{v:.6g}", na_rep=""))
    return 0


_TRAIN_HELP = """\
usage: gradstat train {images,text} [options]

Train a network, checkpointing each epoch.

kinds:
  images    a CNN or MLP on 8x8 digits, Fashion-MNIST or an IDX directory
  text      a character-level RNN or LSTM on a bundled corpus

'gradstat train images --help' and 'gradstat train text --help' list each trainer's options.
"""


def _run_train(args: argparse.Namespace, rest: list[str]) -> int:
    if args.kind is None:
        if {"-h", "--help"} & set(rest):
            print(_TRAIN_HELP, end="")
            return 0
        print(_TRAIN_HELP, end="", file=sys.stderr)
        print("gradstat train: choose what to train: images or text", file=sys.stderr)
        return 2
    if args.kind == "images":
        from gradstat.cli.train_images import main as train_images

        return train_images(rest)
    from gradstat.cli.train_text import main as train_text

    return train_text(rest)


def _run_demo(args: argparse.Namespace) -> int:
    from gradstat.cli.demos import run_demo

    run_demo(Path(args.out), parts=args.parts)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradstat",
        description="From least squares to LSTMs with every number explained.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"gradstat {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{ols,train,demo}")

    p_ols = sub.add_parser(
        "ols",
        help="fit a linear model and print summary, ANOVA and tests",
        description="Fit a linear model by least squares; print the summary, both ANOVA tables "
        "and, with --compare, the nested-model F-test.",
        formatter_class=HelpFormatter,
    )
    p_ols.add_argument("data", help="CSV file, '-' for standard input, or a bundled data set name")
    p_ols.add_argument("formula", help="e.g. 'mpg ~ wt + hp + C(cyl)'")
    p_ols.add_argument("--compare", metavar="FORMULA", help="a reduced model to test against FORMULA")
    p_ols.add_argument(
        "--missing", choices=["raise", "drop"], default="raise", help="what to do with rows holding NaN"
    )
    p_ols.add_argument(
        "--cov-type",
        choices=["nonrobust", "HC0", "HC1", "HC2", "HC3"],
        default="nonrobust",
        help="covariance of the coefficients (HC0-HC3: heteroscedasticity-robust)",
    )
    p_ols.add_argument("--encoding", default="utf-8", help="text encoding of the CSV")

    # its options belong to the trainer: `gradstat train images --help` shows them
    p_train = sub.add_parser(
        "train", help="train a network (images: CNN/MLP; text: character RNN/LSTM)", add_help=False
    )
    p_train.add_argument("kind", nargs="?", choices=["images", "text"])

    p_demo = sub.add_parser(
        "demo",
        help="the main job on bundled data: every part of the library",
        description="Run every part of the library on bundled data, writing plots and checkpoints.",
        formatter_class=HelpFormatter,
    )
    p_demo.add_argument("--out", default="demo-output", help="folder for plots and checkpoints")
    p_demo.add_argument("--parts", nargs="*", default=None, help="run only these parts")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args, rest = build_parser().parse_known_args(argv)
    try:
        if args.command == "train":
            return _run_train(args, rest)
        if rest:
            build_parser().error(f"unrecognised arguments: {' '.join(rest)}")
        if args.command == "ols":
            return _run_ols(args)
        return _run_demo(args)
    except (ValueError, TypeError) as exc:
        # the library's advice, in the command line's words
        print(f"gradstat: {str(exc).replace('missing=' + repr('drop'), '--missing drop')}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
