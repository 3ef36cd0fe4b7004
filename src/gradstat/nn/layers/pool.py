"""Pooling: shrink each channel by summarising windows (the maximum or the mean).

Max pooling keeps the largest value of each window, so the gradient flows back
to the arg-max position only (the first one on ties, as PyTorch does); average
pooling spreads it evenly. The stride defaults to the kernel size, and output
sizes follow O = (W − K)/S + 1 — a window that would hang off the edge is an
error, not a silent truncation, unless ``tiling="floor"`` asks for PyTorch's rule
O = ⌊(W − K)/S⌋ + 1 (``ceil_mode=False``), which ignores what lies past the last window.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from gradstat.nn.layers.base import Layer, Shape
from gradstat.nn.layers.windows import (
    as_int,
    as_pair,
    channels_last,
    check_tiling,
    output_size,
    scatter_windows,
    windows,
)

IntPair = int | tuple[int, int]


class _Pool2D(Layer):
    """The 2-D engine on (B, C, H, W); the 1-D pool runs it on height 1."""

    splits_batch = True  # copies may each take a part of a batch, side by side (replica)

    def __init__(self, kernel: tuple[int, int], stride: tuple[int, int], tiling: str) -> None:
        super().__init__()
        self._kernel, self._stride = kernel, stride
        self.tiling = check_tiling(type(self).__name__, tiling)

    def _sizes(self, h: int, w: int) -> tuple[int, int]:
        name = type(self).__name__
        (kh, kw), (sh, sw) = self._kernel, self._stride
        oh = output_size(name, "height", h, kh, 0, sh, self.tiling)
        axis = "length" if name.endswith("1D") else "width"
        return oh, output_size(name, axis, w, kw, 0, sw, self.tiling)

    def _check(self, x: np.ndarray, ndim: int, layout: str) -> None:
        if x.ndim != ndim:
            raise ValueError(f"{type(self).__name__} expects input of shape {layout}, got {x.shape}")

    def _shape(self, input_shape: Shape, ndim: int) -> Shape:
        if len(input_shape) != ndim or any(d is None for d in input_shape[2:]):
            raise ValueError(f"{type(self).__name__} needs {ndim}-D input with sizes, got {input_shape}")
        spatial = [int(d) for d in input_shape[2:]]  # type: ignore[arg-type]
        oh, ow = self._sizes(*spatial) if ndim == 4 else self._sizes(1, spatial[0])
        return (*input_shape[:2], oh, ow) if ndim == 4 else (*input_shape[:2], ow)


@numba.njit(cache=True, nogil=True)
def _max(x, out, arg, kh, kw, sh, sw):
    """out = the maximum of each window of x, arg = its first place in the image, as row·W + column
    (a window holding NaN: NaN, at the first NaN)."""
    b_, oh_, ow_, c_ = out.shape
    w_ = x.shape[2]
    for b in range(b_):
        for oh in range(oh_):
            for ow in range(ow_):
                best, at = out[b, oh, ow], arg[b, oh, ow]  # the channels of one output pixel
                for i in range(kh):
                    for j in range(kw):
                        r, col = oh * sh + i, ow * sw + j
                        v = x[b, r, col]
                        for c in range(c_):
                            m = best[c]
                            # strictly larger: the first maximum wins; once NaN, it stays
                            take = (i + j == 0) | ((m == m) & ((v[c] > m) | (v[c] != v[c])))
                            best[c] = v[c] if take else m
                            at[c] = r * w_ + col if take else at[c]


@numba.njit(cache=True, nogil=True)
def _max_few_channels(x, out, arg, kh, kw, sh, sw):
    """``_max`` for an input free of NaN, with the window in the inner loop: 2.5× faster for
    LeNet's 6 channels (a channel loop that short does not pay), many times slower for 32."""
    b_, oh_, ow_, c_ = out.shape
    w_ = x.shape[2]
    for b in range(b_):
        for oh in range(oh_):
            for ow in range(ow_):
                for c in range(c_):
                    m, at = x[b, oh * sh, ow * sw, c], oh * sh * w_ + ow * sw
                    for i in range(kh):
                        for j in range(kw):
                            v = x[b, oh * sh + i, ow * sw + j, c]
                            if v > m:  # strictly larger: the first maximum wins
                                m, at = v, (oh * sh + i) * w_ + ow * sw + j
                    out[b, oh, ow, c], arg[b, oh, ow, c] = m, at


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _window_max(x, out, kh, kw, sh, sw):
    """``_max`` without the arg-max (evaluation mode): the window offset (i, j) outside and a
    whole output row of pixels and channels inside, a loop the compiler vectorises."""
    b_, _, _, c_ = x.shape
    _, oh_, ow_, _ = out.shape
    for b in range(b_):
        for oh in range(oh_):
            best = out[b, oh]
            for i in range(kh):
                row = x[b, oh * sh + i]
                for j in range(kw):
                    first = i + j == 0
                    for ow in range(ow_):
                        for c in range(c_):
                            v, m = row[ow * sw + j, c], best[ow, c]
                            # larger or NaN replaces (once NaN, it stays): the maximum as PyTorch's
                            best[ow, c] = v if first | ((m == m) & ((v > m) | (v != v))) else m


