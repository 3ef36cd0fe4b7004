"""Convolutional layers: filters slid over the input with a stride, after zero padding.

Each output is a cross-correlation of the (padded) input with one filter plus a bias,

    net_ij = Σ_k Σ_l w_kl x_{i+k−1, j+l−1} + b,

and each spatial size follows O = (W − K + 2P)/S + 1 (P = (K − 1)/2 keeps the size
at stride 1). By default a configuration for which O is not a whole number is an error;
``tiling="floor"`` takes O = ⌊(W − K + 2P)/S⌋ + 1 as PyTorch does, ignoring the trailing
rows/columns that no whole window covers. Layouts are PyTorch's: inputs (batch, channels, [height,] width),
``params["weight"]`` (out, in, k[, k]) and ``params["bias"]`` (out,), so a PyTorch
``state_dict`` loads as it is. Both passes are an im2col copy and one matrix product,
except the forward pass of a one-channel input at stride 1 in evaluation mode (see
`one_channel_conv`).
"""

from __future__ import annotations

from typing import Any

import numba
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


@numba.njit(cache=True, nogil=True, error_model="numpy")
def one_channel_conv(x, w, bias, out, ph, pw):
    """The stride-1 convolution of one-channel images without im2col, into channels-last ``out``.

    x (B, H, W), w (O, kh, kw), out (B, OH, OW, O). Each image is copied once into a zero
    padded plane, kept flat with row length Wp = W + 2 pw. Then, for every filter and kernel
    offset (i, j), net[p] += w_oij · plane[p + i Wp + j] runs over the flat positions p of all
    output rows at once: one long loop the compiler vectorises. im2col instead copies kh·kw
    values per output for a product with as few columns as filters (LeNet's 6: 3× slower).
    The positions past OW in each padded row are computed and dropped.
    """
    b_, h_, w_ = x.shape
    o_, kh, kw = w.shape
    _, oh_, ow_, _ = out.shape
    wp = w_ + 2 * pw
    n = oh_ * wp  # outputs over whole padded rows
    plane = np.zeros((h_ + 2 * ph) * wp + kw, x.dtype)  # + kw: the last row's dropped positions
    net = np.empty((o_, n), x.dtype)
    for b in range(b_):
        for r in range(h_):
            at = (r + ph) * wp + pw
            plane[at : at + w_] = x[b, r]
        for o in range(o_):
            row = net[o]
            row[:] = bias[o]  # b
            for i in range(kh):
                for j in range(kw):
                    weight, src = w[o, i, j], plane[i * wp + j : i * wp + j + n]
                    for q in range(n):
                        row[q] += weight * src[q]  # + w_oij · plane[q + i Wp + j]
        for oy in range(oh_):
            for ox in range(ow_):
                for o in range(o_):
                    out[b, oy, ox, o] = net[o, oy * wp + ox]


def _dtype(dtype: Any) -> np.dtype:
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"dtype must be a floating type, got {dt}")
    return dt


