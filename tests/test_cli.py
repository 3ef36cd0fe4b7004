"""The command line prints the summary, ANOVA tables and the nested comparison."""

import io
import sys

import pytest

from gradstat import datasets
from gradstat.cli import main


def test_ols_from_csv_with_compare(tmp_path, capsys):
    path = tmp_path / "cars.csv"
    datasets.load("mtcars").to_csv(path, index=False)
    assert main(["ols", str(path), "mpg ~ wt + hp + C(cyl)", "--compare", "mpg ~ wt"]) == 0
    out = capsys.readouterr().out
    for text in ("OLS regression: mpg ~ wt + hp + C(cyl)", "Regression", "C(cyl)", "Nested-model F-test"):
        assert text in out


def test_ols_reads_stdin(monkeypatch, capsys):
    csv = datasets.load("toothgrowth").to_csv(index=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(csv))
    assert main(["ols", "-", "len ~ C(supp) + dose"]) == 0
    assert "C(supp)[T.VC]" in capsys.readouterr().out


def test_bad_formula_is_a_clear_error(capsys):
    assert main(["ols", "mtcars", "mpg ~ wgt"]) == 2
    assert "did you mean 'wt'" in capsys.readouterr().err


def test_unknown_file(capsys):
    assert main(["ols", "nope.csv", "y ~ x"]) == 2
    assert "no file 'nope.csv' (bundled data sets:" in capsys.readouterr().err


def test_train_help_is_the_trainers(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["train", "images", "--help"])
    assert stop.value.code == 0
    assert "--checkpoint-dir" in capsys.readouterr().out


HELP_COMMANDS = [
    [],
    ["ols"],
    ["train"],
    ["train", "images"],
    ["train", "text"],
    ["demo"],
]


def _exit_status(argv):
    """What the shell would see: main's return value, or the code argparse exits with."""
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


@pytest.mark.parametrize("command", HELP_COMMANDS, ids=lambda c: " ".join(c) or "gradstat")
def test_every_help_is_plain_text(command, capsys):
    assert _exit_status([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: gradstat")
    for markup in ("``", ":class:", ":func:", ".. "):
        assert markup not in out, f"reStructuredText {markup!r} in the help of {command}"


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        (["ols"], "(default: nonrobust)"),
        (["demo"], "(default: demo-output)"),
        (["train", "images"], "(default: 10)"),  # --epochs, an option with no help text
        (["train", "text"], "(default: lstm)"),
    ],
)
def test_help_shows_defaults(command, shown, capsys):
    assert _exit_status([*command, "--help"]) == 0
    assert shown in " ".join(capsys.readouterr().out.split())


def test_train_without_a_kind_lists_the_kinds(capsys):
    assert main(["train"]) == 2
    err = capsys.readouterr().err
    assert "images" in err and "text" in err and "choose what to train" in err


def test_version(capsys):
    from importlib.metadata import PackageNotFoundError, version

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    try:
        expected = version("gradstat")
    except PackageNotFoundError:  # running from src/ without an install
        import gradstat

        expected = gradstat.__version__
    assert capsys.readouterr().out.strip() == f"gradstat {expected}"
