"""Bad input across the library: each row is a realistic mistake, the error class it must raise and
a fragment of the message that names the cause (the column, the parameter, the file, the block).

Rows for the neural-network part live in tests/nn/test_bad_input.py. A row whose call returns
instead of raising is a silent wrong answer; a row whose message lacks the fragment is a confusing
error. Both fail.
"""

from __future__ import annotations

import gzip
import io
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import gradstat
from gradstat import datasets
from gradstat.cli import main
from gradstat.datasets.images import load_idx, read_idx
from gradstat.datasets.text import load_text
from gradstat.linear import OLS
from gradstat.linear.formula_grammar import UnsafeFormulaError
from gradstat.regularisation import (
    ElasticNet,
    ElasticNetCV,
    FirstColumns,
    Lasso,
    LassoCV,
    Ridge,
    RidgeCV,
    bias_variance,
    bias_variance_curve,
    enet_path,
    lasso_path,
    ridge_path,
)

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 3))
Y = X @ np.array([1.0, 2.0, 0.0]) + RNG.standard_normal(40)
FRAME = pd.DataFrame({"y": Y, "x1": X[:, 0], "x2": X[:, 1], "g": list("abcd") * 10})
FIT = gradstat.ols("y ~ x1 + C(g)", FRAME)


def frame(**changes: Any) -> pd.DataFrame:
    out = FRAME.copy()
    for name, values in changes.items():
        out[name] = values
    return out


def text_numbers_with_question_marks() -> pd.DataFrame:
    csv = "y,x1\n" + "\n".join(
        f"{v:.3f},{'?' if i % 7 == 3 else f'{u:.3f}'}"
        for i, (v, u) in enumerate(zip(Y, X[:, 0], strict=True))
    )
    return pd.read_csv(io.StringIO(csv))


def numbers_as_text_and_nan() -> pd.DataFrame:
    text = pd.Series([f"{v:.3f}" for v in X[:, 0]], dtype=object)
    text[::7] = np.nan
    return frame(x1=text)


def duplicated_columns() -> pd.DataFrame:
    out = FRAME[["y", "x1", "x2"]].copy()
    out.columns = ["y", "x1", "x1"]
    return out


def idx_file(tmp: Path, header: bytes, body: bytes, *, gz: bool = False) -> Path:
    path = tmp / ("file.idx.gz" if gz else "file.idx")
    raw = header + body
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


Row = tuple[str, Callable[[Path], Any], type[BaseException], str]

