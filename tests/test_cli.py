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
