"""Least squares over row blocks that are never in memory together: the same numbers as in memory.

Every row block (a DataFrame chunk, a Dask partition) is reduced to a :class:`Partial`: the
Householder ``R`` factor of its scaled ``[X S | y t]`` (TSQR, never ``X'X``), its column maxima,
the response moments ``(n, ȳ, M2)`` and the count of rows dropped for missing values.  Two
partials combine exactly as two row blocks would (``R <- qr([R_a; R_b])`` after rescaling both
to the common power-of-two column scale; moments by Chan's formula), so partials reduce in any
tree.  From the final ``R`` the kernels of :mod:`gradstat.linear.kernels` give coefficients,
``(X'X)⁻¹``, the effects ``Q'y`` and SSE = ``R[k, k]²``; an ill-conditioned design takes a second
pass for the exact double-double Gram (refinement) and a third for the residual sum of squares.

Passes over the data: (1) categorical levels, only when the formula has a categorical factor;
(2) the ``R`` reduction; (3-4) refinement, only when needed.  A one-shot iterator (a generator,
``pd.read_csv(..., chunksize=...)``) is spooled to a temporary folder on its first pass when a
later pass may be needed; a list of frames or a callable returning a fresh iterator is re-read.

The results are an :class:`~gradstat.linear.results.OutOfCoreOLSResults`: every statistic of the
sufficient statistics; row-level quantities (fitted values, residuals, leverage) need the rows and
raise a clear error (refit in memory on the rows needed); HC covariances take one more pass.
"""

from __future__ import annotations

import itertools
import operator
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
import pandas as pd
from formulaic import Formula

from gradstat.linear.design import (
    FINGERPRINT_MOD,
    Design,
    DesignLayout,
    Missing,
    ResponseMoments,
    build_design,
    check_residual_df,
    is_categorical,
    missing_rows,
    row_fingerprint,
)
from gradstat.linear.formula_grammar import explicit_factors, parse_formula
from gradstat.linear.kernels import (
    DD,
    column_amax,
    combine_gram,
    combine_r,
    fitted_dd,
    reduce_gram,
    reduce_r,
    scale_of_max,
    solve_r,
)
from gradstat.linear.lstsq import LeastSquaresFit
from gradstat.linear.results import CovType, OutOfCoreOLSResults, sandwich_meat, warn_aliased

T = TypeVar("T")
SAMPLE_ROWS = 64  # rows kept from the first non-empty block to build the column layout


@dataclass(frozen=True)
class Partial:
    """The reduction of some rows: ``R`` of ``[X S | y t]`` (``S``, ``t`` from ``amax``), moments, drops.

    ``r`` is None for no rows.  ``columns`` names the design columns (checked equal on combine);
    ``sample`` keeps the first rows seen, to build the column layout of the results.
    """

    r: np.ndarray | None
    amax: np.ndarray  # (k + 1,) max |entry| per column of [X | y]
    moments: ResponseMoments
    n_dropped: int
    columns: tuple[str, ...] | None
    sample: pd.DataFrame | None = None

    @staticmethod
    def of_block(
        X: np.ndarray, y: np.ndarray, n_dropped: int, columns: tuple[str, ...] | None, sample: Any = None
    ) -> Partial:
        if X.shape[0] == 0:
            return Partial(None, np.zeros(X.shape[1] + 1), ResponseMoments(0, 0.0, 0.0), n_dropped, columns)
        amax = np.concatenate([column_amax(X), column_amax(y)])
        s = scale_of_max(amax)
        r = reduce_r(X, y, s[:-1], float(s[-1]))
        return Partial(r, amax, ResponseMoments.of(y), n_dropped, columns, sample)

    def r_unscaled(self) -> np.ndarray:
        """R of ``[X | y]`` itself: the scaling by powers of two undone (exactly)."""
        if self.r is None:
            raise ValueError("no rows: there is no R factor")
        return self.r / scale_of_max(self.amax)

    def combine(self, other: Partial) -> Partial:
        if self.columns is not None and other.columns is not None and self.columns != other.columns:
            raise ValueError(
                "row blocks produced different design columns: "
                f"{list(self.columns)} vs {list(other.columns)}; the categorical levels must agree"
            )
        columns = self.columns if self.columns is not None else other.columns
        sample = self.sample if self.sample is not None else other.sample
        dropped = self.n_dropped + other.n_dropped
        if self.r is None or other.r is None:
            base = other if self.r is None else self
            return replace(base, n_dropped=dropped, columns=columns, sample=sample)
        amax = np.maximum(self.amax, other.amax)
        s = scale_of_max(amax)
        # powers of two: the rescaling is exact, and Householder QR commutes with it
        r = combine_r(self.r * (s / scale_of_max(self.amax)), other.r * (s / scale_of_max(other.amax)))
        return Partial(r, amax, self.moments.combine(other.moments), dropped, columns, sample)


