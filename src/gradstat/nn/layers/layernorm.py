"""Layer normalisation: standardise each sample over its last axes, then scale and shift.

x̂ = (x − μ) / √(σ² + ε), with μ and the biased σ² of each sample over the trailing
``normalized_shape`` axes, and out = γ ⊙ x̂ + β with γ, β of that shape — the same in
training and evaluation (no running statistics). Names as ``torch.nn.LayerNorm``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstat.nn.layers.base import Layer, Shape


class LayerNorm(Layer):
    """Standardise each sample over its trailing axes, then scale by γ and shift by β.

    Forward: x̂ = (x − μ) / √(σ² + ε), with μ and the biased variance σ² of each sample
    over the trailing ``normalized_shape`` axes, and out = γ ⊙ x̂ + β — the same in
    training and evaluation (no running statistics). Backward, with g = ∂E/∂out and sums
    over the samples: ∂E/∂γ = Σ g ⊙ x̂, ∂E/∂β = Σ g; with ĝ = γ ⊙ g,
    ∂E/∂x = (ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂)) / √(σ² + ε), the means over each sample's
    normalised axes (μ and σ² depend on x too, hence the two subtracted terms).

    PyTorch: ``torch.nn.LayerNorm``; the same parameter names, defaults and layouts.

    Parameters
    ----------
    normalized_shape : int or tuple of int
        Sizes of the trailing axes to normalise over; an int means the last axis.
    eps : float, default 1e-5
        ε > 0, added to the variance.
    elementwise_affine : bool, default True
        Learn γ (starting at ones); False leaves out γ and β.
    bias : bool, default True
        Learn β (starting at zeros) when ``elementwise_affine``.
    dtype : numpy dtype or str, default "float32"
        Floating type of the parameters and of the computation.

    Attributes
    ----------
    params : dict
        ``"weight"`` (γ) and ``"bias"`` (β), each of shape ``normalized_shape``.

    Raises
    ------
    ValueError
        If ``normalized_shape`` or ``eps`` is invalid; from `forward`, if the input's
        trailing axes differ from ``normalized_shape``.
    TypeError
        If ``dtype`` is not floating; from `forward`, for non-numeric input.

    See Also
    --------
    BatchNorm1D : standardise each channel over the batch instead.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import LayerNorm
    >>> layer = LayerNorm(4, dtype="float64")
    >>> out = layer.forward(np.array([[1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 6.0, 6.0]]))
    >>> out.round(3).tolist()
    [[-1.342, -0.447, 0.447, 1.342], [-1.0, -1.0, 1.0, 1.0]]
    >>> layer.backward(np.ones((2, 4))).round(6).tolist()  # a uniform shift is normalised away
    [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    """

    splits_batch = True  # copies may each take a part of a batch, side by side (replica)

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...] | list[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        *,
        dtype: Any = "float32",
    ) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int | np.integer) else normalized_shape
        try:
            dims = tuple(shape)
        except TypeError:
            dims = ()
        if not dims or any(isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 1 for d in dims):
            raise ValueError(
                "LayerNorm normalized_shape must be a positive int or a tuple of positive ints, "
                f"got {normalized_shape!r}"
            )
        if isinstance(eps, bool) or not isinstance(eps, int | float) or not eps > 0:
            raise ValueError(f"LayerNorm eps must be a positive number, got {eps!r}")
        self.normalized_shape = tuple(int(d) for d in dims)
        self.eps = float(eps)
        self.elementwise_affine, self.bias = bool(elementwise_affine), bool(bias)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"LayerNorm dtype must be a floating type, got {self.dtype}")
        if self.elementwise_affine:
            self.params["weight"] = np.ones(self.normalized_shape, self.dtype)
            if self.bias:
                self.params["bias"] = np.zeros(self.normalized_shape, self.dtype)

    def _check(self, shape: Shape) -> None:
        k = len(self.normalized_shape)
        if len(shape) < k or tuple(shape[len(shape) - k :]) != self.normalized_shape:
            raise ValueError(
                f"LayerNorm({self.normalized_shape}) expects input of shape (..., "
                f"{', '.join(map(str, self.normalized_shape))}), got {tuple(shape)}"
            )

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        self._check(x.shape)
        if x.dtype.kind not in "biuf":
            raise TypeError(f"{type(self).__name__} expects numbers, got dtype {x.dtype}")
        x = x.astype(self.dtype, copy=False)
        axes = tuple(range(x.ndim - len(self.normalized_shape), x.ndim))
        mean = x.mean(axis=axes, keepdims=True)  # μ of each sample
        var = x.var(axis=axes, keepdims=True)  # σ² of each sample (biased)
        inv_std = 1.0 / np.sqrt(var + self.eps)
        x_hat = (x - mean) * inv_std  # x̂ = (x − μ)/√(σ² + ε)
        self._cache = (x_hat, inv_std, axes)
        if not self.elementwise_affine:
            return x_hat
        out = x_hat * self.params["weight"]  # γ ⊙ x̂
        if self.bias:
            out += self.params["bias"]  # + β
        return out

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        """Fill ∂E/∂γ = Σ g x̂ and ∂E/∂β = Σ g; return ∂E/∂x.

        With ĝ = γ g, ∂E/∂x = (ĝ − mean ĝ − x̂ mean(ĝ x̂)) / σ, the means over each
        sample's normalised axes, σ = √(σ² + ε).

        Parameters
        ----------
        grad_output : numpy.ndarray
            g = ∂E/∂out, the shape of the last output.
        input_grad : bool, default True
            False skips ∂E/∂x.

        Returns
        -------
        numpy.ndarray
            ∂E/∂x; an empty array when ``input_grad`` is False.
        """
        x_hat, inv_std, axes = self._cache
        g = np.asarray(grad_output).astype(self.dtype, copy=False)
        lead = tuple(range(g.ndim - len(axes)))  # the sample axes
        if self.elementwise_affine:
            np.sum(g * x_hat, axis=lead, out=self.grad_buffer("weight"))  # ∂E/∂γ = Σ g x̂
            if self.bias:
                np.sum(g, axis=lead, out=self.grad_buffer("bias"))  # ∂E/∂β = Σ g
        if not input_grad:
            return np.empty(0, self.dtype)
        g_hat = g * self.params["weight"] if self.elementwise_affine else g  # ĝ = ∂E/∂x̂ = γ g
        mean_g = g_hat.mean(axis=axes, keepdims=True)
        mean_gx = (g_hat * x_hat).mean(axis=axes, keepdims=True)
        return inv_std * (g_hat - mean_g - x_hat * mean_gx)  # (ĝ − mean ĝ − x̂ mean(ĝ x̂)) / σ

    def output_shape(self, input_shape: Shape) -> Shape:
        self._check(input_shape)
        return input_shape

    def config(self) -> dict[str, Any]:
        return {
            "normalized_shape": list(self.normalized_shape),
            "eps": self.eps,
            "elementwise_affine": self.elementwise_affine,
            "bias": self.bias,
            "dtype": self.dtype.name,
        }
