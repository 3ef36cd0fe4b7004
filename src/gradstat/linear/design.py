"""Design matrices from a formula and a DataFrame: k-1 dummy coding, missing rows, clear errors.

``y ~ x1 + C(g)`` gives the columns ``Intercept, x1, C(g)[T.b], C(g)[T.c]``: a factor
with k levels becomes k-1 treatment dummies against its first level (errata, DL2).
"""

from __future__ import annotations

import difflib
import re
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

import numpy as np
import pandas as pd
from formulaic import Formula, model_matrix
from formulaic.errors import DataMismatchWarning, FactorEvaluationError

from gradstat.linear.formula_grammar import explicit_factors, parse_formula
from gradstat.linear.plain_design import plain_design
from gradstat.linear.polynomial import STATE_KEY, poly, raw_power_map

INTERCEPT = "Intercept"
Missing = Literal["raise", "drop"]
CONTEXT = {"poly": poly}  # formula functions gradstat provides (see polynomial.py)
ExactMap = tuple[list[int], list[list[Fraction]]]


FINGERPRINT_MOD = 2**64


def row_fingerprint(y: np.ndarray) -> int:
    """Σᵢ mix(bits of yᵢ) mod 2⁶⁴ (splitmix64's finaliser): the same for the same rows in any order
    or blocking, different (but for a 2⁻⁶⁴ chance) for rows that differ in any bit."""
    x = np.ascontiguousarray(y, dtype=np.float64).view(np.uint64)
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    return int(np.sum(x, dtype=np.uint64))


@dataclass(frozen=True)
class ResponseMoments:
    """Count, mean and ``M2 = sum (y - ybar)^2`` of the response, for fits that never hold every row.

    Two row sets combine by Chan, Golub and LeVeque's parallel formula (no ``y'y - n ybar^2``
    cancellation): ``d = ybar_b - ybar_a``, ``ybar = ybar_a + d n_b / n``,
    ``M2 = M2_a + M2_b + d^2 n_a n_b / n``.
    """

    n: int
    mean: float
    m2: float
    fingerprint: int = 0  # row_fingerprint of y: which rows, not just how many

    @staticmethod
    def of(y: np.ndarray) -> ResponseMoments:
        if y.size == 0:
            return ResponseMoments(0, 0.0, 0.0)
        mean = float(np.mean(y))
        mean += float(np.mean(y - mean))  # one correction step: ybar to full precision
        return ResponseMoments(int(y.size), mean, float(np.dot(y - mean, y - mean)), row_fingerprint(y))

    def combine(self, other: ResponseMoments) -> ResponseMoments:
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        n = self.n + other.n
        d = other.mean - self.mean
        return ResponseMoments(
            n,
            self.mean + d * other.n / n,
            self.m2 + other.m2 + d * d * self.n * other.n / n,
            (self.fingerprint + other.fingerprint) % FINGERPRINT_MOD,
        )


@dataclass(frozen=True, kw_only=True)
class DesignLayout:
    """A design without its rows: the column names, how columns group into terms, the formula's coding.

    An out-of-core fit (Dask, streaming) keeps only this; an in-memory fit keeps a :class:`Design`.
    """

    column_names: list[str]
    terms: dict[str, list[int]]  # term label -> column positions, in formula order
    has_intercept: bool
    response: str
    formula: str
    n_dropped: int
    spec: Any = None  # formulaic ModelSpec of the right-hand side, for new data
    reparametrisation: list[ExactMap] = field(default_factory=list)  # fitted basis -> raw powers


@dataclass(frozen=True, kw_only=True)
class Design(DesignLayout):
    """A materialised design: X (n, k), the response y and the labels of its rows."""

    X: np.ndarray
    y: np.ndarray
    row_labels: pd.Index

    @property
    def nobs(self) -> int:
        return self.X.shape[0]

    def layout(self) -> DesignLayout:
        """The design without its rows."""
        return DesignLayout(
            column_names=self.column_names,
            terms=self.terms,
            has_intercept=self.has_intercept,
            response=self.response,
            formula=self.formula,
            n_dropped=self.n_dropped,
            spec=self.spec,
            reparametrisation=self.reparametrisation,
        )


def as_frame(data: Any) -> pd.DataFrame:
    """``data`` as a DataFrame (a dict of columns is converted), else a TypeError saying so."""
    if isinstance(data, pd.DataFrame):
        return data
    try:
        return pd.DataFrame(data)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"data must be a pandas DataFrame (or dict of columns), got {type(data).__name__}"
        ) from exc


