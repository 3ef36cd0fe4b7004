"""Sliding windows shared by convolution and pooling.

The layers keep PyTorch's (batch, channels, height, width) interface but work
channels-last, (batch, height, width, channels), inside: a window is then a
run of contiguous channel vectors, so im2col is one copy of a
``sliding_window_view`` and col2im is ``kh·kw`` strided additions.
"""

from __future__ import annotations

from fractions import Fraction

import numba
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def as_pair(value: int | tuple[int, int] | list[int], name: str, minimum: int) -> tuple[int, int]:
    """``k`` → ``(k, k)``; a pair stays a pair; anything below ``minimum`` is an error."""
    pair = (value, value) if isinstance(value, int | np.integer) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int | np.integer) for v in pair):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def output_size(layer: str, axis: str, w: int, k: int, p: int, s: int) -> int:
    """O = (W − K + 2P)/S + 1; a ValueError naming W, K, P, S unless it is a whole number ≥ 1."""
    o = Fraction(w - k + 2 * p, s) + 1
    if o.denominator != 1 or o < 1:
        shown = float(o) if o.denominator != 1 else int(o)
        raise ValueError(
            f"{layer}: the {axis} does not tile: O = (W - K + 2P)/S + 1 = "
            f"({w} - {k} + 2*{p})/{s} + 1 = {shown} with W={w}, K={k}, P={p}, S={s}; "
            "choose a kernel size, padding and stride for which O is a whole number >= 1"
        )
    return int(o)


def channels_last(x: np.ndarray) -> np.ndarray:
    """(B, C, H, W) → contiguous (B, H, W, C); free when ``x`` is channels-last in memory."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def windows(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """View of (B, H, W, C) as (B, OH, OW, kh, kw, C): the window under each output position."""
    view = sliding_window_view(x, kernel, axis=(1, 2))[:, :: stride[0], :: stride[1]]
    return view.transpose(0, 1, 2, 4, 5, 3)


@numba.njit(cache=True)
def _add_windows(target: np.ndarray, values: np.ndarray, sh: int, sw: int) -> None:
    b_, oh_, ow_, kh_, kw_, c_ = values.shape
    for b in range(b_):
        for oh in range(oh_):
            for ow in range(ow_):
                for i in range(kh_):
                    for j in range(kw_):
                        for c in range(c_):
                            target[b, oh * sh + i, ow * sw + j, c] += values[b, oh, ow, i, j, c]


def add_windows(target: np.ndarray, values: np.ndarray, stride: tuple[int, int]) -> None:
    """col2im: add each window's (B, OH, OW, kh, kw, C) values back onto (B, H, W, C) ``target``.

    Overlapping windows add up, so this is a scatter-add; compiled with numba, since
    NumPy's kh·kw strided additions over a few channels cost 6× more.
    """
    _add_windows(target, values, stride[0], stride[1])


class Buffer:
    """A reusable scratch array: large fresh arrays pay page faults on every batch."""

    def __init__(self) -> None:
        self.array: np.ndarray | None = None

    def get(
        self, shape: tuple[int, ...], dtype: np.dtype, fill: float = 0.0, refill: bool = False
    ) -> np.ndarray:
        """An array of ``shape``, reused when the last one fits; a new one is filled with
        ``fill``, a reused one keeps its values unless ``refill``."""
        if self.array is None or self.array.shape != shape or self.array.dtype != dtype:
            self.array = np.full(shape, fill, dtype)
        elif refill:
            self.array.fill(fill)
        return self.array
