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


def check_eps(eps: Any) -> float:
    """The automatic grid's lower end as a fraction of alpha_max, strictly between 0 and 1."""
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"eps must be a number in (0, 1); got {eps!r}")
    value = float(eps)
    if not 0.0 < value < 1.0:
        raise ValueError(
            "eps must lie strictly between 0 and 1 (the grid runs from eps*alpha_max to alpha_max); "
            f"got {eps!r}"
        )
    return value


def check_seed(seed: Any) -> Any:
    """A seed numpy's default_rng accepts: None, a non-negative integer, or a Generator/SeedSequence."""
    if seed is None or isinstance(seed, np.random.Generator | np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be None or an integer >= 0; got {seed!r}")
    return seed


def check_positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def check_tol(tol: Any) -> float:
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not float(tol) >= 0:
        raise ValueError(f"tol must be a number >= 0; got {tol!r}")
    return float(tol)