LINEAR: list[Row] = [
    (
        "unknown column",
        lambda t: gradstat.ols("y ~ x1 + x3", FRAME),
        ValueError,
        "'x3' (did you mean 'x2', 'x1'?)",
    ),
    (
        "numbers with '?' read as text",
        lambda t: gradstat.ols("y ~ x1", text_numbers_with_question_marks()),
        ValueError,
        "column 'x1' holds numbers stored as text",
    ),
    (
        "numeric strings and NaN",
        lambda t: gradstat.ols("y ~ x1", numbers_as_text_and_nan(), missing="drop"),
        ValueError,
        "column 'x1' holds numbers stored as text",
    ),
    (
        "datetime column",
        lambda t: gradstat.ols("y ~ d", frame(d=pd.date_range("2020", periods=40))),
        ValueError,
        "column 'd' holds dates/times",
    ),
    (
        "timezone-aware datetimes",
        lambda t: gradstat.ols("y ~ d", frame(d=pd.date_range("2020", periods=40, tz="UTC"))),
        ValueError,
        "column 'd' holds dates/times",
    ),
    (
        "time deltas",
        lambda t: gradstat.ols("y ~ d", frame(d=pd.to_timedelta(np.arange(40), "D"))),
        ValueError,
        "column 'd' holds dates/times",
    ),
    (
        "duplicate column names",
        lambda t: gradstat.ols("y ~ x1", duplicated_columns()),
        ValueError,
        "more than one column named 'x1'",
    ),
    (
        "infinite value",
        lambda t: gradstat.ols("y ~ x1", frame(x1=np.r_[np.inf, X[1:, 0]])),
        ValueError,
        "column 'x1' contains 1 infinite value",
    ),
    (
        "NaN without missing='drop'",
        lambda t: gradstat.ols("y ~ x1", frame(x1=np.r_[np.nan, X[1:, 0]])),
        ValueError,
        "'x1' (1); pass missing='drop'",
    ),
    ("text response", lambda t: gradstat.ols("g ~ x1", FRAME), ValueError, "response 'g' must be numeric"),
    (
        "constant response",
        lambda t: gradstat.ols("y ~ x1", frame(y=2.0)),
        ValueError,
        "response 'y' is constant",
    ),
    (
        "more parameters than rows",
        lambda t: gradstat.ols("y ~ C(g) + x1", FRAME.iloc[:4]),
        ValueError,
        "n = 4 rows but 5 parameters",
    ),
    ("zero rows", lambda t: gradstat.ols("y ~ x1", FRAME.iloc[:0]), ValueError, "no rows"),
    (
        "every row dropped",
        lambda t: gradstat.ols("y ~ x1", frame(x1=np.nan), missing="drop"),
        ValueError,
        "no rows left to fit",
    ),
    ("formula not a string", lambda t: gradstat.ols(3, FRAME), TypeError, "formula must be a string"),
    ("formula without response", lambda t: gradstat.ols("~ x1", FRAME), ValueError, "has no response"),
    ("unparseable formula", lambda t: gradstat.ols("y ~ x1 +", FRAME), ValueError, "cannot parse formula"),
    (
        "poly degree 0",
        lambda t: gradstat.ols("y ~ poly(x1, 0)", FRAME),
        ValueError,
        "degree must be an integer >= 1",
    ),
    (
        "poly raw='yes'",
        lambda t: gradstat.ols("y ~ poly(x1, 2, raw='yes')", FRAME),
        ValueError,
        "raw must be True or False",
    ),
    (
        "complex column",
        lambda t: gradstat.ols("y ~ w", frame(w=X[:, 0] + 1j)),
        ValueError,
        "column 'w' is complex",
    ),
    (
        "list column",
        lambda t: gradstat.ols("y ~ w", frame(w=[[1.0]] * 40)),
        ValueError,
        "column 'w' holds list values",
    ),
    (
        "C(levels=...) leaving out a level",
        lambda t: gradstat.ols("y ~ C(g, levels=['a', 'b'])", FRAME),
        ValueError,
        "categories outside of the nominated levels",
    ),
    ("level given as text", lambda t: FIT.conf_int("95%"), TypeError, "level must be a number in (0, 1)"),
    (
        "glm: attribute call in formula",
        lambda t: gradstat.glm("y ~ I(x1.to_csv('f') or x1)", FRAME),
        UnsafeFormulaError,
        "the call to 'x1.to_csv'",
    ),
    (
        "glm: call hidden in cbind's failures",
        lambda t: gradstat.glm("cbind(y, open('f', 'w')) ~ x1", FRAME, family="binomial"),
        UnsafeFormulaError,
        "the call to 'open'",
    ),
    ("'.' for all columns", lambda t: gradstat.ols("y ~ .", FRAME), ValueError, "the '.' shorthand"),
    (
        "'.' with safe=False",
        lambda t: gradstat.ols("y ~ .", FRAME, safe=False),
        ValueError,
        "the '.' shorthand",
    ),
    (
        "factor with one level",
        lambda t: gradstat.ols("y ~ x1 + g", frame(g="a")),
        ValueError,
        "factor 'g' has a single level ('a')",
    ),
    (
        "factor with one level left after dropping NaN",
        lambda t: gradstat.ols(
            "y ~ x1 + g", frame(x1=np.where(FRAME["g"] == "a", X[:, 0], np.nan)), missing="drop"
        ),
        ValueError,
        "factor 'g' has a single level ('a')",
    ),
    ("data not a table", lambda t: gradstat.ols("y ~ x1", 5), TypeError, "data must be a pandas DataFrame"),
    ("missing='x'", lambda t: gradstat.ols("y ~ x1", FRAME, missing="x"), ValueError, "missing must be"),
    (
        "cov_type='HC9'",
        lambda t: gradstat.ols("y ~ x1", FRAME, cov_type="HC9"),
        ValueError,
        "cov_type must be",
    ),
    (
        "safe='no'",
        lambda t: gradstat.ols("y ~ x1", FRAME, safe="no"),
        TypeError,
        "safe must be True or False",
    ),
    (
        "attribute call in formula",
        lambda t: gradstat.ols("y ~ I(x1.to_csv('f') or x1)", FRAME),
        UnsafeFormulaError,
        "the call to 'x1.to_csv'",
    ),
    (
        "transform gives -inf",
        lambda t: gradstat.ols("y ~ np.log(x1)", frame(x1=np.r_[0.0, np.abs(X[1:, 0])])),
        ValueError,
        "design column(s) evaluate to NaN/inf: 'np.log(x1)' (1)",
    ),
    (
        "level outside (0, 1), no interval",
        lambda t: FIT.predict(FRAME, level=1.5),
        ValueError,
        "level must be in (0, 1)",
    ),
    ("conf_int level 0", lambda t: FIT.conf_int(0.0), ValueError, "level must be in (0, 1)"),
    ("summary level 95", lambda t: FIT.summary(95), ValueError, "level must be in (0, 1)"),
    ("interval='both'", lambda t: FIT.predict(FRAME, interval="both"), ValueError, "interval must be None"),
    (
        "new data lacks a column",
        lambda t: FIT.predict(FRAME.drop(columns="g")),
        ValueError,
        "new data lacks column(s) ['g']",
    ),
    (
        "new data with an unseen level",
        lambda t: FIT.predict(frame(g="z")),
        ValueError,
        "level(s) 'z' not seen",
    ),
    ("new data with NaN", lambda t: FIT.predict(frame(x1=np.nan)), ValueError, "new data has missing values"),
    ("anova by_term='yes'", lambda t: FIT.anova(by_term="yes"), TypeError, "by_term must be True or False"),
    (
        "block missing a column",
        lambda t: gradstat.ols("y ~ x1", [FRAME, FRAME.drop(columns="x1")]),
        ValueError,
        "block 1 of the data (counting from 0) lacks column(s) ['x1']",
    ),
    (
        "block not a DataFrame",
        lambda t: gradstat.ols("y ~ x1", iter([FRAME, 5])),
        TypeError,
        "each block of the data",
    ),
    ("OLS X with NaN", lambda t: OLS().fit(np.r_[[[np.nan] * 3], X[1:]], Y), ValueError, "NaN"),
    ("OLS one-dimensional X", lambda t: OLS().fit(X[:, 0], Y), ValueError, "Reshape your data"),
    (
        "OLS fit_intercept='no'",
        lambda t: OLS(fit_intercept="no").fit(X, Y),
        TypeError,
        "fit_intercept must be True or False",
    ),
    ("OLS y of the wrong length", lambda t: OLS().fit(X, Y[:-1]), ValueError, "40"),
]

