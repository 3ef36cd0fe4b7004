"""Seeded weight initialisers.

Xavier/Glorot keeps the variance of activations constant through tanh/sigmoid
layers, Var(w) = 2 / (fan_in + fan_out); He/Kaiming does it for ReLU,
Var(w) = 2 / fan_in. ``shape`` is (fan_out, fan_in), as ``Dense.params["weight"]``.
"""

from __future__ import annotations

import numpy as np

Seed = int | np.random.Generator | None

INITIALISERS = ("xavier_uniform", "xavier_normal", "he_uniform", "he_normal", "zeros")


def _rng(seed: Seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a (out, in, *kernel) weight."""
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    fan_in = shape[1] * receptive if len(shape) > 1 else shape[0]
    return fan_in, shape[0] * receptive


def initialise(
    name: str, shape: tuple[int, ...], seed: Seed = None, dtype: np.dtype | str = "float32"
) -> np.ndarray:
    """Draw a weight of ``shape`` with the initialiser ``name`` (one of ``INITIALISERS``)."""
    if name not in INITIALISERS:
        raise ValueError(f"init must be one of {INITIALISERS}, got {name!r}")
    fan_in, fan_out = _fans(shape)
    rng = _rng(seed)
    if name == "zeros":
        return np.zeros(shape, dtype=dtype)
    if name.startswith("xavier"):
        var = 2.0 / (fan_in + fan_out)  # Glorot: Var(w) = 2 / (fan_in + fan_out)
    else:
        var = 2.0 / fan_in  # He: Var(w) = 2 / fan_in
    if name.endswith("uniform"):
        limit = np.sqrt(3.0 * var)  # U(-a, a) has variance a²/3
        w = rng.uniform(-limit, limit, size=shape)
    else:
        w = rng.normal(0.0, np.sqrt(var), size=shape)
    return w.astype(dtype)


def xavier_uniform(shape: tuple[int, ...], seed: Seed = None) -> np.ndarray:
    """U(-a, a) with a = √(6 / (fan_in + fan_out)), float64."""
    return initialise("xavier_uniform", shape, seed, "float64")


def xavier_normal(shape: tuple[int, ...], seed: Seed = None) -> np.ndarray:
    """N(0, 2 / (fan_in + fan_out)), float64."""
    return initialise("xavier_normal", shape, seed, "float64")


def he_uniform(shape: tuple[int, ...], seed: Seed = None) -> np.ndarray:
    """U(-a, a) with a = √(6 / fan_in), float64."""
    return initialise("he_uniform", shape, seed, "float64")


def he_normal(shape: tuple[int, ...], seed: Seed = None) -> np.ndarray:
    """N(0, 2 / fan_in), float64."""
    return initialise("he_normal", shape, seed, "float64")