class RowSource(Protocol):
    """Blocks ``(X, y, n_dropped, columns, sample)``, mapped and reduced (in a tree for Dask)."""

    def map_reduce(self, fn: Callable[..., T], combine: Callable[[T, T], T]) -> T: ...


# -- formula designs, block by block ----------------------------------------------------------


class MissingColumnsError(ValueError):
    """A block lacks a column the formula uses (the source adds which block)."""


@dataclass(frozen=True)
class AtBlock(Generic[T]):
    """``fn`` of the ``index``-th block, a missing column reported with the block's position (picklable)."""

    fn: Callable[[pd.DataFrame], T]
    what: str = "block"

    def __call__(self, index: int, frame: Any) -> T:
        try:
            return self.fn(_as_block(frame))
        except MissingColumnsError as exc:
            raise ValueError(f"{self.what} {index} of the data (counting from 0) {exc}") from None


@dataclass(frozen=True)
class FrameDesign:
    """Builds the design of one DataFrame block under agreed categorical levels (picklable)."""

    formula: str
    missing: Missing
    used: tuple[str, ...]
    levels: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    def complete_rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The block without the rows missing a used column (or an error naming them)."""
        absent = [c for c in self.used if c not in frame.columns]
        if absent:
            has = [str(c) for c in frame.columns]
            raise MissingColumnsError(f"lacks column(s) {absent} that {self.formula!r} uses (it has {has})")
        return missing_rows(frame, list(self.used), self.missing)

    def frame(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
        """The block's used columns, incomplete rows dropped (or refused), levels fixed."""
        n_before = len(frame)
        frame = self.complete_rows(frame)
        leveled = {name for name, _ in self.levels}
        text = [c for c in self.used if isinstance(frame[c].dtype, pd.StringDtype) and c not in leveled]
        if self.levels or text:
            frame = frame.copy(deep=False)  # columns are replaced, never written into
            for name in text:  # Dask's string[pyarrow] columns: plain labels, as pandas reads them
                frame[name] = frame[name].astype(object)
            for name, cats in self.levels:
                column = frame[name]
                if not isinstance(column.dtype, pd.CategoricalDtype):
                    column = column.astype("category")  # hashed once, then only its few levels are mapped
                values = column.cat.set_categories(list(cats)).array
                unknown = values.codes < 0  # the rows are complete: -1 is a level not agreed
                if unknown.any():
                    found = sorted(map(str, pd.unique(frame[name].to_numpy()[unknown])))
                    raise ValueError(f"column {name!r} has level(s) {found} not agreed")
                frame[name] = values
        return frame, n_before - len(frame)

    def design(self, frame: pd.DataFrame) -> tuple[Design | None, int]:
        frame, dropped = self.frame(frame)
        if len(frame) == 0:
            return None, dropped
        return build_design(self.formula, frame, missing=self.missing), dropped

    def reduce(self, frame: pd.DataFrame) -> Partial:
        design, dropped = self.design(frame)
        if design is None:
            return Partial(None, np.zeros(0), ResponseMoments(0, 0.0, 0.0), dropped, None)
        sample = frame.loc[design.row_labels[:SAMPLE_ROWS]]
        return Partial.of_block(design.X, design.y, dropped, tuple(design.column_names), sample)

    # each later pass also returns the block's row fingerprint, checked against the first pass's
    def gram(
        self, frame: pd.DataFrame, kept: np.ndarray, scale: np.ndarray, bits: int
    ) -> tuple[DD | None, int]:
        design, _ = self.design(frame)
        if design is None:
            return None, 0
        g = reduce_gram(design.X, design.y, kept, scale[:-1], float(scale[-1]), bits)
        return g, row_fingerprint(design.y)

    def sse(self, frame: pd.DataFrame, z: DD, kept: np.ndarray, scale: np.ndarray) -> tuple[float, int]:
        design, _ = self.design(frame)
        if design is None:
            return 0.0, 0
        _, resid = fitted_dd(design.X, design.y, z, kept, scale[:-1], float(scale[-1]))
        return float(resid @ resid), row_fingerprint(design.y)

    def meat(
        self, frame: pd.DataFrame, solution: LeastSquaresFit, cov_type: str
    ) -> tuple[np.ndarray | None, int]:
        """The block's part of the HC sandwich (a second pass, once the coefficients are known)."""
        design, _ = self.design(frame)
        if design is None:
            return None, 0
        kept = ~solution.aliased
        resid = design.y - design.X[:, kept] @ solution.coef[kept]
        return sandwich_meat(design.X, resid, solution, cov_type), row_fingerprint(design.y)

    def levels_of(self, frame: pd.DataFrame) -> dict[str, Levels]:
        """The block's categorical variables (``C(x)``, text, Categorical) with their levels.

        A pandas Categorical brings its categories in their order (the first is the baseline, as
        in memory); other columns bring the set of values they hold in the rows fitted (with
        ``missing="raise"`` a row with a missing value is refused on the next pass anyway).
        """
        if self.missing == "drop":
            frame = self.complete_rows(frame)
        else:
            self.complete_rows(frame.iloc[:0])  # only the check that every used column is there
        if len(frame) == 0:
            return {}
        factors = explicit_factors(self.formula)
        response = str(parse_formula(self.formula).lhs[0])
        out: dict[str, Levels] = {}
        for name in self.used:
            values = frame[name]
            if name == response or not is_categorical(values, name, factors):
                continue
            if isinstance(values.dtype, pd.CategoricalDtype):
                out[name] = tuple(values.cat.categories)
            else:  # the distinct values, then the missing one left out (cheaper than dropna on text)
                out[name] = frozenset(v for v in values.unique().tolist() if not pd.isna(v))
        return out