def _check_columns_exist(formula: Formula, frame: pd.DataFrame, text: str) -> list[str]:
    """The data columns the formula uses; unknown names raise with close suggestions."""
    used = sorted(str(v) for v in formula.required_variables)
    known = [str(c) for c in frame.columns]
    missing = [v for v in used if v not in known]
    if missing:
        hints = []
        for name in missing:
            close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
            hints.append(f"{name!r}" + (f" (did you mean {', '.join(map(repr, close))}?)" if close else ""))
        raise ValueError(
            f"formula {text!r} names column(s) not in the data: {', '.join(hints)}; "
            f"available columns: {', '.join(known)}"
        )
    return [v for v in used if v in known]


def _numeric_text(values: pd.Series) -> tuple[int, list[str]] | None:
    """For a text column that is mostly numbers: how many distinct numbers, and the entries that are not."""
    distinct = pd.Series(values.dropna().unique())
    if len(distinct) == 0:
        return None
    numbers = pd.to_numeric(distinct.astype(str).str.strip(), errors="coerce")
    if numbers.notna().mean() < 0.5:
        return None
    return int(numbers.notna().sum()), sorted(str(v) for v in distinct[numbers.isna()])[:5]


def _is_text(series: pd.Series) -> bool:
    """Strings or Python objects; a pandas Categorical is a factor by the user's choice, not text."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return False
    return series.dtype.kind in "OSU" or isinstance(series.dtype, pd.StringDtype)


def _unhashable(values: pd.Series) -> str | None:
    """The type name of the first entry that cannot be a factor level (a list, a dict), else None."""
    if isinstance(values.dtype, pd.StringDtype | pd.CategoricalDtype):
        return None  # strings and a Categorical's categories are hashable
    try:
        pd.unique(values.to_numpy())  # hashes every entry, in C
        return None
    except TypeError:
        pass
    for value in values.dropna():
        try:
            hash(value)
        except TypeError:
            return type(value).__name__
    return None


def _check_values(frame: pd.DataFrame, columns: list[str], response: str, factors: set[str]) -> None:
    """Refuse columns that would silently fit the wrong model: numbers stored as text, dates, inf."""
    duplicated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]} & set(columns))
    if duplicated:
        raise ValueError(
            f"the data has more than one column named {', '.join(map(repr, duplicated))}; "
            "rename them so the formula names one column each"
        )
    for col in columns:
        series = frame[col]
        if series.dtype.kind == "O" and (kind := _unhashable(series)) is not None:
            raise ValueError(
                f"column {col!r} holds {kind} values; a column must hold one number or label per row"
            )
        if series.dtype.kind == "c":
            raise ValueError(
                f"column {col!r} is complex ({series.dtype}); least squares here is real: "
                "use its .real and .imag parts as two columns"
            )
        if _is_text(series) and col not in factors:
            found = _numeric_text(series)
            if found is not None:
                n_numbers, bad = found
                what = f"also text value(s) {bad}" if bad else "nothing else"
                raise ValueError(
                    f"column {col!r} holds numbers stored as text ({n_numbers} distinct, and {what}); "
                    "fitting it would make one dummy per distinct number. Read it as numbers "
                    "(pd.read_csv(..., na_values=['?']) or pd.to_numeric(df[col], errors='coerce'), "
                    f"then missing='drop'), or write C({col}) if it really is categorical"
                )
        elif series.dtype.kind in "mM" or isinstance(series.dtype, pd.DatetimeTZDtype | pd.PeriodDtype):
            raise ValueError(
                f"column {col!r} holds dates/times ({series.dtype}); least squares needs numbers: "
                f"convert it, e.g. (df[{col!r}] - df[{col!r}].min()).dt.days, or extract .dt.year"
            )
        elif series.dtype.kind in "fc" and np.isinf(series.to_numpy()).any():
            n_inf = int(np.isinf(series.to_numpy()).sum())
            raise ValueError(
                f"column {col!r} contains {n_inf} infinite value(s); least squares needs finite data"
            )
    if response in frame.columns:
        resp = frame[response]
        if resp.dtype.kind not in "iufb":
            raise ValueError(
                f"response {response!r} must be numeric, got dtype {resp.dtype}; "
                "a categorical response needs a classifier, not least squares"
            )


def is_categorical(series: pd.Series, name: str, factors: set[str]) -> bool:
    """A factor of the formula: named in ``C(...)`` (``factors``), text, or a pandas Categorical."""
    return name in factors or _is_text(series) or isinstance(series.dtype, pd.CategoricalDtype)


def _check_factor_levels(frame: pd.DataFrame, columns: list[str], factors: set[str], response: str) -> None:
    """A factor with one level in the rows fitted has no contrast: R refuses it, so do we."""
    for col in columns:
        series = frame[col]
        if col == response or not is_categorical(series, col, factors):
            continue
        # a Categorical brings its declared levels (out of core: the levels agreed over every block)
        is_cat = isinstance(series.dtype, pd.CategoricalDtype)
        levels = series.cat.categories if is_cat else series.dropna().unique()
        if len(levels) == 1:
            raise ValueError(
                f"factor {col!r} has a single level ({levels[0]!r}) in the rows fitted; "
                "a factor needs at least two levels to have an effect: drop it from the formula"
            )


def integers_as_float(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Integer columns as float64, so transforms such as I(x * x) cannot wrap around."""
    ints = [c for c in columns if frame[c].dtype.kind in "iu" or is_nullable_integer(frame[c])]
    if not ints:
        return frame
    return frame.assign(**{c: frame[c].astype(np.float64) for c in ints})


