"""Least squares on Dask: ``ols(formula, data=dask_dataframe)`` and ``OLS().fit(dask_X, dask_y)``.

Each partition is reduced to the ``R`` factor of its ``[X | y]`` (see
:mod:`gradstat.linear.streaming`) and the partials are combined pairwise in a tree
(TSQR), as ``dask.delayed`` tasks computed by the current scheduler: the local
threaded scheduler by default, a ``dask.distributed`` cluster when a ``Client`` is
active.  Every task is a pure function of its partition, so a task lost with a
worker is recomputed and the result is unchanged.  Dask is imported here only.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from gradstat.linear.design import INTERCEPT, DesignLayout, Missing
from gradstat.linear.kernels import DD, fitted_dd, reduce_gram
from gradstat.linear.lstsq import LeastSquaresFit
from gradstat.linear.results import CovType, OutOfCoreOLSResults, sandwich_meat
from gradstat.linear.streaming import AtBlock, Partial, add_gram, add_matrix, finish, fit_formula
from gradstat.threads import small_products

T = TypeVar("T")


def _tree(parts: list[Any], fn: Callable[..., T], combine: Callable[[T, T], T]) -> T:
    """``combine`` over ``fn`` of every partition, pairwise in a tree, computed by the active scheduler."""
    import dask

    level = [dask.delayed(fn, pure=True)(*p) for p in parts]
    while len(level) > 1:
        pairs = [
            dask.delayed(combine, pure=True)(a, b) for a, b in zip(level[::2], level[1::2], strict=False)
        ]
        level = pairs + ([level[-1]] if len(level) % 2 else [])
    # the partitions run in parallel (one per scheduler thread): BLAS threads on top would only
    # oversubscribe the cores, and a row block's QR is level-2 BLAS (see gradstat.threads)
    with small_products():
        (out,) = dask.compute(level[0])
    return out


class DaskFrameSource:
    """The partitions of a Dask DataFrame as row blocks."""

    def __init__(self, ddf: Any) -> None:
        self.parts = list(enumerate(ddf.to_delayed()))

    def map_reduce(self, fn: Callable[..., T], combine: Callable[[T, T], T]) -> T:
        return _tree(self.parts, AtBlock(fn, "partition"), combine)


def ols_dask(
    formula: str,
    ddf: Any,
    *,
    missing: Missing = "raise",
    cov_type: CovType = "nonrobust",
    rank_tol: float | None = None,
) -> OutOfCoreOLSResults:
    """``ols`` on a Dask DataFrame: categorical levels agreed first (when there are any), then TSQR."""
    if not hasattr(ddf, "to_delayed") or not hasattr(ddf, "columns"):
        raise TypeError(f"data must be a Dask DataFrame, got {type(ddf).__name__}")
    meta = ddf._meta
    categorical = any(not pd.api.types.is_numeric_dtype(meta[c]) for c in meta.columns)
    return fit_formula(
        DaskFrameSource(ddf),
        formula,
        list(ddf.columns),
        missing=missing,
        cov_type=cov_type,
        needs_levels=categorical or "C(" in formula.replace(" ", ""),
        rank_tol=rank_tol,
    )


# -- arrays -------------------------------------------------------------------------------------


def _array_block(X: np.ndarray, y: np.ndarray, intercept: bool) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise ValueError("X or y contains NaN or inf values (non-finite) in a chunk; clean them first")
    if intercept:
        X = np.column_stack([np.ones(X.shape[0]), X])
    return X, y


def _reduce_arrays(X: np.ndarray, y: np.ndarray, intercept: bool) -> tuple[Partial, np.ndarray, np.ndarray]:
    Xa, ya = _array_block(X, y, intercept)
    if Xa.shape[0] == 0:
        k = Xa.shape[1]
        return Partial.of_block(Xa, ya, 0, None), np.full(k, np.inf), np.full(k, -np.inf)
    return Partial.of_block(Xa, ya, 0, None), Xa.min(axis=0), Xa.max(axis=0)


def _combine_arrays(
    a: tuple[Partial, np.ndarray, np.ndarray], b: tuple[Partial, np.ndarray, np.ndarray]
) -> tuple[Partial, np.ndarray, np.ndarray]:
    return a[0].combine(b[0]), np.minimum(a[1], b[1]), np.maximum(a[2], b[2])


class DaskArraySource:
    """Row chunks of a Dask array pair ``(X, y)``, with the intercept column prepended per chunk."""

    def __init__(self, X: Any, y: Any) -> None:
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n, k), got shape {X.shape}")
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
        if X.chunks[0] != y.chunks[0]:
            raise ValueError(
                f"X and y are chunked differently along the rows: X {X.chunks[0]}, y {y.chunks[0]}; "
                "rechunk one to the other (y = y.rechunk({0: X.chunks[0]}))"
            )
        X = X.rechunk({1: -1})
        xs, ys = X.to_delayed().reshape(-1), y.to_delayed().reshape(-1)
        self.parts = list(zip(xs, ys, strict=True))

    def map_reduce(self, fn: Callable[..., T], combine: Callable[[T, T], T]) -> T:
        return _tree(self.parts, fn, combine)


def _gram_block(
    X: np.ndarray, y: np.ndarray, intercept: bool, kept: np.ndarray, scale: np.ndarray, bits: int
) -> DD | None:
    Xa, ya = _array_block(X, y, intercept)
    if Xa.shape[0] == 0:
        return None
    return reduce_gram(Xa, ya, kept, scale[:-1], float(scale[-1]), bits)


def _sse_block(
    X: np.ndarray, y: np.ndarray, intercept: bool, z: DD, kept: np.ndarray, scale: np.ndarray
) -> float:
    Xa, ya = _array_block(X, y, intercept)
    _, resid = fitted_dd(Xa, ya, z, kept, scale[:-1], float(scale[-1]))
    return float(resid @ resid)


def _array_source(X: Any, y: Any) -> DaskArraySource:
    """Row chunks of Dask arrays (a Dask DataFrame / Series is turned into arrays first)."""
    if hasattr(X, "to_dask_array"):
        X = X.to_dask_array(lengths=True)
    if hasattr(y, "to_dask_array"):
        y = y.to_dask_array(lengths=True)
    return DaskArraySource(X, y)


def _reduce(source: DaskArraySource, fit_intercept: bool) -> tuple[Partial, np.ndarray, np.ndarray]:
    partial, cmin, cmax = source.map_reduce(lambda a, b: _reduce_arrays(a, b, fit_intercept), _combine_arrays)
    if partial.r is None:
        raise ValueError("X has 0 rows: no data to fit")
    return partial, cmin, cmax


def r_factor_arrays(X: Any, y: Any, fit_intercept: bool) -> tuple[np.ndarray, int]:
    """R of ``[1 | X | y]`` (``[X | y]`` without intercept) over every row chunk, and n.

    R'R = [X | y]'[X | y], so any least-squares problem on these rows — ridge among them —
    can be solved from this small triangle (the TSQR reduction, never X'X).
    """
    partial, _, _ = _reduce(_array_source(X, y), fit_intercept)
    return partial.r_unscaled(), partial.moments.n


def _meat_block(
    X: np.ndarray, y: np.ndarray, intercept: bool, solution: LeastSquaresFit, cov_type: str
) -> np.ndarray | None:
    Xa, ya = _array_block(X, y, intercept)
    if Xa.shape[0] == 0:
        return None
    kept = ~solution.aliased
    return sandwich_meat(Xa, ya - Xa[:, kept] @ solution.coef[kept], solution, cov_type)


def fit_arrays(X: Any, y: Any, fit_intercept: bool, cov_type: CovType = "nonrobust") -> OutOfCoreOLSResults:
    """The OLS results of dask arrays ``X`` (chunked by rows) and ``y`` (the same row chunks).

    A Dask DataFrame ``X`` / Series ``y`` is turned into arrays (its column names kept).
    """
    given = getattr(X, "columns", None)
    names = [str(c) for c in given] if given is not None else [f"x{j}" for j in range(X.shape[1])]
    response = str(getattr(y, "name", None) or "y")
    source = _array_source(X, y)
    partial, cmin, cmax = _reduce(source, fit_intercept)
    if fit_intercept:
        names = [INTERCEPT, *names]
    has_const = fit_intercept or bool(np.any((cmin == cmax) & (cmax != 0.0)))
    layout = DesignLayout(
        column_names=names,
        terms={name: [j] for j, name in enumerate(names)},
        has_intercept=has_const,
        response=response,
        formula=f"{response} ~ {' + '.join(names)}",
        n_dropped=0,
    )

    def gram(kept: np.ndarray, scale: np.ndarray, bits: int) -> DD:
        g = source.map_reduce(lambda a, b: _gram_block(a, b, fit_intercept, kept, scale, bits), add_gram)
        assert g is not None
        return g

    def sse(z: DD, kept: np.ndarray, scale: np.ndarray) -> float:
        return source.map_reduce(lambda a, b: _sse_block(a, b, fit_intercept, z, kept, scale), operator.add)

    def meat(solution: LeastSquaresFit) -> np.ndarray:
        total = source.map_reduce(
            lambda a, b: _meat_block(a, b, fit_intercept, solution, cov_type), add_matrix
        )
        assert total is not None
        return total

    return finish(partial, layout, gram, sse, cov_type, meat)
