"""The float32 tanh of the recurrent kernels: within one ulp of the correctly rounded tanh
(float64 tanh as the oracle), with IEEE's special values; float64 keeps libm's tanh (mpmath
as the oracle)."""

from __future__ import annotations

import mpmath
import numba
import numpy as np

from gradstat.nn.layers.tanh import tanh_of


@numba.njit
def tanh_all(x, out):
    for i in range(x.size):
        out[i] = tanh_of(x[i])


def ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance in float32 steps between same-signed finite values."""
    return np.abs(a.view(np.int32).astype(np.int64) - b.view(np.int32).astype(np.int64))


def test_float32_tanh_is_within_one_ulp_over_a_dense_grid():
    # every 61st float32 from 2^-30 to 12 (the range where tanh is neither x nor 1), both signs
    bits = np.arange(np.float32(2**-30).view(np.int32), np.float32(12.0).view(np.int32), 61, dtype=np.int32)
    x = np.concatenate([bits.view(np.float32), -bits.view(np.float32)])
    out = np.empty_like(x)
    tanh_all(x, out)
    exact = np.tanh(x.astype(np.float64)).astype(np.float32)  # correctly rounded but for ties
    distance = ulps(out, exact)
    assert distance.max() <= 1, x[distance.argmax()]
    assert (distance == 0).mean() > 0.9


def test_float32_tanh_special_values():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, -1e-40, 9.0, -9.0, 50.0, 3e38], np.float32)
    out = np.empty_like(x)
    tanh_all(x, out)
    np.testing.assert_array_equal(out[:4], [0.0, -0.0, 1.0, -1.0])
    assert np.signbit(out[1]) and not np.signbit(out[0])
    assert np.isnan(out[4])
    np.testing.assert_array_equal(out[5:7], x[5:7])  # tanh(x) = x for subnormal x
    np.testing.assert_array_equal(out[7:], [1.0, -1.0, 1.0, 1.0])


def test_float64_keeps_libms_tanh_within_its_two_ulp_of_mpmath():
    x = np.concatenate([np.linspace(-20, 20, 2001), np.geomspace(1e-12, 1, 200)])
    out = np.empty_like(x)
    tanh_all(x, out)
    with mpmath.workdps(40):
        exact = np.array([float(mpmath.tanh(mpmath.mpf(float(v)))) for v in x])
    assert np.all(np.abs(out - exact) <= 2 * np.spacing(np.abs(exact)))  # glibc's stated bound