REGULARISATION: list[Row] = [
    (
        "lasso_path eps=0",
        lambda t: lasso_path(X, Y, eps=0),
        ValueError,
        "eps must lie strictly between 0 and 1",
    ),
    (
        "lasso_path eps=1",
        lambda t: lasso_path(X, Y, eps=1.0),
        ValueError,
        "eps must lie strictly between 0 and 1",
    ),
    ("lasso_path eps=nan", lambda t: lasso_path(X, Y, eps=float("nan")), ValueError, "eps must lie"),
    ("lasso_path eps='small'", lambda t: lasso_path(X, Y, eps="small"), TypeError, "eps must be a number"),
    (
        "lasso_path n_alphas=0",
        lambda t: lasso_path(X, Y, n_alphas=0),
        ValueError,
        "n_alphas must be a positive integer",
    ),
    ("lasso_path alphas=[0]", lambda t: lasso_path(X, Y, alphas=[0.0]), ValueError, "alpha=0 is unpenalised"),
    (
        "enet_path l1_ratio=1.5",
        lambda t: enet_path(X, Y, l1_ratio=1.5),
        ValueError,
        "l1_ratio must lie in [0, 1]",
    ),
    (
        "enet_path l1_ratio=0 without alphas",
        lambda t: enet_path(X, Y, l1_ratio=0.0),
        ValueError,
        "needs l1_ratio > 0",
    ),
    (
        "enet_path precompute='yes'",
        lambda t: enet_path(X, Y, precompute="yes"),
        ValueError,
        "precompute must be",
    ),
    ("enet_path tol=-1", lambda t: enet_path(X, Y, tol=-1), ValueError, "tol must be a number >= 0"),
    (
        "enet_path fit_intercept='no'",
        lambda t: enet_path(X, Y, fit_intercept="no"),
        TypeError,
        "fit_intercept must be True or False",
    ),
    (
        "enet_path standardize=2",
        lambda t: enet_path(X, Y, standardize=2),
        TypeError,
        "standardize must be True or False",
    ),
    ("Lasso alpha=-1", lambda t: Lasso(alpha=-1).fit(X, Y), ValueError, "alpha must be a finite number >= 0"),
    (
        "Lasso max_iter=0",
        lambda t: Lasso(max_iter=0).fit(X, Y),
        ValueError,
        "max_iter must be a positive integer",
    ),
    ("Lasso tol=nan", lambda t: Lasso(tol=float("nan")).fit(X, Y), ValueError, "tol must be"),
    (
        "ElasticNet l1_ratio=-0.1",
        lambda t: ElasticNet(l1_ratio=-0.1).fit(X, Y),
        ValueError,
        "l1_ratio must lie in [0, 1]",
    ),
    (
        "ElasticNet l1_ratio='half'",
        lambda t: ElasticNet(l1_ratio="half").fit(X, Y),
        TypeError,
        "l1_ratio must be a real number",
    ),
    (
        "Ridge alpha=inf",
        lambda t: Ridge(alpha=float("inf")).fit(X, Y),
        ValueError,
        "alpha must be a finite number",
    ),
    ("Ridge alpha=[1, 2]", lambda t: Ridge(alpha=[1, 2]).fit(X, Y), TypeError, "alpha must be a real number"),
    (
        "Ridge fit_intercept=None",
        lambda t: Ridge(fit_intercept=None).fit(X, Y),
        TypeError,
        "fit_intercept must be True or False",
    ),
    (
        "Ridge standardize with a constant column",
        lambda t: Ridge(standardize=True).fit(np.c_[X, np.ones(40)], Y),
        ValueError,
        "column(s) [3] of X are constant",
    ),
    (
        "Ridge X with inf",
        lambda t: Ridge().fit(np.r_[[[np.inf] * 3], X[1:]], Y),
        ValueError,
        "column(s) [0, 1, 2]",
    ),
    ("Ridge complex X", lambda t: Ridge().fit(X + 1j, Y), ValueError, "Complex data not supported in X"),
    ("ridge_path alphas=[]", lambda t: ridge_path(X, Y, alphas=[]), ValueError, "alphas must be a non-empty"),
    (
        "ridge_path alphas=[-1]",
        lambda t: ridge_path(X, Y, alphas=[-1.0]),
        ValueError,
        "alphas must be finite and >= 0",
    ),
    ("RidgeCV cv=1", lambda t: RidgeCV(cv=1).fit(X, Y), ValueError, "cv must be at least 2 folds"),
    (
        "RidgeCV cv='loo'",
        lambda t: RidgeCV(cv="loo").fit(X, Y),
        ValueError,
        "cv must be None (leave-one-out), 'gcv' or an int",
    ),
    (
        "RidgeCV more folds than rows",
        lambda t: RidgeCV(cv=100).fit(X, Y),
        ValueError,
        "fewer than the cv=100 folds",
    ),
    (
        "RidgeCV selection='best'",
        lambda t: RidgeCV(selection="best").fit(X, Y),
        ValueError,
        "selection must be 'min' or '1se'",
    ),
    (
        "RidgeCV alpha 0 with LOO",
        lambda t: RidgeCV(alphas=[0.0, 1.0]).fit(X, Y),
        ValueError,
        "needs every alpha > 0",
    ),
    (
        "LassoCV eps=2",
        lambda t: LassoCV(eps=2).fit(X, Y),
        ValueError,
        "eps must lie strictly between 0 and 1",
    ),
    (
        "LassoCV n_alphas=0",
        lambda t: LassoCV(n_alphas=0).fit(X, Y),
        ValueError,
        "n_alphas must be a positive integer",
    ),
    (
        "LassoCV cv=2.0",
        lambda t: LassoCV(cv=2.0).fit(X, Y),
        ValueError,
        "cv must be an integer number of folds",
    ),
    (
        "ElasticNetCV l1_ratio=[0.5, 2]",
        lambda t: ElasticNetCV(l1_ratio=[0.5, 2]).fit(X, Y),
        ValueError,
        "l1_ratio must lie in [0, 1]",
    ),
    (
        "ElasticNetCV l1_ratio=[]",
        lambda t: ElasticNetCV(l1_ratio=[]).fit(X, Y),
        ValueError,
        "l1_ratio must be a number or a 1-D",
    ),
    (
        "bias_variance n_rep=1",
        lambda t: bias_variance(Ridge, lambda r: (X, Y), X[:2], Y[:2], 1.0, n_rep=1),
        ValueError,
        "n_rep must be an integer >= 2",
    ),
    (
        "bias_variance sigma=nan",
        lambda t: bias_variance(Ridge, lambda r: (X, Y), X[:2], Y[:2], float("nan")),
        ValueError,
        "sigma must be a finite SD",
    ),
    (
        "bias_variance seed=-1",
        lambda t: bias_variance(Ridge, lambda r: (X, Y), X[:2], Y[:2], 1.0, seed=-1),
        ValueError,
        "seed must be None or an integer >= 0",
    ),
    (
        "bias_variance f0 of the wrong length",
        lambda t: bias_variance(Ridge, lambda r: (X, Y), X[:2], Y[:3], 1.0),
        ValueError,
        "f0 has 3 values but x0 has 2 rows",
    ),
    (
        "bias_variance_curve no values",
        lambda t: bias_variance_curve(Ridge, [], lambda r: (X, Y), X[:2], Y[:2], 1.0),
        ValueError,
        "values is empty",
    ),
    ("FirstColumns k=0", lambda t: FirstColumns(0).fit(X, Y), ValueError, "k must be between 1 and 3"),
]