def text_as_categorical(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """String columns as a Categorical of their sorted values (formulaic's levels for text): the values
    are hashed once, and the factor's levels and its dummy columns both come from the codes."""
    text = [c for c in columns if isinstance(frame[c].dtype, pd.StringDtype)]
    if not text:
        return frame
    return frame.assign(**{c: frame[c].astype("category") for c in text})


def is_nullable_integer(series: pd.Series) -> bool:
    dtype = series.dtype
    return isinstance(dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_integer_dtype(dtype)


def missing_rows(frame: pd.DataFrame, columns: list[str], missing: Missing) -> pd.DataFrame:
    """``frame`` without rows missing a used column (``missing="drop"``), else an error naming them."""
    if all(isinstance(col := frame[c], pd.Series) and not col.hasnans for c in columns):
        return frame  # column by column: no table of flags (a text column knows its count of missing)
    na = frame[columns].isna()
    if not na.to_numpy().any():
        return frame
    rows = na.any(axis=1)
    if missing == "drop":
        return frame.loc[~rows]
    counts = na.sum()
    detail = ", ".join(f"{c!r} ({int(n)})" for c, n in counts.items() if n)
    raise ValueError(
        f"missing values (NaN) in {int(rows.sum())} row(s) of the columns used: {detail}; "
        "pass missing='drop' to fit on the complete rows"
    )


def check_residual_df(design: DesignLayout, n: int) -> None:
    """Least squares needs more rows than parameters: say n and p when it has none left."""
    k = len(design.column_names)
    if n <= k:
        raise ValueError(
            f"{design.formula!r}: n = {n} rows but {k} parameters (p = {k - int(design.has_intercept)} "
            f"predictors{' + intercept' if design.has_intercept else ''}); "
            "least squares needs n > parameters to leave residual degrees of freedom"
        )


def _term_label(term: Any) -> str:
    label = str(term)
    return INTERCEPT if label == "1" else label


def build_design(formula: str, data: Any, *, missing: Missing = "raise", check_levels: bool = True) -> Design:
    """Materialise ``formula`` on ``data`` (response on the left, predictors on the right).

    ``check_levels=False`` skips the one-level-factor check, for a sample of rows whose levels are
    not yet those of the whole data (the first pass of an out-of-core fit).
    """
    if missing not in ("raise", "drop"):
        raise ValueError(f"missing must be 'raise' or 'drop', got {missing!r}")
    frame = as_frame(data)
    parsed = parse_formula(formula)
    if not hasattr(parsed, "lhs") or len(parsed.lhs) == 0:
        raise ValueError(f"formula {formula!r} has no response; write it as 'y ~ x1 + x2'")
    response = str(parsed.lhs[0])
    columns = _check_columns_exist(parsed, frame, formula)
    factors = explicit_factors(formula)
    _check_values(frame, columns, response, factors)
    n_before = len(frame)
    numeric = [c for c in columns if c not in factors]
    frame = text_as_categorical(integers_as_float(missing_rows(frame, columns, missing), numeric), columns)
    if len(frame) == 0:
        raise ValueError(f"no rows left to fit {formula!r} after dropping missing values")
    if check_levels:
        _check_factor_levels(frame, columns, factors, response)
    plain = plain_design(formula, parsed, frame, columns, CONTEXT)
    if plain is not None:  # every column is finite: NaN refused or dropped above, inf refused
        return _design(
            formula, frame, n_before, plain.X, plain.y, plain.column_names, plain.response, plain.spec
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DataMismatchWarning)
            matrices = model_matrix(parsed, frame, na_action="ignore", context=CONTEXT)
    except FactorEvaluationError as exc:
        raise ValueError(f"cannot evaluate formula {formula!r}: {exc}") from exc
    except DataMismatchWarning as exc:  # e.g. C(g, levels=[...]) that leaves out a level in the data
        raise ValueError(f"formula {formula!r}: {exc}") from None
    lhs, rhs = matrices.lhs, matrices.rhs
    if lhs.shape[1] != 1:
        raise ValueError(f"formula {formula!r} must have exactly one response column, got {lhs.shape[1]}")
    y = np.asarray(lhs, dtype=np.float64)[:, 0]
    X = np.asarray(rhs, dtype=np.float64)
    names = [str(c) for c in rhs.columns]
    _check_finite_design(X, y, names, str(lhs.columns[0]))
    return _design(formula, frame, n_before, X, y, names, str(lhs.columns[0]), rhs.model_spec)


def _design(
    formula: str,
    frame: pd.DataFrame,
    n_before: int,
    X: np.ndarray,
    y: np.ndarray,
    names: list[str],
    response: str,
    spec: Any,
) -> Design:
    terms = {_term_label(t): list(idx) for t, idx in spec.term_indices.items() if len(idx)}
    return Design(
        X=X,
        y=y,
        column_names=names,
        terms=terms,
        has_intercept=INTERCEPT in terms,
        response=response,
        formula=formula,
        row_labels=frame.index,
        n_dropped=n_before - len(frame),
        spec=spec,
        reparametrisation=_raw_polynomial_maps(spec, terms, formula),
    )


def _raw_polynomial_maps(spec: Any, terms: dict[str, list[int]], formula: str) -> list[ExactMap]:
    """For each ``poly(x, d, raw=True)`` term: its columns with the intercept, and the exact map M."""
    maps = []
    for term in spec.terms:
        for factor in term.factors:
            state = spec.transform_state.get(str(factor), {}).get(STATE_KEY)
            if state is None:
                continue
            if len(term.factors) > 1:
                raise ValueError(f"{formula!r}: poly(..., raw=True) inside an interaction is not supported")
            if INTERCEPT not in terms:
                raise ValueError(
                    f"{formula!r}: poly(..., raw=True) needs an intercept (its stable basis is centred); "
                    "write the powers as I(x**k) for a model through the origin"
                )
            positions = terms[INTERCEPT] + terms[_term_label(term)]
            maps.append((positions, raw_power_map(state["centre"], state["halfwidth"], state["degree"])))
    return maps


def _check_finite_design(X: np.ndarray, y: np.ndarray, names: list[str], response: str) -> None:
    """Transforms such as np.log(0) can create non-finite values after the data checks."""
    with np.errstate(over="ignore", invalid="ignore"):  # a NaN or inf entry makes its column's sum
        if np.isfinite(y.sum()) and np.isfinite(X.sum(axis=0)).all():  # non-finite; overflow is rechecked
            return
    if not np.isfinite(y).all():
        bad = int((~np.isfinite(y)).sum())
        raise ValueError(f"response {response!r} evaluates to NaN/inf in {bad} row(s)")
    finite = np.isfinite(X)
    if not finite.all():
        cols = [f"{names[j]!r} ({int((~finite[:, j]).sum())})" for j in np.flatnonzero(~finite.all(axis=0))]
        raise ValueError(f"design column(s) evaluate to NaN/inf: {', '.join(cols)}")


_UNSEEN = re.compile(r"\{([^}]*)\}")
_NUMPY_SCALAR = re.compile(r"np\.\w+\(([^)]*)\)")  # np.int64(5) -> 5


def new_design(design: DesignLayout, data: Any) -> np.ndarray:
    """The design matrix of new rows under the fitted model's coding (same columns, same levels)."""
    frame = as_frame(data)
    spec = design.spec
    needed = sorted(str(v) for v in spec.required_variables)
    absent = [v for v in needed if v not in frame.columns]
    if absent:
        raise ValueError(f"new data lacks column(s) {absent} used by {design.formula!r}")
    if frame[[v for v in needed if v in frame.columns]].isna().to_numpy().any():
        raise ValueError("new data has missing values (NaN) in the columns the model uses")
    factors = explicit_factors(design.formula)
    frame = integers_as_float(frame, [v for v in needed if v in frame.columns and v not in factors])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DataMismatchWarning)
            X = np.asarray(spec.get_model_matrix(frame, context=CONTEXT), dtype=np.float64)
    except DataMismatchWarning as exc:
        levels = _UNSEEN.search(str(exc))
        found = _NUMPY_SCALAR.sub(r"\1", levels.group(1)) if levels else str(exc)
        raise ValueError(
            f"new data has categorical level(s) {found} not seen when fitting {design.formula!r}; "
            "the model has no coefficient for them"
        ) from exc
    _check_finite_design(X, np.zeros(1), design.column_names, design.response)
    return X
