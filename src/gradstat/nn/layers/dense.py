"""The fully connected layer: net = x W' + b over the last axis."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstat.nn.layers.base import Layer, Shape
from gradstat.nn.layers.init import INITIALISERS, Seed, initialise
from gradstat.nn.threads import product_in_pass


class Dense(Layer):
    """``net_j = Σ_k w_jk x_k + b_j`` applied to the last axis of the input.

    ``params["weight"]`` has shape (out_features, in_features) and
    ``params["bias"]`` (out_features,): PyTorch's ``nn.Linear`` layout, so
    weights can be copied across unchanged. Inputs are (batch, in_features) or
    (batch, time, in_features).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias: bool = True,
        init: str = "xavier_uniform",
        seed: Seed = None,
        dtype: Any = "float32",
    ) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Dense {name} must be a positive integer, got {value!r}")
        if init not in INITIALISERS:
            raise ValueError(f"Dense init must be one of {INITIALISERS}, got {init!r}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.bias = bool(bias)
        self.init = init
        self.seed = seed if isinstance(seed, int) else None
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"Dense dtype must be a floating type, got {self.dtype}")
        shape = (self.out_features, self.in_features)
        self.params["weight"] = initialise(init, shape, seed, self.dtype)
        if self.bias:
            self.params["bias"] = np.zeros(self.out_features, dtype=self.dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        w = self.params["weight"]
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":
            name = f"Dense({self.in_features}, {self.out_features})"
            raise TypeError(f"{name} expects numbers, got dtype {x.dtype}")
        if x.ndim < 1 or x.shape[-1:] != (self.in_features,):
            raise ValueError(
                f"Dense({self.in_features}, {self.out_features}) expects inputs with "
                f"{self.in_features} features on the last axis, got shape {x.shape}"
            )
        if x.dtype != w.dtype:
            x = x.astype(w.dtype)
        self._x = x
        product_in_pass(x.size * self.out_features)  # one BLAS thread if small after a small conv
        out = x @ w.T  # net = x W'
        if self.bias:
            out += self.params["bias"]  # + b
        return out

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        """Fill ∂E/∂W = δ' x and ∂E/∂b = Σ δ; return ∂E/∂x = δ W (δ = ∂E/∂net).

        ``input_grad=False`` skips ∂E/∂x (the first layer of a network does not need it)
        and returns an empty array.
        """
        w = self.params["weight"]
        x2 = self._x.reshape(-1, self.in_features)
        g2 = grad_output.reshape(-1, self.out_features)
        if g2.dtype != w.dtype:
            g2 = g2.astype(w.dtype)
        product_in_pass(x2.size * self.out_features)
        np.matmul(g2.T, x2, out=self.grad_buffer("weight"))  # ∂E/∂w_jk = Σ_n δ_nj x_nk
        if self.bias:
            np.sum(g2, axis=0, out=self.grad_buffer("bias"))  # ∂E/∂b_j = Σ_n δ_nj
        if not input_grad:
            return np.empty(0, dtype=w.dtype)
        return (g2 @ w).reshape(*grad_output.shape[:-1], self.in_features)  # ∂E/∂x = δ W

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) < 2 or input_shape[-1] != self.in_features:
            raise ValueError(
                f"Dense({self.in_features}, {self.out_features}) expects "
                f"(batch, ..., {self.in_features}), got {input_shape}"
            )
        return (*input_shape[:-1], self.out_features)

    def config(self) -> dict[str, Any]:
        return {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "bias": self.bias,
            "init": self.init,
            "seed": self.seed,
            "dtype": self.dtype.name,
        }
