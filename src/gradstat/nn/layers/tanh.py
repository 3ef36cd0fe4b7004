"""tanh for single precision in a loop the compiler vectorises.

NumPy's float32 tanh is not vectorised on AVX2 machines (2.6 ns an element here), and a
compiled loop that calls libm's tanh or exp cannot be vectorised either. The recurrent layers
take tanh of every gate at every step, so this is where their time goes. For float32 arrays
gradstat uses a rational function instead:

    tanh(x) ≈ x P(x²) / Q(x²)  for |x| < 9,   ±1 beyond (tanh(9) rounds to 1 in float32),

with P of degree 6 and Q of degree 3, fitted to tanh on [0, 9] for the smallest largest
relative error (Sanathanan–Koerner, then Lawson's reweighting): 6.6e-9 in exact arithmetic,
far below float32's half-ulp of 6e-8. It is evaluated in float64 and rounded once, so the
results are within one float32 ulp of the correctly rounded tanh (tested against float64
tanh over a dense grid of float32 inputs); PyTorch's vectorised tanh (Sleef) promises the
same. Only multiplications, additions, one division and a clamp: LLVM turns a kernel's loop
into vector instructions (2.5× NumPy's float32 tanh alone, more where the kernel also did
the cell update around libm calls). `tanh_of` is what kernels call: float64 arguments get
libm's tanh.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import types
from numba.extending import overload

CLAMP = 9.0  # beyond it float32 tanh is ±1
# P and Q in powers of s = x², lowest first, as fitted above (tools/fit_tanh.py gives them again to 12 digits)
P0, P1, P2, P3 = 0.9999999933881488, 0.13084010335889606, 0.0031039564898327396, 1.1154311462861487e-05
P4, P5, P6 = -2.022524048403156e-08, 5.2779564003177554e-11, -8.48873308414855e-14
Q1, Q2, Q3 = 0.4641733743751276, 0.024495179459439218, 0.00025461456404254424


@numba.njit(cache=True, inline="always", nogil=True, error_model="numpy")
def rational_tanh(a):
    """tanh(a) for a float32 a, within one ulp; NaN stays NaN."""
    x = min(max(np.float64(a), -CLAMP), CLAMP)  # NaN stays NaN
    s = x * x
    p = P0 + s * (P1 + s * (P2 + s * (P3 + s * (P4 + s * (P5 + s * P6)))))
    q = 1.0 + s * (Q1 + s * (Q2 + s * Q3))
    return x * p / q if abs(x) < CLAMP else x / CLAMP  # ±1 exactly beyond the clamp


def tanh_of(a: float) -> float:
    """tanh(a) inside compiled kernels: `rational_tanh` for a float32, libm's tanh otherwise
    (chosen when the kernel is compiled for its argument types)."""
    return math.tanh(a)


@overload(tanh_of)
def _tanh_of_type(a):  # unannotated: numba compares it with the lambdas' signature
    if isinstance(a, types.Float) and a.bitwidth == 32:
        return lambda a: rational_tanh(a)
    return lambda a: math.tanh(a)
