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
    """Xavier/Glorot uniform weights: U(−a, a), a = √(6 / (fan_in + fan_out)).

    Glorot & Bengio's initialisation, for tanh and sigmoid layers: the draw keeps the
    variance of the activations (forward) and of the gradients (backward) about constant
    from layer to layer. Var(w) = a²/3 = 2 / (fan_in + fan_out).
    fan_in and fan_out come from ``shape`` = (fan_out, fan_in, kernel…), the layout of
    ``Dense.params["weight"]`` and of the convolutions' weights; a kernel multiplies both
    fans by its size.

    PyTorch: ``torch.nn.init.xavier_uniform_``.

    Parameters
    ----------
    shape : tuple of int
        (fan_out, fan_in) or (out_channels, in_channels, kernel…).
    seed : int, numpy.random.Generator or None, default None
        Seed or generator of the draw; None draws from fresh entropy.

    Returns
    -------
    numpy.ndarray
        float64 weights of ``shape``.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import xavier_uniform
    >>> w = xavier_uniform((256, 128), seed=0)
    >>> w.shape, w.dtype.name
    ((256, 128), 'float64')
    >>> bool(np.abs(w).max() <= np.sqrt(6 / (128 + 256)))
    True
    """
    return initialise("xavier_uniform", shape, seed, "float64")


def xavier_normal(shape: tuple[int, ...], seed: Seed = None) -> np.ndarray:
    """Xavier/Glorot normal weights: N(0, 2 / (fan_in + fan_out)).

    Glorot & Bengio's initialisation, for tanh and sigmoid layers: the draw keeps the
    variance of the activations (forward) and of the gradients (backward) about constant
    from layer to layer.
    fan_in and fan_out come from ``shape`` = (fan_out, fan_in, kernel…), the layout of
    ``Dense.params["weight"]`` and of the convolutions' weights; a kernel multiplies both
    fans by its size.

    PyTorch: ``torch.nn.init.xavier_normal_``.

    Parameters
    ----------
    shape : tuple of int
        (fan_out, fan_in) or (out_channels, in_channels, kernel…).
    seed : int, numpy.random.Generator or None, default None
        Seed or generator of the draw; None draws from fresh entropy.

    Returns
    -------
    numpy.ndarray
        float64 weights of ``shape``.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import xavier_normal
    >>> w = xavier_normal((256, 128), seed=0)
    >>> w.shape, w.dtype.name
    ((256, 128), 'float64')
    >>> round(float(w.std() / np.sqrt(2 / (128 + 256))), 1)
    1.0
    """
    return initialise("xavier_normal", shape, seed, "float64")


def he_uniform(shape: tuple[int, ...], seed: Seed = None) -> np.ndarray:
    """He/Kaiming uniform weights: U(−a, a), a = √(6 / fan_in).

    He et al.'s initialisation, for ReLU layers: the draw keeps the variance of the
    activations about constant through ReLU layers, which zero half their inputs. Var(w)
    = a²/3 = 2 / fan_in.
    fan_in and fan_out come from ``shape`` = (fan_out, fan_in, kernel…), the layout of
    ``Dense.params["weight"]`` and of the convolutions' weights; a kernel multiplies both
    fans by its size.

    PyTorch: ``torch.nn.init.kaiming_uniform_(nonlinearity='relu')``.

    Parameters
    ----------
    shape : tuple of int
        (fan_out, fan_in) or (out_channels, in_channels, kernel…).
    seed : int, numpy.random.Generator or None, default None
        Seed or generator of the draw; None draws from fresh entropy.

    Returns
    -------
    numpy.ndarray
        float64 weights of ``shape``.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import he_uniform
    >>> w = he_uniform((256, 128), seed=0)
    >>> w.shape, w.dtype.name
    ((256, 128), 'float64')
    >>> bool(np.abs(w).max() <= np.sqrt(6 / 128))
    True
    """
    return initialise("he_uniform", shape, seed, "float64")


def he_normal(shape: tuple[int, ...], seed: Seed = None) -> np.ndarray:
    """He/Kaiming normal weights: N(0, 2 / fan_in).

    He et al.'s initialisation, for ReLU layers: the draw keeps the variance of the
    activations about constant through ReLU layers, which zero half their inputs.
    fan_in and fan_out come from ``shape`` = (fan_out, fan_in, kernel…), the layout of
    ``Dense.params["weight"]`` and of the convolutions' weights; a kernel multiplies both
    fans by its size.

    PyTorch: ``torch.nn.init.kaiming_normal_(nonlinearity='relu')``.

    Parameters
    ----------
    shape : tuple of int
        (fan_out, fan_in) or (out_channels, in_channels, kernel…).
    seed : int, numpy.random.Generator or None, default None
        Seed or generator of the draw; None draws from fresh entropy.

    Returns
    -------
    numpy.ndarray
        float64 weights of ``shape``.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import he_normal
    >>> w = he_normal((256, 128), seed=0)
    >>> w.shape, w.dtype.name
    ((256, 128), 'float64')
    >>> round(float(w.std() / np.sqrt(2 / 128)), 1)
    1.0
    """
    return initialise("he_normal", shape, seed, "float64")