class _Conv(Layer):
    """The 2-D engine; Conv1D runs it on inputs of height 1."""

    splits_batch = True  # copies may each take a part of a batch, side by side (replica)

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
        self._part_scratch: dict[int, tuple[Buffer, Buffer, Buffer]] = {}  # of its replicas

    def replica(self, part: int = 0) -> Layer | None:
        twin = super().replica(part)
        if isinstance(twin, _Conv):  # the im2col arrays of its part, kept from call to call
            scratch = self._part_scratch.setdefault(part, (Buffer(), Buffer(), Buffer()))
            twin._cols, twin._dcols, twin._ones = scratch
        return twin

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
        oh, ow = self._sizes(h, w)
        if c == 1 and self._stride == (1, 1) and not self.training:  # no backward likely: no im2col
            net = np.empty((b, oh, ow, self.out_channels), self.dtype)
            weight = np.ascontiguousarray(self._weight4()[:, 0])
            one_channel_conv(x[..., 0], weight, self.params["bias"], net, *self._padding)
            self._cache: tuple[np.ndarray, np.ndarray | None] = (x, None)
            return net.transpose(0, 3, 1, 2)  # its windows wait for a backward pass, if one comes
        cols = self._windows(x, oh, ow)
        self._cache = (x, cols)
        weight = self._weight4().transpose(0, 2, 3, 1).reshape(self.out_channels, -1)
        # net_ij = Σ_k Σ_l w_kl x_{i+k−1, j+l−1} + b: one GEMM over every window
        with product_of_size(cols.size * self.out_channels):  # a small one on one BLAS thread
            net = cols.reshape(b * oh * ow, -1) @ weight.T
        # + b, added row by row of the output: a long inner loop rather than one per pixel
        net.reshape(b * oh, -1)[...] += np.tile(self.params["bias"], ow)
        return net.reshape(b, oh, ow, self.out_channels).transpose(0, 3, 1, 2)

    def _windows(self, x: np.ndarray, oh: int, ow: int) -> np.ndarray:
        """im2col: the (B, OH, OW, kh, kw, C) windows of channels-last ``x``, zero padded."""
        cols = self._cols.get((x.shape[0], oh, ow, *self._kernel, x.shape[3]), self.dtype)
        gather_windows(x, cols, self._stride, self._padding)
        return cols

    def _backward4(self, grad4: np.ndarray, input_grad: bool) -> np.ndarray:
        x, cols = self._cache
        b, h, w, c = x.shape
        if cols is None:  # the forward pass was direct (one_channel_conv): its windows now
            cols = self._windows(x, *grad4.shape[2:])
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
    """2-D convolution (cross-correlation) of (batch, channels, height, width) input.

    Forward, for each filter (its kernel w spans every input channel) after zero padding
    P: net_ij = Σ_c Σ_k Σ_l w_ckl x_c,(i−1)S+k,(j−1)S+l + b, which at stride S = 1 is the
    notes' net_ij = Σ_k Σ_l w_kl x_{i+k−1, j+l−1} + b summed over channels. Each output size
    is O = (W − K + 2P)/S + 1 (P = (K − 1)/2 keeps the size at stride 1). Backward, with
    δ = ∂E/∂net: ∂E/∂b = Σ_ij δ_ij; ∂E/∂w_kl = Σ_ij δ_ij x_{i+k−1, j+l−1} (the
    input's windows weighted by δ); ∂E/∂x_pq = Σ_ij δ_ij w_{p−i+1, q−j+1}, the full
    convolution of δ with the kernel (stride 1 shown; larger strides space the windows).
    Both passes are an im2col copy and one matrix product. In evaluation mode (`eval`,
    as in ``Sequential.predict``) a one-channel input at stride 1, a grey image, is
    convolved directly without the copy (3× faster for LeNet's first layer); a backward
    pass after it copies the windows then.

    PyTorch: ``torch.nn.Conv2d``; the same parameter names and layouts, so its
    ``state_dict`` loads as it is (with ``tiling="floor"`` for sizes that do not tile).

    Parameters
    ----------
    in_channels : int
        Channels of the input (axis 1).
    out_channels : int
        The number of filters: channels of the output.
    kernel_size : int or (int, int)
        K, the window's (height, width); an int for a square.
    stride : int or (int, int), default 1
        S, the step between windows.
    padding : int or (int, int), default 0
        P, zeros added on each side.
    init : str, default "he_uniform"
        How the weight is drawn: ``"he_uniform"``, ``"he_normal"``, ``"xavier_uniform"``,
        ``"xavier_normal"`` or ``"zeros"``; the fans include the kernel's size. The bias
        starts at 0.
    seed : int, numpy.random.Generator or None, default None
        Seed of the weight draw; None draws from fresh entropy.
    dtype : numpy dtype or str, default "float32"
        Floating type of the parameters and of the computation.
    tiling : {"strict", "floor"}, default "strict"
        ``"strict"`` refuses an input size for which O is not a whole number;
        ``"floor"`` takes O = ⌊(W − K + 2P)/S⌋ + 1 and ignores what no whole window
        covers, as PyTorch always does.

    Attributes
    ----------
    params : dict
        ``"weight"`` (out_channels, in_channels, kh, kw) and ``"bias"`` (out_channels,).

    Raises
    ------
    ValueError
        If a size is not a positive integer, ``init`` or ``tiling`` is unknown; from
        `forward`, for input of another layout or channel count, or a size that does not
        tile under ``"strict"`` (the sizes named).
    TypeError
        If ``dtype`` is not floating.

    See Also
    --------
    Conv1D : the same on sequences.
    MaxPool2D : the usual next layer.

    Examples
    --------
    A 4×4 input and a 2×2 kernel give the notes' 3×3 output:

    >>> import numpy as np
    >>> from gradstat.nn import Conv2D
    >>> layer = Conv2D(1, 1, kernel_size=2, dtype="float64")
    >>> layer.params["weight"][...] = [[[[1.0, 0.0], [0.0, 1.0]]]]  # w_11 = w_22 = 1
    >>> x = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    >>> layer.forward(x)[0, 0].tolist()  # x_ij + x_i+1,j+1
    [[7.0, 9.0, 11.0], [15.0, 17.0, 19.0], [23.0, 25.0, 27.0]]
    >>> layer.backward(np.ones((1, 1, 3, 3)))[0, 0].tolist()  # how many windows use x_pq with w = 1
    [[1.0, 1.0, 1.0, 0.0], [1.0, 2.0, 2.0, 1.0], [1.0, 2.0, 2.0, 1.0], [0.0, 1.0, 1.0, 1.0]]
    >>> Conv2D(3, 8, kernel_size=3, padding=1).forward(np.zeros((2, 3, 32, 32))).shape
    (2, 8, 32, 32)
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
    """1-D convolution (cross-correlation) of (batch, channels, length) input.

    Forward, at stride 1 and summed over input channels: net_i = Σ_k w_k x_{i+k−1} + b;
    the output length is O = (W − K + 2P)/S + 1. Backward, with δ = ∂E/∂net (the notes'
    1-D example): ∂E/∂b = Σ_i δ_i; ∂E/∂w_k = Σ_i δ_i x_{i+k−1}; ∂E/∂x_p = Σ_i δ_i w_{p−i+1},
    the full convolution of δ with the kernel.

    PyTorch: ``torch.nn.Conv1d``; the same parameter names and layouts.

    Parameters
    ----------
    in_channels : int
        Channels of the input (axis 1).
    out_channels : int
        The number of filters: channels of the output.
    kernel_size : int
        K, the window's length.
    stride : int, default 1
        S, the step between windows.
    padding : int, default 0
        P, zeros added at each end.
    init : str, default "he_uniform"
        How the weight is drawn: ``"he_uniform"``, ``"he_normal"``, ``"xavier_uniform"``,
        ``"xavier_normal"`` or ``"zeros"``; the fans include the kernel's size. The bias
        starts at 0.
    seed : int, numpy.random.Generator or None, default None
        Seed of the weight draw; None draws from fresh entropy.
    dtype : numpy dtype or str, default "float32"
        Floating type of the parameters and of the computation.
    tiling : {"strict", "floor"}, default "strict"
        ``"strict"`` refuses an input size for which O is not a whole number;
        ``"floor"`` takes O = ⌊(W − K + 2P)/S⌋ + 1 and ignores what no whole window
        covers, as PyTorch always does.

    Attributes
    ----------
    params : dict
        ``"weight"`` (out_channels, in_channels, kernel_size) and ``"bias"`` (out_channels,).

    Raises
    ------
    ValueError
        If a size is not a positive integer, ``init`` or ``tiling`` is unknown; from
        `forward`, for input of another layout or channel count, or a length that does not
        tile under ``"strict"``.
    TypeError
        If ``dtype`` is not floating.

    Examples
    --------
    The notes' example: x = (x1, x2, x3, x4), kernel (w1, w2) = (0.5, 1), b = 0.

    >>> import numpy as np
    >>> from gradstat.nn import Conv1D
    >>> layer = Conv1D(1, 1, kernel_size=2, dtype="float64")
    >>> layer.params["weight"][...] = [[[0.5, 1.0]]]
    >>> layer.forward(np.array([[[1.0, 2.0, 3.0, 4.0]]])).tolist()
    [[[2.5, 4.0, 5.5]]]
    >>> grad_x = layer.backward(np.ones((1, 1, 3)))  # δ = (1, 1, 1)
    >>> layer.grads["weight"].tolist(), layer.grads["bias"].tolist()  # (x1+x2+x3, x2+x3+x4), Σ δ
    ([[[6.0, 9.0]]], [3.0])
    >>> grad_x.tolist()  # (δ1 w1, δ1 w2 + δ2 w1, δ2 w2 + δ3 w1, δ3 w2)
    [[[0.5, 1.5, 1.5, 1.0]]]
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