DATASETS: list[Row] = [
    ("unknown table", lambda t: datasets.load("mtcar"), ValueError, "unknown data set 'mtcar'"),
    ("table name not a string", lambda t: datasets.load(None), TypeError, "data set name must be a string"),
    ("unknown text", lambda t: load_text("hamlet"), ValueError, "unknown text 'hamlet'"),
    ("IDX: a directory", lambda t: read_idx(t), ValueError, "is a directory"),
    ("IDX: a missing file", lambda t: read_idx(t / "nope.idx"), FileNotFoundError, "nope.idx"),
    ("IDX: an empty file", lambda t: read_idx(idx_file(t, b"", b"")), ValueError, "is not an IDX file"),
    (
        "IDX: a foreign file",
        lambda t: read_idx(idx_file(t, b"PK\x03\x04", b"zip")),
        ValueError,
        "is not an IDX file",
    ),
    (
        "IDX: truncated body",
        lambda t: read_idx(idx_file(t, b"\0\0\x08\x01" + struct.pack(">I", 10), b"12345")),
        ValueError,
        "the header promises shape (10,)",
    ),
    (
        "IDX: truncated header",
        lambda t: read_idx(idx_file(t, b"\0\0\x08\x03" + struct.pack(">I", 10), b"")),
        ValueError,
        "the header declares 3 dimensions, the file ends at byte 8",
    ),
    (
        "IDX: a 2**64-byte shape in a tiny file",
        lambda t: read_idx(
            idx_file(t, b"\0\0\x08\x04" + struct.pack(">IIII", 65536, 65536, 65536, 65536), b"")
        ),
        ValueError,
        "the header promises shape (65536, 65536, 65536, 65536)",
    ),
    (
        "IDX: corrupt gzip",
        lambda t: read_idx(idx_file(t, b"\x1f\x8b\x08\x00", b"garbage")),
        ValueError,
        "file.idx is not a readable gzip file",
    ),
    ("IDX: empty gzip", lambda t: read_idx(idx_file(t, b"", b"", gz=True)), ValueError, "is not an IDX file"),
    ("IDX: truncated gzip", lambda t: read_idx(truncated_gzip(t)), ValueError, "is not a readable gzip file"),
    ("IDX folder: not a folder", lambda t: load_idx(t / "nope"), FileNotFoundError, "is not a directory"),
    ("IDX folder: empty", lambda t: load_idx(t), FileNotFoundError, "no train-images-idx3-ubyte[.gz]"),
]


