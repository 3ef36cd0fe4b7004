"""Flatten: the bridge from convolutional feature maps to fully connected layers."""

from __future__ import annotations

import numpy as np

from gradstat.nn.layers.base import Layer, Shape


class Flatten(Layer):
    """Flatten everything after the batch axis: (batch, d1, d2, …) → (batch, d1·d2·…).

    Forward: a reshape in C order (the last axis varies fastest, as PyTorch). Backward:
    no arithmetic, ∂E/∂x is ∂E/∂out reshaped back to the input's shape. No parameters.

    PyTorch: ``torch.nn.Flatten()`` (``start_dim=1``); the same element order, so a
    ``Dense`` after it takes PyTorch's weights unchanged.

    Raises
    ------
    ValueError
        From `forward`, for input without an axis after the batch.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import Flatten
    >>> layer = Flatten()
    >>> layer.forward(np.zeros((2, 3, 4, 5))).shape
    (2, 60)
    >>> layer.backward(np.zeros((2, 60))).shape
    (2, 3, 4, 5)
    """

    splits_batch = True  # copies may each take a part of a batch, side by side (replica)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim < 2:
            raise ValueError(f"Flatten expects (batch, ...) input, got shape {x.shape}")
        self._in_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        # ∂E/∂x is ∂E/∂out put back into the input's shape
        return np.asarray(grad_output).reshape(self._in_shape)

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) < 2 or any(d is None for d in input_shape[1:]):
            raise ValueError(f"Flatten needs the sizes after the batch axis, got {input_shape}")
        return (input_shape[0], int(np.prod(input_shape[1:])))  # type: ignore[arg-type]