@numba.njit(cache=True, nogil=True)
def _route(grad, arg, dx):
    """dx = grad at the recorded arg-max place of each window, 0 elsewhere; dx is (B, H·W, C)."""
    b_, oh_, ow_, c_ = grad.shape
    for b in range(b_):
        dx[b] = 0
        for oh in range(oh_):
            for ow in range(ow_):
                for c in range(c_):
                    dx[b, arg[b, oh, ow, c], c] += grad[b, oh, ow, c]


class _MaxPool(_Pool2D):
    def _forward4(self, x4: np.ndarray) -> np.ndarray:
        x = channels_last(x4)
        b, h, w, c = x.shape
        oh, ow = self._sizes(h, w)
        out = np.empty((b, oh, ow, c), x.dtype)
        if self.training:
            self._cache: tuple[np.ndarray, np.ndarray | None] = (x, self._arg_max(x, out))
        else:  # no backward likely: the maximum alone, the arg-max if a backward pass comes
            _window_max(x, out, *self._kernel, *self._stride)  # out_ij = max of window ij
            self._cache = (x, None)
        return out.transpose(0, 3, 1, 2)

    def _arg_max(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Fill ``out`` with each window's maximum; return where each was (row·W + column)."""
        arg = np.empty(out.shape, np.int32)
        few = x.shape[3] <= 8 and not np.isnan(x).any()
        kernel = _max_few_channels if few else _max
        kernel(x, out, arg, *self._kernel, *self._stride)  # out_ij = max of window ij
        return arg

    def _backward4(self, grad4: np.ndarray) -> np.ndarray:
        x, arg = self._cache
        shape, dtype = x.shape, x.dtype
        if arg is None:  # the forward pass was in evaluation mode
            arg = self._arg_max(x, np.empty(grad4.transpose(0, 2, 3, 1).shape, dtype))
        g = channels_last(grad4).astype(dtype, copy=False)
        dx = np.empty(shape, dtype)
        # ∂E/∂x = ∂E/∂out at the (first) arg-max of each window, 0 elsewhere
        _route(g, arg, dx.reshape(shape[0], -1, shape[3]))
        return dx.transpose(0, 3, 1, 2)


class MaxPool2D(_MaxPool):
    """Max pooling of (batch, channels, height, width) input: the largest value of each window.

    Forward: out_ij = max over window ij of each channel, with output sizes
    O = (W − K)/S + 1. Backward: the maximum is the only input that moved the output, so
    ∂E/∂x = ∂E/∂out at each window's arg-max (the first one on ties, as PyTorch) and 0
    elsewhere; overlapping windows add up. NaN propagates. No parameters.

    PyTorch: ``torch.nn.MaxPool2d`` (``padding=0``, ``dilation=1``).

    Parameters
    ----------
    kernel_size : int or (int, int)
        K, the window's (height, width); an int for a square.
    stride : int, (int, int) or None, default None
        S, the step between windows; None means ``kernel_size`` (windows that do not
        overlap).
    tiling : {"strict", "floor"}, default "strict"
        ``"strict"`` refuses a size for which O = (W − K)/S + 1 is not a whole number;
        ``"floor"`` takes ⌊(W − K)/S⌋ + 1 and ignores what lies past the last window
        (PyTorch's ``ceil_mode=False``).

    Raises
    ------
    ValueError
        If a size is not a positive integer or ``tiling`` is unknown; from `forward`, for
        input that is not 4-D or does not tile under ``"strict"``.

    Examples
    --------
    The notes' grid 1 … 16, a 2×2 kernel with stride 2:

    >>> import numpy as np
    >>> from gradstat.nn import MaxPool2D
    >>> layer = MaxPool2D(2)
    >>> x = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    >>> layer.forward(x)[0, 0].tolist()
    [[6.0, 8.0], [14.0, 16.0]]
    >>> layer.backward(np.ones((1, 1, 2, 2)))[0, 0].tolist()  # 1 at each maximum
    [[0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 1.0]]
    """

    def __init__(
        self, kernel_size: IntPair, stride: IntPair | None = None, *, tiling: str = "strict"
    ) -> None:
        kernel = as_pair(kernel_size, "kernel_size", 1, "MaxPool2D")
        super().__init__(
            kernel, kernel if stride is None else as_pair(stride, "stride", 1, "MaxPool2D"), tiling
        )

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        self._check(x, 4, "(batch, channels, height, width)")
        return self._forward4(x)

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        return self._backward4(np.asarray(grad_output))

    def output_shape(self, input_shape: Shape) -> Shape:
        return self._shape(input_shape, 4)

    def config(self) -> dict[str, Any]:
        return {"kernel_size": list(self._kernel), "stride": list(self._stride), "tiling": self.tiling}


class MaxPool1D(_MaxPool):
    """Max pooling of (batch, channels, length) input: the largest value of each window.

    Forward: out_i = max over window i; the output length is O = (W − K)/S + 1.
    Backward: ∂E/∂x = ∂E/∂out at each window's (first) arg-max, 0 elsewhere. No parameters.

    PyTorch: ``torch.nn.MaxPool1d`` (``padding=0``, ``dilation=1``).

    Parameters
    ----------
    kernel_size : int
        K, the window's length.
    stride : int or None, default None
        S, the step between windows; None means ``kernel_size``.
    tiling : {"strict", "floor"}, default "strict"
        ``"strict"`` refuses a size for which O = (W − K)/S + 1 is not a whole number;
        ``"floor"`` takes ⌊(W − K)/S⌋ + 1 and ignores what lies past the last window
        (PyTorch's ``ceil_mode=False``).

    Raises
    ------
    ValueError
        If a size is not a positive integer or ``tiling`` is unknown; from `forward`, for
        input that is not 3-D or does not tile under ``"strict"``.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import MaxPool1D
    >>> layer = MaxPool1D(2)
    >>> layer.forward(np.array([[[1.0, 3.0, 5.0, 2.0]]])).tolist()
    [[[3.0, 5.0]]]
    >>> layer.backward(np.array([[[10.0, 20.0]]])).tolist()
    [[[0.0, 10.0, 20.0, 0.0]]]
    """

    def __init__(self, kernel_size: int, stride: int | None = None, *, tiling: str = "strict") -> None:
        k = as_int(kernel_size, "kernel_size", 1, "MaxPool1D")
        s = k if stride is None else as_int(stride, "stride", 1, "MaxPool1D")
        super().__init__((1, k), (1, s), tiling)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        self._check(x, 3, "(batch, channels, length)")
        return self._forward4(x[:, :, None, :])[:, :, 0, :]

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        return self._backward4(np.asarray(grad_output)[:, :, None, :])[:, :, 0, :]

    def output_shape(self, input_shape: Shape) -> Shape:
        return self._shape(input_shape, 3)

    def config(self) -> dict[str, Any]:
        return {"kernel_size": self._kernel[1], "stride": self._stride[1], "tiling": self.tiling}


class AvgPool2D(_Pool2D):
    """Average pooling of (batch, channels, height, width) input: the mean of each window.

    Forward: out_ij = (1 / (kh·kw)) Σ over window ij of x, with output sizes
    O = (W − K)/S + 1. Backward: every input of a window gets an equal share,
    ∂E/∂x = ∂E/∂out / (kh·kw) at each position of the window (overlapping windows add up).
    No parameters.

    PyTorch: ``torch.nn.AvgPool2d`` (``padding=0``).

    Parameters
    ----------
    kernel_size : int or (int, int)
        K, the window's (height, width); an int for a square.
    stride : int, (int, int) or None, default None
        S, the step between windows; None means ``kernel_size``.
    tiling : {"strict", "floor"}, default "strict"
        ``"strict"`` refuses a size for which O = (W − K)/S + 1 is not a whole number;
        ``"floor"`` takes ⌊(W − K)/S⌋ + 1 and ignores what lies past the last window
        (PyTorch's ``ceil_mode=False``).

    Raises
    ------
    ValueError
        If a size is not a positive integer or ``tiling`` is unknown; from `forward`, for
        input that is not 4-D or does not tile under ``"strict"``.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import AvgPool2D
    >>> layer = AvgPool2D(2)
    >>> x = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    >>> layer.forward(x)[0, 0].tolist()
    [[3.5, 5.5], [11.5, 13.5]]
    >>> layer.backward(np.ones((1, 1, 2, 2)))[0, 0].tolist()
    [[0.25, 0.25, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25], [0.25, 0.25, 0.25, 0.25]]
    """

    def __init__(
        self, kernel_size: IntPair, stride: IntPair | None = None, *, tiling: str = "strict"
    ) -> None:
        kernel = as_pair(kernel_size, "kernel_size", 1, "AvgPool2D")
        super().__init__(
            kernel, kernel if stride is None else as_pair(stride, "stride", 1, "AvgPool2D"), tiling
        )

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        self._check(x, 4, "(batch, channels, height, width)")
        xl = channels_last(x)
        self._sizes(*xl.shape[1:3])
        self._in_shape = xl.shape
        out = windows(xl, self._kernel, self._stride).mean(axis=(3, 4))
        return out.transpose(0, 3, 1, 2)

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        g = channels_last(np.asarray(grad_output))
        kh, kw = self._kernel
        # ∂E/∂x = ∂E/∂out / (kh·kw) at every position of the window
        share = np.broadcast_to((g / (kh * kw))[:, :, :, None, None, :], (*g.shape[:3], kh, kw, g.shape[3]))
        dx = np.empty(self._in_shape, g.dtype)
        scatter_windows(share, dx, self._stride, (0, 0))
        return dx.transpose(0, 3, 1, 2)

    def output_shape(self, input_shape: Shape) -> Shape:
        return self._shape(input_shape, 4)

    def config(self) -> dict[str, Any]:
        return {"kernel_size": list(self._kernel), "stride": list(self._stride), "tiling": self.tiling}
