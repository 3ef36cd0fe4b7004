"""A design of plain terms written straight from the columns, without formulaic materialising it.

A plain term is the intercept, a float column named as is, or a factor that enters as a main effect
with treatment contrasts: a pandas Categorical named as is or as ``C(g)`` / ``C(g, Treatment(...))``.
Its dummy for level L is ``codes == code of L``, one pass over the codes per level, written into
the preallocated design in its dtype and memory order. Formulaic still gives the model: its spec,
column names and term positions come from a sample of ``m`` rows holding every declared level, and
the sample's design written here must equal formulaic's to the bit, or the caller takes formulaic's
general path. Interactions, transforms, other contrasts, integer or boolean columns: general path.
"""

from __future__ import annotations

import ast
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from formulaic import model_matrix
from formulaic.errors import DataMismatchWarning, FormulaicError
from formulaic.transforms.contrasts import TreatmentContrasts
from formulaic.utils.sentinels import UNSET

MAX_LEVELS = 64  # a factor of more levels than this takes the general path (one pass per level here)


@dataclass(frozen=True)
class PlainColumn:
    """One design column: ones (``source`` None), a float column, or a factor's dummy for ``code``."""

    source: str | None
    code: int | None = None


@dataclass(frozen=True)
class PlainDesign:
    """What formulaic's ``model_matrix`` gives, written from the columns: X (n, k) in Fortran order."""

    X: np.ndarray
    y: np.ndarray
    column_names: list[str]
    response: str
    spec: Any


def _factor_column(expr: str, frame: pd.DataFrame) -> str | None:
    """The column of ``g`` or ``C(g, ...)`` when it is a pandas Categorical, else None."""
    try:
        node = ast.parse(expr.strip(), mode="eval").body
    except SyntaxError:
        return None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "C" and node.args:
        node = node.args[0]
    if not isinstance(node, ast.Name) or node.id not in frame.columns:
        return None
    return node.id if isinstance(frame[node.id].dtype, pd.CategoricalDtype) else None