Levels = tuple[Any, ...] | frozenset[Any]  # ordered categories, or the values seen


def _merge_levels(a: Levels | None, b: Levels | None) -> Levels:
    """Equal category lists keep their order; anything else becomes the union of the values."""
    if a is None or b is None:
        kept = b if a is None else a
        assert kept is not None
        return kept
    if isinstance(a, tuple) and a == b:
        return a
    return frozenset(a) | frozenset(b)


def combine_levels(a: dict[str, Levels], b: dict[str, Levels]) -> dict[str, Levels]:
    return {k: _merge_levels(a.get(k), b.get(k)) for k in a.keys() | b.keys()}


def _ordered_levels(values: Levels) -> tuple[Any, ...]:
    """Categories in their given order; observed values sorted (formulaic's order in memory)."""
    if isinstance(values, tuple):
        return values
    try:
        return tuple(sorted(values))
    except TypeError as exc:
        raise ValueError(
            f"categorical levels of mixed types cannot be ordered: {sorted(map(repr, values))}"
        ) from exc


def add_gram(a: DD | None, b: DD | None) -> DD | None:
    """The sum of two partial Gram matrices in double-double; None is an empty partition."""
    if a is None or b is None:
        return b if a is None else a
    return combine_gram(a, b)


def add_matrix(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    """The sum of two partial matrices; None is an empty partition."""
    if a is None or b is None:
        return b if a is None else a
    return a + b


def used_columns(formula: str, columns: Sequence[Any]) -> tuple[str, ...]:
    """The data columns ``formula`` needs (unknown names raise as in memory)."""
    try:
        parsed = Formula(formula)
    except Exception as exc:  # formulaic's parse errors
        raise ValueError(f"cannot parse formula {formula!r}: {exc}") from exc
    known = [str(c) for c in columns]
    needed = sorted(str(v) for v in parsed.required_variables)
    missing = [v for v in needed if v not in known]
    if missing:
        raise ValueError(
            f"formula {formula!r} names column(s) not in the data: {missing}; available: {known}"
        )
    return tuple(needed)


def fit_formula(
    source: RowSource,
    formula: str,
    columns: Sequence[Any],
    *,
    missing: Missing = "raise",
    cov_type: CovType = "nonrobust",
    needs_levels: bool = True,
    rank_tol: float | None = None,
) -> OutOfCoreOLSResults:
    """``ols(formula, data)`` over the blocks of ``source``: levels pass, ``R`` pass, refinement."""
    if missing not in ("raise", "drop"):
        raise ValueError(f"missing must be 'raise' or 'drop', got {missing!r}")
    designer = FrameDesign(formula, missing, used_columns(formula, columns))
    if needs_levels:
        levels = source.map_reduce(designer.levels_of, combine_levels)
        designer = replace(designer, levels=tuple((k, _ordered_levels(v)) for k, v in sorted(levels.items())))
    partial = source.map_reduce(designer.reduce, Partial.combine)
    if partial.r is None or partial.sample is None:
        raise ValueError(f"no rows to fit {formula!r} (every block empty or dropped for missing values)")
    prototype, _ = designer.design(partial.sample)
    assert prototype is not None
    if prototype.spec.transform_state:
        raise ValueError(
            f"{formula!r} uses a stateful transform ({', '.join(prototype.spec.transform_state)}) whose "
            "state depends on all rows; out of core, write the transform with fixed constants"
        )

    def checked(name: str, fn: Callable[[pd.DataFrame], tuple[T, int]], combine: Callable[[T, T], T]) -> T:
        """A later pass over the source, refused when it yields other rows than the first pass."""
        value, fingerprint = source.map_reduce(
            fn, lambda a, b: (combine(a[0], b[0]), (a[1] + b[1]) % FINGERPRINT_MOD)
        )
        if fingerprint != partial.moments.fingerprint:
            raise ValueError(
                f"the data source gave different rows on the {name} pass than on the first pass over it "
                f"({partial.moments.n} rows then; the rows' fingerprints differ): a callable or re-read "
                "source must yield the same rows, in any order, every time it is read"
            )
        return value

    def gram(kept: np.ndarray, scale: np.ndarray, bits: int) -> DD:
        g = checked("refinement (Gram)", lambda f: designer.gram(f, kept, scale, bits), add_gram)
        assert g is not None
        return g

    def sse(z: DD, kept: np.ndarray, scale: np.ndarray) -> float:
        return checked("residual sum of squares", lambda f: designer.sse(f, z, kept, scale), operator.add)

    def meat(solution: LeastSquaresFit) -> np.ndarray:
        total = checked(f"{cov_type} covariance", lambda f: designer.meat(f, solution, cov_type), add_matrix)
        assert total is not None
        return total

    return finish(partial, prototype.layout(), gram, sse, cov_type, meat, rank_tol=rank_tol)


def finish(
    partial: Partial,
    layout: DesignLayout,
    gram: Callable[[np.ndarray, np.ndarray, int], DD],
    sse_pass: Callable[[DD, np.ndarray, np.ndarray], float],
    cov_type: CovType = "nonrobust",
    meat_pass: Callable[[LeastSquaresFit], np.ndarray] | None = None,
    *,
    rank_tol: float | None = None,
) -> OutOfCoreOLSResults:
    """Solve the combined ``R`` and wrap the same inference as the in-memory fit.

    HC covariances take one more pass over the rows (``meat_pass``), with the coefficients known.
    """
    assert partial.r is not None
    m = partial.moments
    if m.m2 == 0.0:
        raise ValueError(f"response {layout.response!r} is constant: there is nothing to explain")
    check_residual_df(layout, m.n)
    scale = scale_of_max(partial.amax)
    y_scale = float(scale[-1])
    sol = solve_r(
        partial.r, scale[:-1], y_scale, m.n, lambda kept, bits: gram(kept, scale, bits), rank_tol=rank_tol
    )
    if sol.refined:
        sse = sse_pass(sol.z, sol.kept, scale)
    else:
        sse = (sol.rnorm / y_scale) ** 2
    empty = np.zeros(0)
    solution = LeastSquaresFit(
        coef=sol.coef,
        aliased=~sol.kept,
        cov_unscaled=sol.cov_unscaled,
        fitted=empty,
        resid=empty,
        sse=sse,
        rank=sol.rank,
        condition_number=sol.kappa_equilibrated,
        refined=sol.refined,
        _r=sol.r1,
        _scale=scale[:-1],
        _chol=sol.chol,
        effects=sol.effects,
        error_bound=sol.error_bound,
        y_scale=y_scale,
        cov_scaled=sol.cov_scaled,
    )
    layout = replace(layout, n_dropped=partial.n_dropped)
    warn_aliased(layout, solution.aliased, stacklevel=3)
    if cov_type == "nonrobust":
        return OutOfCoreOLSResults(layout, solution, m)
    if meat_pass is None:
        raise ValueError(f"cov_type={cov_type!r} needs a pass over the rows, which this source cannot give")
    return OutOfCoreOLSResults(layout, solution, m, cov_type, meat=meat_pass(solution))


# -- DataFrames from an iterable ---------------------------------------------------------------


class FrameStream:
    """Blocks from a list of DataFrames, a callable returning a fresh iterable, or a one-shot iterator.

    A one-shot iterator is spooled (pickled, used columns only) to a temporary folder on the first
    pass, so the later passes re-read the spool; :meth:`close` deletes it.
    """

    def __init__(self, data: Iterable[pd.DataFrame] | Callable[[], Iterable[pd.DataFrame]]) -> None:
        self._factory: Callable[[], Iterable[pd.DataFrame]] | None = None
        self._frames: Sequence[pd.DataFrame] | None = None
        self._once: Iterator[pd.DataFrame] | None = None
        self._spool: tempfile.TemporaryDirectory[str] | None = None
        self._spooled = 0
        if callable(data) and not hasattr(data, "__iter__"):
            self._factory = data
        elif isinstance(data, Sequence):
            self._frames = data
        else:
            self._once = iter(data)
        first = next(iter(self._peek()), None)
        if first is None:
            raise ValueError("data is an empty iterable: no DataFrame to fit")
        self.columns = list(_as_block(first).columns)

    def _peek(self) -> Iterable[pd.DataFrame]:
        if self._once is not None:
            head = next(self._once, None)
            if head is None:
                return []
            self._once = itertools.chain([head], self._once)
            return [head]
        return self._iterate()

    def _iterate(self) -> Iterable[pd.DataFrame]:
        if self._factory is not None:
            return self._factory()
        if self._frames is not None:
            return self._frames
        if self._once is None:
            return self._read_spool()
        return self._spool_once()

    def _spool_once(self) -> Iterator[pd.DataFrame]:
        assert self._once is not None
        source, self._once = self._once, None
        self._spool = tempfile.TemporaryDirectory(prefix="gradstat-spool-")
        for i, frame in enumerate(source):
            frame = _as_block(frame)
            with open(Path(self._spool.name) / f"{i}.pkl", "wb") as fh:
                pickle.dump(frame, fh, protocol=pickle.HIGHEST_PROTOCOL)
            self._spooled = i + 1
            yield frame

    def _read_spool(self) -> Iterator[pd.DataFrame]:
        assert self._spool is not None
        for i in range(self._spooled):
            with open(Path(self._spool.name) / f"{i}.pkl", "rb") as fh:
                yield pickle.load(fh)

    def map_reduce(self, fn: Callable[..., T], combine: Callable[[T, T], T]) -> T:
        acc: T | None = None
        seen = False
        at_block = AtBlock(fn)
        for index, frame in enumerate(self._iterate()):
            out = at_block(index, frame)
            acc = out if not seen else combine(acc, out)  # type: ignore[arg-type]
            seen = True
        if not seen:
            raise ValueError("data is an empty iterable: no DataFrame to fit")
        return acc  # type: ignore[return-value]

    def close(self) -> None:
        if self._spool is not None:
            self._spool.cleanup()
            self._spool = None


def _as_block(frame: Any) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"each block of the data must be a pandas DataFrame, got {type(frame).__name__}")
    return frame