def truncated_gzip(tmp: Path) -> Path:
    path = tmp / "cut.idx.gz"
    path.write_bytes(gzip.compress(b"\0\0\x08\x01" + struct.pack(">I", 100) + bytes(100))[:20])
    return path


ROWS = (
    [(f"linear: {r[0]}", *r[1:]) for r in LINEAR]
    + [(f"regularisation: {r[0]}", *r[1:]) for r in REGULARISATION]
    + [(f"datasets: {r[0]}", *r[1:]) for r in DATASETS]
)


@pytest.mark.parametrize(("case", "call", "error", "fragment"), ROWS, ids=[r[0] for r in ROWS])
def test_bad_input_is_a_clear_error(tmp_path, case, call, error, fragment):
    with pytest.raises(error) as caught:
        call(tmp_path)
    assert fragment in str(caught.value), f"{case}: {caught.value}"
    # a clear gradstat error is a ValueError/TypeError (or an OSError naming the file), never a
    # KeyError, AttributeError, ZeroDivisionError... from deep inside a dependency
    assert isinstance(caught.value, ValueError | TypeError | OSError)


# -- the command line: exit status 2 and one line on standard error, never a traceback -------------


def cli_file(tmp: Path, content: bytes, name: str = "data.csv") -> str:
    path = tmp / name
    path.write_bytes(content)
    return str(path)