def _sample(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``m`` rows of the used columns in which every factor holds each of its declared levels."""
    factors = [c for c in columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    m = max([2, *(len(frame[c].cat.categories) for c in factors)])
    rows = np.arange(m) % len(frame)
    sample: dict[str, Any] = {c: frame[c].to_numpy()[rows] for c in columns if c not in factors}
    for c in factors:
        values = frame[c].cat
        codes = np.arange(m) % len(values.categories)
        sample[c] = pd.Categorical.from_codes(codes, categories=values.categories, ordered=values.ordered)
    return pd.DataFrame(sample, columns=columns)


def _plan(spec: Any, frame: pd.DataFrame) -> list[PlainColumn] | None:
    """Each column of ``spec``'s design as a :class:`PlainColumn`, or None when a term is not plain."""
    plan: list[PlainColumn] = []
    for structure in spec.structure:
        factors = list(structure.term.factors)
        if len(factors) != 1:
            return None
        factor = factors[0]
        expr, method = str(factor.expr), getattr(factor.eval_method, "value", None)
        kind, state = spec.encoder_state.get(expr, (None, {}))
        kind = getattr(kind, "value", None)
        if method == "literal" and expr == "1" and len(structure.columns) == 1:
            plan.append(PlainColumn(None))
        elif method == "lookup" and kind == "numerical" and frame[expr].dtype == np.float64:
            plan.append(PlainColumn(expr))
        elif kind == "categorical" and (column := _factor_column(expr, frame)) is not None:
            coded = _dummy_plan(state, frame[column].cat.categories, len(structure.columns))
            if coded is None:
                return None
            plan.extend(PlainColumn(column, code) for code in coded)
        else:
            return None
    return plan


def _dummy_plan(state: dict[str, Any], categories: pd.Index, n_columns: int) -> list[int] | None:
    """The codes of a treatment-coded factor's columns: every level, or every level but the base."""
    contrasts = state.get("contrasts")
    levels = list(getattr(contrasts, "levels", None) or [])
    coding = getattr(contrasts, "contrasts", None)
    if not isinstance(coding, TreatmentContrasts) or not levels:
        return None
    if n_columns == len(levels) - 1:
        base = coding.base
        base = levels[0] if base is UNSET else base
        if base not in levels:
            return None
        levels = [level for level in levels if level != base]
    elif n_columns != len(levels):
        return None
    if not set(levels) <= set(categories):
        return None  # a declared level the data's Categorical lacks: formulaic decides
    return [int(code) for code in categories.get_indexer(pd.Index(levels))]


def _write(plan: list[PlainColumn], frame: pd.DataFrame) -> np.ndarray:
    """The design of ``plan`` on every row of ``frame``: (n, k) float64 in Fortran order."""
    X = np.empty((len(frame), len(plan)), dtype=np.float64, order="F")
    codes: dict[str, np.ndarray] = {}
    for j, column in enumerate(plan):
        if column.source is None:
            X[:, j] = 1.0
        elif column.code is None:
            X[:, j] = frame[column.source].to_numpy()
        else:
            if column.source not in codes:
                codes[column.source] = frame[column.source].cat.codes.to_numpy()
            np.equal(codes[column.source], column.code, out=X[:, j], casting="unsafe")
    return X


@dataclass(frozen=True)
class PlainModel:
    """formulaic's model of a formula whose every term is plain, and how to write its columns."""

    plan: list[PlainColumn]
    column_names: list[str]
    spec: Any


MODEL_CACHE_SIZE = 64  # models kept, by formula and column dtypes (a Dask fit's blocks share one)
_models: OrderedDict[tuple[Any, ...], PlainModel | None] = OrderedDict()
_models_lock = threading.Lock()


def _model(
    parsed: Any, frame: pd.DataFrame, columns: list[str], context: dict[str, Any]
) -> PlainModel | None:
    """formulaic's model on a sample of ``frame`` and the plan that writes it, checked on the sample."""
    sample = _sample(frame, columns)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", DataMismatchWarning)
            matrices = model_matrix(parsed, sample, na_action="ignore", context=context)
    except (FormulaicError, DataMismatchWarning, ValueError, TypeError, KeyError):
        return None  # formulaic's general path on the whole data gives the error, or the design
    spec = matrices.rhs.model_spec
    plan = _plan(spec, frame)
    if plan is None or len(plan) != matrices.rhs.shape[1]:
        return None
    if not np.array_equal(_write(plan, sample), np.asarray(matrices.rhs, dtype=np.float64)):
        return None
    return PlainModel(plan, [str(c) for c in matrices.rhs.columns], spec)


def _too_many_levels(series: pd.Series) -> bool:
    return isinstance(series.dtype, pd.CategoricalDtype) and len(series.dtype.categories) > MAX_LEVELS


def _column_kind(name: str, series: pd.Series) -> tuple[Any, ...]:
    """What the model of a column depends on: its dtype, a Categorical's levels in their order (which
    the dtype's equality ignores for an unordered one) with their types."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        levels = tuple((type(level), level) for level in dtype.categories)
        return (name, "category", dtype.ordered, str(dtype.categories.dtype), levels)
    return (name, dtype)


def plain_design(
    formula: str, parsed: Any, frame: pd.DataFrame, columns: list[str], context: dict[str, Any]
) -> PlainDesign | None:
    """formulaic's design of ``parsed`` on ``frame`` (complete rows), written from the columns when
    every term is plain; None when one is not, or when anything differs from formulaic on a sample.

    Whether a formula is plain, and its model, depend only on the formula and the columns' dtypes (a
    Categorical's with its levels): they are kept for the next frame of the same kind.
    """
    lhs = [str(t) for t in parsed.lhs]
    if len(lhs) != 1 or lhs[0] not in frame.columns or frame[lhs[0]].dtype != np.float64:
        return None
    if any(_too_many_levels(frame[c]) for c in columns):
        return None
    key = (formula, *(_column_kind(c, frame[c]) for c in columns))
    with _models_lock:
        found = key in _models
        model = _models.get(key)
    if not found:
        model = _model(parsed, frame, columns, context)
        with _models_lock:
            _models[key] = model
            while len(_models) > MODEL_CACHE_SIZE:
                _models.popitem(last=False)
    if model is None:
        return None
    return PlainDesign(
        X=_write(model.plan, frame),
        y=np.array(frame[lhs[0]].to_numpy(), dtype=np.float64),  # a copy, as formulaic's
        column_names=list(model.column_names),
        response=lhs[0],
        spec=model.spec,
    )
