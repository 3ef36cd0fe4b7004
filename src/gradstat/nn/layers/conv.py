"""Convolutional layers: filters slid over the input with a stride, after zero padding.

Each output is a cross-correlation of the (padded) input with one filter plus a bias,

    net_ij = Σ_k Σ_l w_kl x_{i+k−1, j+l−1} + b,

and each spatial size follows O = (W − K + 2P)/S + 1 (P = (K − 1)/2 keeps the size
at stride 1). By default a configuration for which O is not a whole number is an error;
``tiling="floor"`` takes O = ⌊(W − K + 2P)/S⌋ + 1 as PyTorch does, ignoring the trailing
rows/columns that no whole window covers. Layouts are PyTorch's: inputs (batch, channels, [height,] width),
``params["weight"]`` (out, in, k[, k]) and ``params["bias"]`` (out,), so a PyTorch
``state_dict`` loads as it is. Both passes are an im2col copy and one matrix product.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstat.nn.layers.base import Layer, Shape
from gradstat.nn.layers.init import INITIALISERS, Seed, initialise
from gradstat.nn.layers.windows import (
    Buffer,
    as_int,
    as_pair,
    channels_last,
    check_tiling,
    gather_windows,
    output_size,
    scatter_windows,
)
from gradstat.threads import product_of_size

IntPair = int | tuple[int, int]


def _dtype(dtype: Any) -> np.dtype:
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"dtype must be a floating type, got {dt}")
    return dt


class _Conv(Layer):
    """The 2-D engine; Conv1D runs it on inputs of height 1."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel: tuple[int, int],
        stride: tuple[int, int],
        padding: tuple[int, int],
        init: str,
        seed: Seed,
        dtype: Any,
        tiling: str,
    ) -> None:
        super().__init__()
        self.tiling = check_tiling(type(self).__name__, tiling)
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{type(self).__name__} {name} must be a positive int, got {value!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self._kernel, self._stride, self._padding = kernel, stride, padding
        if init not in INITIALISERS:
            raise ValueError(f"{type(self).__name__} init must be one of {INITIALISERS}, got {init!r}")
        self.init = init
        self.seed = seed if isinstance(seed, int) else None
        self.dtype = _dtype(dtype)
        self.params = {
            "weight": initialise(init, self._weight_shape(), seed, self.dtype),
            "bias": np.zeros(out_channels, self.dtype),
        }
        self._cols, self._dcols, self._ones = Buffer(), Buffer(), Buffer()

    def _weight_shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    def _weight4(self) -> np.ndarray:
        """The weight as (out, in, kh, kw)."""
        raise NotImplementedError

    def _sizes(self, h: int, w: int) -> tuple[int, int]:
        name = type(self).__name__
        (kh, kw), (sh, sw), (ph, pw) = self._kernel, self._stride, self._padding
        return (
            output_size(name, "height", h, kh, ph, sh, self.tiling) if name == "Conv2D" else 1,
            output_size(name, "width" if name == "Conv2D" else "length", w, kw, pw, sw, self.tiling),
        )

    def _forward4(self, x4: np.ndarray) -> np.ndarray:
        x = channels_last(x4.astype(self.dtype, copy=False))
        b, h, w, c = x.shape
        kh, kw = self._kernel
        oh, ow = self._sizes(h, w)
        cols = self._cols.get((b, oh, ow, kh, kw, c), self.dtype)
        gather_windows(x, cols, self._stride, self._padding)  # im2col, with the zero padding
        self._cache = (x4.shape, cols)
        weight = self._weight4().transpose(0, 2, 3, 1).reshape(self.out_channels, -1)
        # net_ij = Σ_k Σ_l w_kl x_{i+k−1, j+l−1} + b: one GEMM over every window
        with product_of_size(cols.size * self.out_channels):  # a small one on one BLAS thread
            net = cols.reshape(b * oh * ow, -1) @ weight.T
        # + b, added row by row of the output: a long inner loop rather than one per pixel
        net.reshape(b * oh, -1)[...] += np.tile(self.params["bias"], ow)
        return net.reshape(b, oh, ow, self.out_channels).transpose(0, 3, 1, 2)

    def _backward4(self, grad4: np.ndarray, input_grad: bool) -> np.ndarray:
        shape, cols = self._cache
        b, c, h, w = shape
        _, oh, ow, kh, kw, _ = cols.shape
        g = channels_last(grad4.astype(self.dtype, copy=False)).reshape(b * oh * ow, -1)
        cols2 = cols.reshape(b * oh * ow, -1)
        with product_of_size(cols.size * self.out_channels):  # small ones on one BLAS thread
            # ∂E/∂b = Σ_ij ∂E/∂net_ij
            np.matmul(self._ones.get((len(g),), self.dtype, fill=1.0), g, out=self.grad_buffer("bias"))
            # ∂E/∂w_kl = Σ_ij ∂E/∂net_ij x_{i+k−1, j+l−1}
            dw = (g.T @ cols2).reshape(self.out_channels, kh, kw, c).transpose(0, 3, 1, 2)
            self.grad_buffer("weight")[...] = dw.reshape(self._weight_shape())
            if not input_grad:
                return np.empty(0, self.dtype)
            weight = self._weight4().transpose(0, 2, 3, 1).reshape(self.out_channels, -1)
            dcols = self._dcols.get(cols2.shape, self.dtype)
            np.matmul(g, weight, out=dcols)
        # ∂E/∂x_pq = Σ_ij ∂E/∂net_ij w_{p−i+1, q−j+1}: the full convolution, by col2im
        dx = np.empty((b, h, w, c), self.dtype)
        scatter_windows(dcols.reshape(cols.shape), dx, self._stride, self._padding)
        return dx.transpose(0, 3, 1, 2)

    def _common_config(self) -> dict[str, Any]:
        return {
            "in_channels": self.in_channels,
            "out_channels": self.out_channels,
            "init": self.init,
            "seed": self.seed,
            "dtype": self.dtype.name,
            "tiling": self.tiling,
        }

    def _check(self, x: np.ndarray, ndim: int, layout: str) -> None:
        if x.ndim != ndim or x.shape[1] != self.in_channels:
            raise ValueError(
                f"{type(self).__name__} expects input of shape {layout} with "
                f"channels={self.in_channels}, got {x.shape}"
            )


class Conv2D(_Conv):
    """2-D convolution on (batch, channels, height, width).

    ``kernel_size``, ``stride`` and ``padding`` are ints or (height, width) pairs.
    ``tiling="strict"`` (default) refuses sizes for which the windows do not tile the padded
    input exactly; ``tiling="floor"`` drops the rows/columns past the last window, as
    ``torch.nn.Conv2d`` always does.
    Weights are drawn by ``init`` (He-uniform by default, for ReLU networks), biases
    are zero. ``backward(g, input_grad=False)`` skips ∂E/∂x (a network's first
    layer does not need it) and returns an empty array.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntPair,
        stride: IntPair = 1,
        padding: IntPair = 0,
        *,
        init: str = "he_uniform",
        seed: Seed = None,
        dtype: Any = "float32",
        tiling: str = "strict",
    ) -> None:
        super().__init__(
            in_channels,
            out_channels,
            as_pair(kernel_size, "kernel_size", 1, "Conv2D"),
            as_pair(stride, "stride", 1, "Conv2D"),
            as_pair(padding, "padding", 0, "Conv2D"),
            init,
            seed,
            dtype,
            tiling,
        )

    def _weight_shape(self) -> tuple[int, ...]:
        return (self.out_channels, self.in_channels, *self._kernel)

    def _weight4(self) -> np.ndarray:
        return self.params["weight"]

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        self._check(x, 4, "(batch, channels, height, width)")
        return self._forward4(x)

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        return self._backward4(np.asarray(grad_output), input_grad)

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 4 or input_shape[1] != self.in_channels:
            raise ValueError(f"Conv2D expects (batch, {self.in_channels}, height, width), got {input_shape}")
        h, w = input_shape[2], input_shape[3]
        if h is None or w is None:
            raise ValueError(f"Conv2D needs the height and width, got {input_shape}")
        return (input_shape[0], self.out_channels, *self._sizes(h, w))

    def config(self) -> dict[str, Any]:
        return {
            **self._common_config(),
            "kernel_size": list(self._kernel),
            "stride": list(self._stride),
            "padding": list(self._padding),
        }


class Conv1D(_Conv):
    """1-D convolution on (batch, channels, length): net_i = Σ_k w_k x_{i+k−1} + b.

    Weights are drawn by ``init`` (He-uniform by default), biases are zero;
    ``backward(g, input_grad=False)`` skips ∂E/∂x. ``tiling="floor"`` drops the positions
    past the last whole window (``torch.nn.Conv1d``'s rule) instead of refusing them.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        *,
        init: str = "he_uniform",
        seed: Seed = None,
        dtype: Any = "float32",
        tiling: str = "strict",
    ) -> None:
        k = as_int(kernel_size, "kernel_size", 1, "Conv1D")
        s = as_int(stride, "stride", 1, "Conv1D")
        p = as_int(padding, "padding", 0, "Conv1D")
        super().__init__(in_channels, out_channels, (1, k), (1, s), (0, p), init, seed, dtype, tiling)

    def _weight_shape(self) -> tuple[int, ...]:
        return (self.out_channels, self.in_channels, self._kernel[1])

    def _weight4(self) -> np.ndarray:
        return self.params["weight"][:, :, None, :]

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        self._check(x, 3, "(batch, channels, length)")
        return self._forward4(x[:, :, None, :])[:, :, 0, :]

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        dx = self._backward4(np.asarray(grad_output)[:, :, None, :], input_grad)
        return dx[:, :, 0, :] if input_grad else dx

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 3 or input_shape[1] != self.in_channels:
            raise ValueError(f"Conv1D expects (batch, {self.in_channels}, length), got {input_shape}")
        length = input_shape[2]
        if length is None:
            raise ValueError(f"Conv1D needs the length, got {input_shape}")
        return (input_shape[0], self.out_channels, self._sizes(1, length)[1])

    def config(self) -> dict[str, Any]:
        return {
            **self._common_config(),
            "kernel_size": self._kernel[1],
            "stride": self._stride[1],
            "padding": self._padding[1],
        }
