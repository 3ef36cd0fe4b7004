"""Named convolutional architectures (LeNet-style), built as ``Sequential`` models.

``build(name, input_shape, n_classes)`` returns a fresh model; the names are
what ``gradstat train images --arch`` accepts.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gradstat.nn.layers.activations import ReLU
from gradstat.nn.layers.conv import Conv2D
from gradstat.nn.layers.dense import Dense
from gradstat.nn.layers.dropout import Dropout
from gradstat.nn.layers.init import Seed
from gradstat.nn.layers.pool import MaxPool2D
from gradstat.nn.layers.reshape import Flatten
from gradstat.nn.layers.sequential import Sequential

Shape3 = tuple[int, int, int]


def _seeds(seed: Seed, n: int) -> list[int | None]:
    """Independent per-layer seeds from one seed (None stays unseeded)."""
    if seed is None:
        return [None] * n
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return [int(s) for s in rng.integers(0, 2**31, size=n)]


def lenet5(input_shape: Shape3 = (1, 28, 28), n_classes: int = 10, seed: Seed = None) -> Sequential:
    """LeNet-5 with ReLU and max pooling: conv 5×5×6 pad 2, pool 2, conv 5×5×16, pool 2,
    FC 120-84-n_classes. H and W must be multiples of 4, at least 12 (28×28 gives the
    classic 16×5×5 = 400 features)."""
    c, h, w = input_shape
    s = _seeds(seed, 5)
    features = 16 * ((h // 2 - 4) // 2) * ((w // 2 - 4) // 2)
    return Sequential(
        [
            Conv2D(c, 6, 5, padding=2, seed=s[0]),
            ReLU(),
            MaxPool2D(2),
            Conv2D(6, 16, 5, seed=s[1]),
            ReLU(),
            MaxPool2D(2),
            Flatten(),
            Dense(features, 120, init="he_uniform", seed=s[2]),
            ReLU(),
            Dense(120, 84, init="he_uniform", seed=s[3]),
            ReLU(),
            Dense(84, n_classes, seed=s[4]),
        ],
        input_shape=input_shape,
    )


def lenet_small(input_shape: Shape3 = (1, 8, 8), n_classes: int = 10, seed: Seed = None) -> Sequential:
    """A LeNet for small images (the 8×8 digits): conv 3×3×16 and 3×3×32 (pad 1), pool 2,
    conv 3×3×32 pad 1, pool 2, dropout 0.25, FC 64, FC n_classes.
    H and W must be multiples of 4."""
    c, h, w = input_shape
    s = _seeds(seed, 6)
    return Sequential(
        [
            Conv2D(c, 16, 3, padding=1, seed=s[0]),
            ReLU(),
            Conv2D(16, 32, 3, padding=1, seed=s[1]),
            ReLU(),
            MaxPool2D(2),
            Conv2D(32, 32, 3, padding=1, seed=s[2]),
            ReLU(),
            MaxPool2D(2),
            Flatten(),
            Dropout(0.25, seed=s[3]),
            Dense(32 * (h // 4) * (w // 4), 64, init="he_uniform", seed=s[4]),
            ReLU(),
            Dense(64, n_classes, seed=s[5]),
        ],
        input_shape=input_shape,
    )


def lenet(input_shape: Shape3, n_classes: int = 10, seed: Seed = None) -> Sequential:
    """The LeNet that fits the images: LeNet-5 from 20×20 up, the small LeNet below."""
    small = min(input_shape[1:]) < 20
    return (lenet_small if small else lenet5)(input_shape, n_classes, seed)


ARCHITECTURES: dict[str, Callable[..., Sequential]] = {
    "lenet": lenet,
    "lenet5": lenet5,
    "lenet-small": lenet_small,
}


def build(name: str, input_shape: Shape3, n_classes: int, seed: Seed = None) -> Sequential:
    """The architecture ``name`` (one of ``ARCHITECTURES``) for ``input_shape`` images."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; choose one of {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[name](input_shape, n_classes, seed)
