"""Dropout: zero each unit with probability ``rate`` while training (inverted scaling)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstat.nn.layers.base import Layer


class Dropout(Layer):
    """Zero each input with probability ``rate`` while training, scaling the rest up.

    Forward (training): out = x ⊙ m / (1 − rate), with a fresh mask m of independent
    Bernoulli(1 − rate) draws on every pass; dividing by 1 − rate keeps E[out] = x, so
    evaluation mode is the identity, out = x. Backward: ∂E/∂x = ∂E/∂out ⊙ m / (1 − rate)
    (∂E/∂out itself in evaluation mode). No parameters.

    The layer owns its random generator; checkpoints save and restore its state, so a
    resumed run draws the same masks.

    PyTorch: ``torch.nn.Dropout`` (its ``p`` is ``rate`` here).

    Parameters
    ----------
    rate : float, default 0.5
        The probability of zeroing an input, in [0, 1).
    seed : int or None, default None
        Seed of the layer's generator; None draws from fresh entropy.

    Raises
    ------
    TypeError
        If ``rate`` is not a number.
    ValueError
        If ``rate`` is outside [0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import Dropout
    >>> layer = Dropout(0.5, seed=0)
    >>> out = layer.forward(np.ones((2, 4)))
    >>> sorted(set(out.ravel().tolist()))  # dropped or doubled
    [0.0, 2.0]
    >>> layer.eval().forward(np.ones((2, 4))).tolist()  # the identity at inference
    [[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]
    """

    splits_batch = True  # copies may each take a part of a batch, side by side (replica)

    def replica(self, part: int = 0) -> Layer | None:
        return None if self.training else super().replica(part)  # training: one random generator

    def __init__(self, rate: float = 0.5, *, seed: int | None = None) -> None:
        super().__init__()
        if isinstance(rate, bool) or not isinstance(rate, int | float):
            raise TypeError(f"Dropout rate must be a number in [0, 1), got {rate!r} ({type(rate).__name__})")
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate!r}")
        self.rate, self.seed = float(rate), seed
        self._rng = np.random.default_rng(seed)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if not self.training or self.rate == 0.0:
            self._scale = None
            return x
        keep = self._rng.random(x.shape) >= self.rate
        self._scale = keep.astype(x.dtype) / x.dtype.type(1.0 - self.rate)
        return x * self._scale

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        # ∂E/∂x = ∂E/∂out · m / (1 − rate)
        return grad_output if self._scale is None else grad_output * self._scale

    def config(self) -> dict[str, Any]:
        return {"rate": self.rate, "seed": self.seed}

    def random_state(self) -> dict[str, Any]:
        return dict(self._rng.bit_generator.state)

    def set_random_state(self, state: dict[str, Any]) -> None:
        self._rng.bit_generator.state = state
