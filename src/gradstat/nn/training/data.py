"""Checks and splits of training data, shared by ``Trainer`` and ``Sequential``."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np


def check_inputs(X: Any, name: str) -> np.ndarray:
    """``X`` as a numeric array with a batch axis and no NaN or infinite value."""
    X = np.asarray(X)
    if X.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be numeric, got dtype {X.dtype}")
    if X.ndim < 2:
        raise ValueError(f"{name} must have a batch axis and features, got shape {X.shape}")
    # one pass: the sum is finite whenever all values are (an overflowing sum of finite values
    # falls through to the exact count)
    if X.dtype.kind == "f" and not math.isfinite(X.sum()):
        bad = np.count_nonzero(~np.isfinite(X))
        if bad:
            raise ValueError(f"{name} contains {bad} NaN or infinite values")
    return X


def check_targets(y: Any, n: int, name: str, x_name: str) -> np.ndarray:
    """Targets for ``n`` samples: one row each, numeric, no NaN or infinite value."""
    y = np.asarray(y)
    if y.ndim == 0 or len(y) != n:
        raise ValueError(f"{x_name} has {n} samples but {name} has {y.shape[0] if y.ndim else 'no axis'}")
    if y.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be numeric, got dtype {y.dtype}")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        bad = int(np.count_nonzero(~np.isfinite(y)))
        raise ValueError(f"{name} contains {bad} NaN or infinite values")
    return y


def split_validation(
    X: np.ndarray, y: np.ndarray, fraction: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Keras' ``validation_split``: the last ``fraction`` of the rows, taken before any
    shuffling, is held out — (X_train, y_train, X_val, y_val)."""
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not (0 < fraction < 1):
        raise ValueError(f"validation_split must lie in (0, 1), got {fraction!r}")
    cut = math.floor(len(X) * (1.0 - fraction))  # Keras' split_at
    if cut == 0 or cut == len(X):
        raise ValueError(
            f"validation_split={fraction} of {len(X)} samples leaves "
            f"{'no training' if cut == 0 else 'no validation'} samples"
        )
    return X[:cut], y[:cut], X[cut:], y[cut:]


def minibatches(
    X: np.ndarray, y: np.ndarray, batch_size: int, order: np.ndarray
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(x, y) batches of ``batch_size`` rows in ``order``; x reuses one buffer."""
    n = len(X)
    buffer = np.empty((min(batch_size, n), *X.shape[1:]), dtype=X.dtype)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        # mode="clip" stops numpy buffering the copy again
        yield np.take(X, idx, axis=0, out=buffer[: len(idx)], mode="clip"), y[idx]
