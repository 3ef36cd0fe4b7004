"""Checks of the penalty parameters (arrays are checked by ``gradstat.validation``)."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from gradstat.validation import Array


def check_alpha(alpha: Any, name: str = "alpha") -> float:
    """A single non-negative, finite penalty."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {alpha!r}")
    value = float(alpha)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0; got {alpha!r}")
    return value


def check_alphas(alphas: Any, name: str = "alphas") -> Array:
    """A non-empty 1-D array of non-negative, finite penalties."""
    arr = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence; got shape {arr.shape}")
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise ValueError(f"{name} must be finite and >= 0; got {arr[~(np.isfinite(arr) & (arr >= 0))][:5]}")
    return arr


def check_l1_ratio(l1_ratio: Any) -> float:
    """The elastic-net mixing parameter, in [0, 1]."""
    if isinstance(l1_ratio, bool) or not isinstance(l1_ratio, numbers.Real):
        raise TypeError(f"l1_ratio must be a real number in [0, 1]; got {l1_ratio!r}")
    value = float(l1_ratio)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"l1_ratio must lie in [0, 1]; got {l1_ratio!r}")
    return value


def check_positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def check_tol(tol: Any) -> float:
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not float(tol) >= 0:
        raise ValueError(f"tol must be a number >= 0; got {tol!r}")
    return float(tol)
