"""Activation layers: element-wise non-linearities and softmax.

Each caches its output (or mask) in ``forward`` and multiplies the incoming
gradient by the local derivative in ``backward``.
"""

from __future__ import annotations

import numpy as np

from gradstat.nn.layer import Layer


class Sigmoid(Layer):
    """out = 1 / (1 + e^(-net));  ∂out/∂net = out (1 − out)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        # 1/(1+e^-x) = (1 + tanh(x/2)) / 2: no overflow for large |x|
        out = np.tanh(x * 0.5)
        out += 1.0
        out *= 0.5
        self._out = out
        return out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        out = self._out
        return grad_output * out * (1.0 - out)  # ∂E/∂net = ∂E/∂out · out(1 − out)


class Tanh(Layer):
    """out = tanh(net);  ∂out/∂net = 1 − out²."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._out = np.tanh(x)
        return self._out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        out = self._out
        return grad_output * (1.0 - out * out)  # ∂E/∂net = ∂E/∂out · (1 − out²)


class ReLU(Layer):
    """out = max(net, 0);  ∂out/∂net = 1 if net > 0 else 0."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._mask = x > 0
        return np.maximum(x, 0)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        grad = grad_output * self._mask  # ∂E/∂net = ∂E/∂out · 1[net > 0]
        return grad


class Softmax(Layer):
    """out_k = e^(net_k) / Σ_j e^(net_j) over the last axis;
    ∂E/∂net = out ⊙ (∂E/∂out − Σ_k out_k ∂E/∂out_k).

    For classification prefer raw logits with ``CrossEntropy``, which fuses the
    two so the gradient is ŷ − y.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        z = x - x.max(axis=-1, keepdims=True)
        e = np.exp(z)
        self._out = e / e.sum(axis=-1, keepdims=True)
        return self._out

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        s = self._out
        inner = (grad_output * s).sum(axis=-1, keepdims=True)
        return s * (grad_output - inner)  # Jacobian diag(s) − s s' applied to the gradient
