"""Sliding windows shared by convolution and pooling.

The layers keep PyTorch's (batch, channels, height, width) interface but work
channels-last, (batch, height, width, channels), inside: a window is then a
run of contiguous channel vectors. im2col (gather) and col2im (scatter-add) are
numba loops over each window's rows, which skip the zero padding rather than
storing it.
"""

from __future__ import annotations

from fractions import Fraction

import numba
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

TILINGS = ("strict", "floor")


def check_tiling(layer: str, tiling: str) -> str:
    """``tiling`` itself, or a ValueError naming the layer and the choices."""
    if tiling not in TILINGS:
        raise ValueError(f"{layer} tiling must be one of {TILINGS}, got {tiling!r}")
    return tiling


def as_int(value: object, name: str, minimum: int, layer: str) -> int:
    """``value`` as an int ≥ ``minimum``; a TypeError/ValueError naming the layer and parameter."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{layer} {name} must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{layer} {name} must be >= {minimum}, got {value!r}")
    return int(value)


def as_pair(value: object, name: str, minimum: int, layer: str) -> tuple[int, int]:
    """``k`` → ``(k, k)``; a pair stays a pair; each entry an int ≥ ``minimum``, else an error
    naming the layer and parameter."""
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise TypeError(f"{layer} {name} must be an int or a pair of ints, got {value!r}")
        return as_int(value[0], name, minimum, layer), as_int(value[1], name, minimum, layer)
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(
            f"{layer} {name} must be an int or a pair of ints, got {value!r} ({type(value).__name__})"
        )
    k = as_int(value, name, minimum, layer)
    return k, k


def output_size(layer: str, axis: str, w: int, k: int, p: int, s: int, tiling: str = "strict") -> int:
    """O = (W − K + 2P)/S + 1, a ValueError naming W, K, P, S unless it is a whole number ≥ 1;
    with ``tiling="floor"`` O = ⌊(W − K + 2P)/S⌋ + 1 (PyTorch's rule: what lies past the last
    whole window is dropped)."""
    span = w - k + 2 * p
    if span >= 0 and (tiling == "floor" or span % s == 0):
        return span // s + 1
    o = Fraction(span, s) + 1
    if o.denominator != 1 or o < 1:
        shown = float(o) if o.denominator != 1 else int(o)
        hint = (
            f", or pass tiling='floor' to drop the last {span % s} {axis} position(s) that no "
            "whole window covers (PyTorch's default)"
            if span >= 0 and tiling == "strict"
            else ""
        )
        raise ValueError(
            f"{layer}: the {axis} does not tile: O = (W - K + 2P)/S + 1 = "
            f"({w} - {k} + 2*{p})/{s} + 1 = {shown} with W={w}, K={k}, P={p}, S={s}; "
            f"choose a kernel size, padding and stride for which O is a whole number >= 1{hint}"
        )
    return int(o)


def channels_last(x: np.ndarray) -> np.ndarray:
    """(B, C, H, W) → contiguous (B, H, W, C); free when ``x`` is channels-last in memory."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def windows(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """View of (B, H, W, C) as (B, OH, OW, kh, kw, C): the window under each output position."""
    view = sliding_window_view(x, kernel, axis=(1, 2))[:, :: stride[0], :: stride[1]]
    return view.transpose(0, 1, 2, 4, 5, 3)


@numba.njit(cache=True, nogil=True)
def _gather(x, cols, c_, sh, sw, ph, pw):
    # x: (B, H, W·C) and cols: (B, OH, OW, kh, kw·C), so a window's row is one contiguous run
    b_, h_, wc_ = x.shape
    _, oh_, ow_, kh_, kwc_ = cols.shape
    for b in range(b_):
        for oh in range(oh_):
            for ow in range(ow_):
                start = (ow * sw - pw) * c_  # where the window's row starts in x's row
                t0, t1 = max(0, -start), min(kwc_, wc_ - start)  # the part off the padding
                for i in range(kh_):
                    r, row = oh * sh + i - ph, cols[b, oh, ow, i]
                    if r < 0 or r >= h_:
                        row[:] = 0
                        continue
                    src = x[b, r]
                    row[:t0] = 0
                    for t in range(numba.uint64(t0), numba.uint64(t1)):  # unsigned: no wraparound
                        row[t] = src[numba.uint64(start) + t]
                    row[t1:] = 0


@numba.njit(cache=True, nogil=True)
def _scatter(values, target, c_, sh, sw, ph, pw):
    b_, h_, wc_ = target.shape
    _, oh_, ow_, kh_, kwc_ = values.shape
    src, dst = values.reshape(-1), target.reshape(-1)
    dst[:] = 0
    o = 0
    for b in range(b_):
        for oh in range(oh_):
            for ow in range(ow_):
                start = (ow * sw - pw) * c_
                t0, t1 = max(0, -start), max(0, min(kwc_, wc_ - start))
                for i in range(kh_):
                    r = oh * sh + i - ph
                    if 0 <= r < h_:
                        at = (b * h_ + r) * wc_ + start
                        for t in range(t0, t1):
                            dst[numba.uint64(at + t)] += src[numba.uint64(o + t)]
                    o += kwc_


def gather_windows(
    x: np.ndarray, cols: np.ndarray, stride: tuple[int, int], padding: tuple[int, int]
) -> None:
    """im2col: copy the windows of (B, H, W, C) ``x``, zero padded, into (B, OH, OW, kh, kw, C) ``cols``.

    Compiled with numba, a window row (kw·C contiguous values) at a time: NumPy's copy of
    a strided window view goes element by element when C is small.
    """
    b, h, w, c = x.shape
    flat = cols.reshape(*cols.shape[:4], -1)
    _gather(x.reshape(b, h, w * c), flat, c, stride[0], stride[1], padding[0], padding[1])


def scatter_windows(
    values: np.ndarray, target: np.ndarray, stride: tuple[int, int], padding: tuple[int, int]
) -> None:
    """col2im: (B, H, W, C) ``target`` = the sum of each window's (B, OH, OW, kh, kw, C) ``values``
    at its place; the parts that fall on the zero padding are dropped.

    Overlapping windows add up, so this is a scatter-add, compiled with numba
    (NumPy's kh·kw strided additions over a few channels cost 6× more).
    """
    b, h, w, c = target.shape
    flat = np.ascontiguousarray(values).reshape(*values.shape[:4], -1)
    _scatter(flat, target.reshape(b, h, w * c), c, stride[0], stride[1], padding[0], padding[1])


class Buffer:
    """A reusable scratch array: large fresh arrays pay page faults on every batch."""

    def __init__(self) -> None:
        self.array: np.ndarray | None = None

    def get(self, shape: tuple[int, ...], dtype: np.dtype, fill: float = 0.0) -> np.ndarray:
        """An array of ``shape``, reused (with its values) when the last one fits; a new one
        is filled with ``fill``."""
        if self.array is None or self.array.shape != shape or self.array.dtype != dtype:
            self.array = np.full(shape, fill, dtype)
        return self.array
