"""Validation at the boundary of every estimator: arrays in, clear errors out.

Messages name the shape, the column or the parameter. Where scikit-learn's estimator
checks look for particular words ("Reshape your data", "sparse", "NaN"), the
messages contain them, so gradstat's estimators pass those checks without importing
scikit-learn at run time.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


class DataConversionWarning(UserWarning):
    """The input was converted to the shape the estimator needs."""


class ConvergenceWarning(UserWarning):
    """An iterative solver stopped before meeting its tolerance.

    Parameters
    ----------
    message : str
        Names the solver, the iterations used and the duality gap reached.
    """


def check_flag(value: Any, name: str) -> bool:
    """A True/False switch; anything else (``"no"``, ``None``, ``2``) names the parameter."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def feature_names(X: Any) -> NDArray[np.object_] | None:
    """Column names of a DataFrame whose columns are all strings, else None."""
    columns = getattr(X, "columns", None)
    if columns is None:
        return None
    names = np.asarray(list(columns), dtype=object)
    if len(names) and all(isinstance(c, str) for c in names):
        return names
    return None


def check_X(X: Any, *, name: str = "X", min_samples: int = 1, dtype: Any = np.float64) -> np.ndarray:
    """X as a finite 2-D float array with at least ``min_samples`` rows and one column."""
    if X is None:
        raise ValueError(f"{name} is None; expected a 2-D array of shape (n_samples, n_features)")
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(f"sparse input is not supported for {name}; pass {name}.toarray()")
    arr = np.asarray(X)
    if np.iscomplexobj(arr):
        raise ValueError(f"Complex data not supported in {name}")
    arr = np.asarray(arr, dtype=dtype)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D of shape (n_samples, n_features); got shape {arr.shape}. "
            "Reshape your data: X.reshape(-1, 1) for a single feature, X.reshape(1, -1) "
            "for a single sample."
        )
    n, p = arr.shape
    if n < min_samples:
        raise ValueError(
            f"{name} has {n} sample(s) (shape={arr.shape}) while a minimum of {min_samples} is required."
        )
    if p < 1:
        raise ValueError(f"{name} has 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
    # a finite sum proves every entry finite; only then is the full scan skipped
    if not np.isfinite(arr.sum()) and not np.isfinite(arr).all():
        bad = np.flatnonzero(~np.isfinite(arr).all(axis=0))
        raise ValueError(f"{name} contains NaN or inf values (non-finite) in column(s) {bad[:10].tolist()}")
    return arr


def check_y(y: Any, n_samples: int, *, numeric: bool = True, multi_output: bool = False) -> np.ndarray:
    """y as a 1-D array of length ``n_samples`` (finite floats when ``numeric``; (n, k) when multi_output)."""
    if y is None:
        raise ValueError("this estimator requires y to be passed, but the target y is None")
    arr = np.asarray(y)
    if np.iscomplexobj(arr):
        raise ValueError("Complex data not supported in y")
    if numeric:
        arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1 and not multi_output:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected; it was flattened.",
            DataConversionWarning,
            stacklevel=3,
        )
        arr = arr.ravel()
    if arr.ndim != 1 and not (multi_output and arr.ndim == 2):
        raise ValueError(f"y must be 1-D (one target); got shape {arr.shape}")
    if arr.shape[0] != n_samples:
        raise ValueError(f"X has {n_samples} samples but y has {arr.shape[0]}")
    if numeric and not np.isfinite(arr).all():
        raise ValueError("y contains NaN or inf values (non-finite)")
    return arr


def check_feature_names(estimator: Any, X: Any) -> None:
    """At predict time, X's column names must be those seen in fit (warn when one side has none)."""
    names = feature_names(X)
    fitted = getattr(estimator, "feature_names_in_", None)
    owner = type(estimator).__name__
    if names is not None and fitted is None:
        warnings.warn(
            f"X has feature names, but {owner} was fitted without feature names", UserWarning, stacklevel=3
        )
    elif names is None and fitted is not None:
        warnings.warn(
            f"X does not have valid feature names, but {owner} was fitted with feature names",
            UserWarning,
            stacklevel=3,
        )
    elif names is not None and fitted is not None and (len(names) != len(fitted) or (names != fitted).any()):
        raise ValueError(
            "The feature names should match those that were passed during fit.\n"
            f"Fitted with: {list(fitted)}\nGot: {list(names)}"
        )


def check_n_features(X: np.ndarray, expected: int, owner: str) -> None:
    if X.shape[1] != expected:
        raise ValueError(
            f"X has {X.shape[1]} features, but {owner} is expecting {expected} features as input."
        )


def check_weights(
    weights: Any, n_samples: int, name: str = "sample_weight", *, allow_nan: bool = False
) -> np.ndarray:
    """One finite weight ≥ 0 per sample (a scalar is broadcast), not all 0; NaN only when allowed."""
    try:
        arr = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric; got {np.asarray(weights).dtype} values") from exc
    if arr.ndim == 0:
        arr = np.full(n_samples, float(arr))
    if arr.ndim != 1 or arr.shape[0] != n_samples:
        raise ValueError(
            f"{name} must have one weight per sample, shape ({n_samples},); got shape {arr.shape}"
        )
    nan = np.isnan(arr)
    if nan.any() and not allow_nan:
        raise ValueError(f"{name} contains {int(nan.sum())} NaN value(s)")
    if np.isinf(arr).any():
        raise ValueError(
            f"{name} contains {int(np.isinf(arr).sum())} infinite value(s); weights must be finite"
        )
    negative = np.flatnonzero(arr < 0)
    if negative.size:
        raise ValueError(
            f"{name} must be >= 0; {negative.size} negative value(s), first at row {negative[0]}"
        )
    if not (arr[~nan] > 0).any():
        raise ValueError(f"{name}: every weight is zero, so there is nothing to fit")
    return arr