CSV = FRAME.to_csv(index=False).encode()

CLI: list[tuple[str, Callable[[Path], list[str]], bytes | None, str]] = [
    ("missing file", lambda t: ["ols", str(t / "nope.csv"), "y ~ x1"], None, "no file"),
    ("directory", lambda t: ["ols", str(t), "y ~ x1"], None, "is a directory"),
    ("empty standard input", lambda t: ["ols", "-", "y ~ x1"], b"", "standard input is empty"),
    ("empty file", lambda t: ["ols", cli_file(t, b""), "y ~ x1"], None, "data.csv' is empty"),
    (
        "latin-1 file read as utf-8",
        lambda t: ["ols", cli_file(t, "y,x1\n1,café\n".encode("latin-1")), "y ~ x1"],
        None,
        "data.csv' is not valid utf-8: byte 10 (0xe9)",
    ),
    (
        "utf-16 file read as utf-8",
        lambda t: ["ols", cli_file(t, "y,x1\n1,2\n".encode("utf-16")), "y ~ x1"],
        None,
        "is not valid utf-8: byte 0",
    ),
    (
        "unknown encoding",
        lambda t: ["ols", cli_file(t, CSV), "y ~ x1", "--encoding", "klingon"],
        None,
        "unknown --encoding",
    ),
    (
        "unknown column",
        lambda t: ["ols", cli_file(t, CSV), "y ~ x3"],
        None,
        "'x3' (did you mean 'x2', 'x1'?)",
    ),
    (
        "numbers with '?'",
        lambda t: ["ols", cli_file(t, b"y,x\n1,2\n2,?\n3,5\n4,4\n"), "y ~ x"],
        None,
        "column 'x' holds numbers stored as text",
    ),
    (
        "hostile formula",
        lambda t: ["ols", cli_file(t, CSV), "y ~ I(x1.to_csv('out.csv') or x1)"],
        None,
        "the call to 'x1.to_csv'",
    ),
    (
        "hostile --compare",
        lambda t: ["ols", cli_file(t, CSV), "y ~ x1", "--compare", "y ~ {open('o', 'w')}"],
        None,
        "the call to 'open'",
    ),
    (
        "NaN without --missing drop",
        lambda t: ["ols", cli_file(t, b"y,x\n1,2\n2,\n3,5\n4,4\n5,7\n"), "y ~ x"],
        None,
        "'x' (1); pass --missing drop to fit",
    ),
    ("ragged CSV", lambda t: ["ols", cli_file(t, b"y,x\n1,2\n2,3,4,5,6\n"), "y ~ x"], None, "cannot read"),
]


@pytest.mark.parametrize(("case", "argv", "stdin", "fragment"), CLI, ids=[r[0] for r in CLI])
def test_command_line_bad_input(tmp_path, monkeypatch, capsys, case, argv, stdin, fragment):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    assert main(argv(tmp_path)) == 2, case
    err = capsys.readouterr().err
    assert fragment in err, err
    assert "Traceback" not in err
