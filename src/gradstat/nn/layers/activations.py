"""Activation layers: element-wise non-linearities and softmax.

Each caches its output (or mask) in ``forward`` and multiplies the incoming
gradient by the local derivative in ``backward``.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np
from scipy.special import erf

from gradstat.nn.layers.base import Layer, memory_order, undo_order


class Sigmoid(Layer):
    """The logistic function, element by element.

    Forward: out = 1 / (1 + e^(−net)). Backward: ∂out/∂net = out (1 − out), so
    ∂E/∂net = ∂E/∂out ⊙ out ⊙ (1 − out) — the factor (2) of the notes' worked example.
    The forward pass evaluates (1 + tanh(net/2)) / 2, which cannot overflow.

    PyTorch: ``torch.nn.Sigmoid``. No parameters.

    See Also
    --------
    Tanh : the same shape of curve on (−1, 1).

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import Sigmoid
    >>> layer = Sigmoid()
    >>> layer.forward(np.array([[0.0, 1.105905967]])).round(6).tolist()
    [[0.5, 0.751365]]
    >>> layer.backward(np.ones((1, 2))).round(4).tolist()  # out (1 − out)
    [[0.25, 0.1868]]
    """

    splits_batch = True  # copies may each take a part of a batch, side by side (replica)

    def forward(self, x: np.ndarray) -> np.ndarray:
        # 1/(1+e^-x) = (1 + tanh(x/2)) / 2: no overflow for large |x|
        out = np.tanh(x * 0.5)
        out += 1.0
        out *= 0.5
        self._out = out
        return out

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        out = self._out
        return grad_output * out * (1.0 - out)  # ∂E/∂net = ∂E/∂out · out(1 − out)


class Tanh(Layer):
    """The hyperbolic tangent, element by element.

    Forward: out = tanh(net). Backward: ∂out/∂net = 1 − out², so
    ∂E/∂net = ∂E/∂out ⊙ (1 − out²).

    PyTorch: ``torch.nn.Tanh``. No parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import Tanh
    >>> layer = Tanh()
    >>> layer.forward(np.array([0.0, 0.5])).round(4).tolist()
    [0.0, 0.4621]
    >>> layer.backward(np.ones(2)).round(4).tolist()  # 1 − out²
    [1.0, 0.7864]
    """

    splits_batch = True  # copies may each take a part of a batch, side by side (replica)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._out = np.tanh(x)
        return self._out

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        out = self._out
        return grad_output * (1.0 - out * out)  # ∂E/∂net = ∂E/∂out · (1 − out²)


@numba.njit(cache=True, nogil=True)
def _relu(x, out, mask, zero):
    for i in range(x.size):
        v = x[i]
        mask[i] = v > 0
        out[i] = zero if v <= 0 else v  # NaN passes through, as in PyTorch


@numba.njit(cache=True, nogil=True)
def _relu_grad(g, mask, out, zero):
    for i in range(g.size):
        out[i] = g[i] if mask[i] else zero


class ReLU(Layer):
    """The rectified linear unit, element by element.

    Forward: out = max(net, 0) = net · 1[net > 0]. Backward: ∂out/∂net = 1[net > 0],
    so ∂E/∂net = ∂E/∂out where net > 0 and 0 elsewhere (at net = 0 too, as PyTorch).
    NaN passes through.

    Both passes are one compiled loop over the arrays in their memory order, so
    the channels-last feature maps of the convolutions are not copied.

    PyTorch: ``torch.nn.ReLU``. No parameters.

    See Also
    --------
    LeakyReLU : a small slope instead of 0 for negative inputs.
    GELU : a smooth alternative.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import ReLU
    >>> layer = ReLU()
    >>> layer.forward(np.array([-1.0, 0.0, 2.0])).tolist()
    [0.0, 0.0, 2.0]
    >>> layer.backward(np.array([5.0, 5.0, 5.0])).tolist()
    [0.0, 0.0, 5.0]
    """

    splits_batch = True  # copies may each take a part of a batch, side by side (replica)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype.kind != "f":
            self._mask, self._order = x > 0, None
            return np.maximum(x, 0)
        order = memory_order(x)
        if order is None:
            x = np.ascontiguousarray(x)
            order = tuple(range(x.ndim))
        xt = x.transpose(order)  # C-contiguous: x in its memory order
        out, mask = np.empty_like(xt, order="C"), np.empty(xt.shape, bool)
        _relu(xt.reshape(-1), out.reshape(-1), mask.reshape(-1), x.dtype.type(0))  # max(net, 0)
        self._mask, self._order = mask, order
        return out.transpose(undo_order(order))

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        g, mask, order = np.asarray(grad_output), self._mask, self._order
        if order is None:
            return g * mask  # ∂E/∂net = ∂E/∂out · 1[net > 0]
        gt = g.transpose(order)  # mask is stored in this order
        if gt.shape != mask.shape or g.dtype.kind != "f":
            return g * mask.transpose(undo_order(order))
        gt = np.ascontiguousarray(gt)
        out = np.empty_like(gt, order="C")
        _relu_grad(gt.reshape(-1), mask.reshape(-1), out.reshape(-1), g.dtype.type(0))
        return out.transpose(undo_order(order))


class LeakyReLU(Layer):
    """ReLU with a small slope a for negative inputs, element by element.

    Forward: out = net if net > 0, else a · net. Backward: ∂out/∂net = 1 if net > 0,
    else a. Integer input is computed in float64.

    PyTorch: ``torch.nn.LeakyReLU``; same parameter name and default.

    Parameters
    ----------
    negative_slope : float, default 0.01
        The slope a for net ≤ 0; any finite number.

    Raises
    ------
    TypeError
        If ``negative_slope`` is not a number.
    ValueError
        If ``negative_slope`` is not finite.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import LeakyReLU
    >>> layer = LeakyReLU(negative_slope=0.1)
    >>> layer.forward(np.array([-2.0, 3.0])).round(6).tolist()
    [-0.2, 3.0]
    >>> layer.backward(np.ones(2)).round(6).tolist()
    [0.1, 1.0]
    """

    splits_batch = True  # copies may each take a part of a batch, side by side (replica)

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, int | float):
            raise TypeError(f"LeakyReLU negative_slope must be a number, got {negative_slope!r}")
        if not math.isfinite(negative_slope):
            raise ValueError(f"LeakyReLU negative_slope must be finite, got {negative_slope!r}")
        self.negative_slope = float(negative_slope)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype.kind != "f":
            x = x.astype(np.float64)  # a slope of 0.01 has no integer form
        self._slope = np.where(x > 0, 1.0, self.negative_slope).astype(x.dtype, copy=False)
        return x * self._slope  # net if net > 0 else a·net

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        return grad_output * self._slope  # ∂E/∂net = ∂E/∂out · (1 if net > 0 else a)

    def config(self) -> dict[str, Any]:
        return {"negative_slope": self.negative_slope}


_GELU_APPROXIMATIONS = ("none", "tanh")


class GELU(Layer):
    """The Gaussian error linear unit, element by element.

    Forward: out = net · Φ(net), Φ the standard normal CDF. Backward:
    ∂out/∂net = Φ(net) + net · φ(net), φ the standard normal density.
    With ``approximate="tanh"``, Φ(x) is replaced by ½(1 + t), t = tanh(u),
    u = √(2/π)(x + 0.044715 x³), and the derivative is
    ½(1 + t) + ½ x (1 − t²) ∂u/∂x.

    PyTorch: ``torch.nn.GELU``; same parameter name and values.

    Parameters
    ----------
    approximate : {"none", "tanh"}, default "none"
        ``"none"``: the exact Φ through ``erf``; ``"tanh"``: the tanh approximation
        (GPT-2's).

    Raises
    ------
    ValueError
        If ``approximate`` is neither ``"none"`` nor ``"tanh"``.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import GELU
    >>> layer = GELU()
    >>> layer.forward(np.array([-1.0, 0.0, 1.0])).round(4).tolist()
    [-0.1587, 0.0, 0.8413]
    >>> layer.backward(np.ones(3)).round(4).tolist()  # Φ(x) + x φ(x)
    [-0.0833, 0.5, 1.0833]
    """

    splits_batch = True  # copies may each take a part of a batch, side by side (replica)

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in _GELU_APPROXIMATIONS:
            raise ValueError(f"GELU approximate must be one of {_GELU_APPROXIMATIONS}, got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        self._x = x
        if self.approximate == "tanh":
            self._t = np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))
            return 0.5 * x * (1.0 + self._t)  # ½ x (1 + tanh(√(2/π)(x + 0.044715 x³)))
        return 0.5 * x * (1.0 + erf(x / math.sqrt(2)))  # x Φ(x), Φ(x) = ½(1 + erf(x/√2))

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        x = self._x
        if self.approximate == "tanh":
            t = self._t
            du = math.sqrt(2 / math.pi) * (1.0 + 3 * 0.044715 * x * x)
            # ∂out/∂x = ½(1 + t) + ½ x (1 − t²) √(2/π)(1 + 3·0.044715 x²)
            return grad_output * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du)
        cdf = 0.5 * (1.0 + erf(x / math.sqrt(2)))
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return grad_output * (cdf + x * pdf)  # ∂out/∂x = Φ(x) + x φ(x)

    def config(self) -> dict[str, Any]:
        return {"approximate": self.approximate}


class Softmax(Layer):
    """Probabilities over the last axis: the normalised exponentials of the inputs.

    Forward: out_k = e^(net_k) / Σ_j e^(net_j), computed after subtracting the
    maximum. Backward: the Jacobian is diag(out) − out out', so
    ∂E/∂net = out ⊙ (∂E/∂out − Σ_k out_k ∂E/∂out_k).

    For classification prefer raw logits with ``CrossEntropy``, which fuses the
    two so that the gradient is ŷ − y.

    PyTorch: ``torch.nn.Softmax(dim=-1)``. No parameters.

    Raises
    ------
    ValueError
        From ``forward``, for an input without a class axis (0-d or 0 classes).

    See Also
    --------
    CrossEntropy : softmax and cross-entropy in one step, on logits.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import Softmax
    >>> layer = Softmax()
    >>> out = layer.forward(np.array([[0.0, np.log(3.0)]]))
    >>> out.round(4).tolist()
    [[0.25, 0.75]]
    >>> layer.backward(np.array([[1.0, 1.0]])).round(4).tolist()  # a constant shift has no effect
    [[0.0, 0.0]]
    """

    splits_batch = True  # copies may each take a part of a batch, side by side (replica)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim < 1 or x.shape[-1] < 1:
            raise ValueError(
                f"Softmax expects input of shape (..., classes) with classes >= 1, got {x.shape}"
            )
        z = x - x.max(axis=-1, keepdims=True)
        e = np.exp(z)
        self._out = e / e.sum(axis=-1, keepdims=True)
        return self._out

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        s = self._out
        inner = (grad_output * s).sum(axis=-1, keepdims=True)
        return s * (grad_output - inner)  # Jacobian diag(s) − s s' applied to the gradient