def ols_stream(
    formula: str,
    data: Iterable[pd.DataFrame] | Callable[[], Iterable[pd.DataFrame]],
    *,
    missing: Missing = "raise",
    cov_type: CovType = "nonrobust",
    rank_tol: float | None = None,
) -> OutOfCoreOLSResults:
    """``ols`` on data read block by block (``pd.read_csv(path, chunksize=...)``, Parquet row groups).

    Memory: one block plus a ``(k+1) x (k+1)`` triangle.  The numbers equal the in-memory fit of
    the concatenated blocks to rounding (see the module docstring for the passes).
    """
    stream = FrameStream(data)
    try:
        return fit_formula(
            stream, formula, stream.columns, missing=missing, cov_type=cov_type, rank_tol=rank_tol
        )
    finally:
        stream.close()


def is_frame_iterable(data: Any) -> bool:
    """Streaming data: a list/tuple of DataFrames, a callable, or an iterator (not a frame, dict, array)."""
    if isinstance(data, pd.DataFrame | dict | np.ndarray | str | bytes) or hasattr(data, "columns"):
        return False
    if isinstance(data, list | tuple):
        return len(data) > 0 and all(isinstance(f, pd.DataFrame) for f in data)
    return callable(data) or isinstance(data, Iterator) or hasattr(data, "get_chunk")
