"""Validation at the boundary: arrays in, clear errors out (messages name the shape or column)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np


class DataConversionWarning(UserWarning):
    """The input was converted to the shape the estimator needs (as scikit-learn's warning)."""


def feature_names(X: Any) -> list[str] | None:
    """Column names of a DataFrame-like input, or None for arrays."""
    columns = getattr(X, "columns", None)
    return None if columns is None else [str(c) for c in columns]


def as_float_matrix(X: Any, *, name: str = "X", dtype: Any = np.float64) -> np.ndarray:
    """X as a finite 2-D float array with at least one row and one column."""
    if X is None:
        raise ValueError(f"{name} is None; expected a 2-D array-like")
    if hasattr(X, "tocsr") or hasattr(X, "toarray"):
        raise TypeError(f"sparse input is not supported for {name}; convert it with {name}.toarray()")
    arr = np.asarray(X)
    if np.iscomplexobj(arr):
        raise ValueError(f"Complex data not supported in {name}")
    if arr.dtype.kind in "OUS":
        try:
            arr = arr.astype(dtype)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{name} holds non-numeric values: {exc}") from exc
    arr = np.asarray(arr, dtype=dtype)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), got shape {arr.shape}. Reshape your data "
            "with X.reshape(-1, 1) for a single feature or X.reshape(1, -1) for a single sample"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} has 0 sample(s) (shape={arr.shape}) while a minimum of 1 is required.")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
    check_finite(arr, name)
    return arr


def as_float_vector(y: Any, n: int, *, name: str = "y") -> np.ndarray:
    """y as a finite 1-D float array of length n (a single-column 2-D y is accepted)."""
    if y is None:
        raise ValueError("this estimator requires y to be passed, but the target y is None")
    arr = np.asarray(y)
    if np.iscomplexobj(arr):
        raise ValueError(f"Complex data not supported in {name}")
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected; using y.ravel()",
            DataConversionWarning,
            stacklevel=3,
        )
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} should be a 1d array, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"X has {n} rows but {name} has {arr.shape[0]}")
    check_finite(arr, name)
    return arr


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise naming how many NaN / inf entries ``arr`` holds and where the first one is."""
    finite = np.isfinite(arr)
    if finite.all():
        return
    n_nan = int(np.isnan(arr).sum())
    n_inf = int((~finite).sum()) - n_nan
    first = tuple(int(i) for i in np.argwhere(~finite)[0])
    raise ValueError(f"{name} contains {n_nan} NaN and {n_inf} inf value(s); the first at index {first}")


def check_n_features(X: np.ndarray, expected: int, owner: str) -> None:
    if X.shape[1] != expected:
        raise ValueError(
            f"X has {X.shape[1]} features, but {owner} is expecting {expected} features as input"
        )
