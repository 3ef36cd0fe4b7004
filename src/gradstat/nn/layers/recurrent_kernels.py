"""Compiled per-step kernels of the recurrent layers: one call per time step and direction.

A step of a recurrent layer is one product with W_H (done by NumPy's BLAS, outside these
kernels) and element-wise work on (batch, hidden) arrays: gate non-linearities, the cell
update, and in the backward pass the local derivatives. Done with NumPy that is a dozen
small calls per step, each paying Python's and NumPy's overhead; each function here does
what follows one NumPy tanh over all gates (NumPy's tanh is vectorised, a compiled loop's
is not, so the sigmoid gates are computed as σ(a) = (1 + tanh(a/2)) / 2) in one loop.
Gate blocks follow PyTorch's order along the last axis: (i, f, g, o) for the LSTM, (r, z, n)
for the GRU.

Notation: ``gates`` starts as W_X x_t + b (all steps projected at once, before the loop),
``hh`` = h_{t-1} W_H' for the current step, ``dh`` = ∂E/∂h_t arriving from the output and
``rec`` = δ_{t+1} W_H arriving from the next step.
"""

from __future__ import annotations

import math

import numba


@numba.njit(cache=True, inline="always")
def _tanh(a):
    """tanh(a) = (1 − e^{−2|a|}) / (1 + e^{−2|a|}) with a's sign: no overflow, and exp is
    several times faster than libm's tanh in a compiled loop."""
    e = math.exp(-2.0 * abs(a))
    t = (1.0 - e) / (1.0 + e)
    return t if a >= 0 else -t


# -- tanh RNN ----------------------------------------------------------------------------------


@numba.njit(cache=True)
def rnn_backward_step(h, dh, rec, delta):
    """∂E/∂h_t = dh + rec (kept in ``dh``), δ_t = (1 − h_t²) ⊙ ∂E/∂h_t (into ``delta``)."""
    for n in range(h.shape[0]):
        for j in range(h.shape[1]):
            g = dh[n, j] + rec[n, j]
            dh[n, j] = g
            delta[n, j] = (1.0 - h[n, j] * h[n, j]) * g


# -- LSTM --------------------------------------------------------------------------------------


@numba.njit(cache=True)
def lstm_forward_step(gates, c_prev, c, tc, h):
    """Cell and output of one step; ``gates`` arrives as tanh(a_i/2, a_f/2, a_g, a_o/2).

    σ(a) = (1 + tanh(a/2)) / 2 gives i, f, o (written back), g = tanh(a_g);
    c_t = f ⊙ c_{t-1} + i ⊙ g;  h_t = o ⊙ tanh(c_t).
    """
    hid = c.shape[1]
    for n in range(c.shape[0]):
        for j in range(hid):
            i = 0.5 + 0.5 * gates[n, j]
            f = 0.5 + 0.5 * gates[n, hid + j]
            g = gates[n, 2 * hid + j]
            o = 0.5 + 0.5 * gates[n, 3 * hid + j]
            gates[n, j], gates[n, hid + j], gates[n, 3 * hid + j] = i, f, o
            ct = f * c_prev[n, j] + i * g
            c[n, j] = ct
            t = _tanh(ct)
            tc[n, j] = t
            h[n, j] = o * t


@numba.njit(cache=True)
def lstm_backward_step(gates, c_prev, tc, dh, rec, dc, delta):
    """δ_t = ∂E/∂(i, f, g, o pre-activations) of one step, into ``delta`` (batch, 4·hidden).

    ∂E/∂h_t = dh + rec (kept in ``dh``); ∂c_t = ∂h_t ⊙ o ⊙ (1 − tanh² c_t) + ``dc``, where
    ``dc`` arrives as f_{t+1} ⊙ ∂c_{t+1} and leaves as f_t ⊙ ∂c_t.
    """
    hid = tc.shape[1]
    for n in range(tc.shape[0]):
        for j in range(hid):
            i, f = gates[n, j], gates[n, hid + j]
            g, o = gates[n, 2 * hid + j], gates[n, 3 * hid + j]
            t = tc[n, j]
            d_h = dh[n, j] + rec[n, j]
            dh[n, j] = d_h
            d_c = d_h * o * (1.0 - t * t) + dc[n, j]
            delta[n, j] = d_c * g * i * (1.0 - i)  # ∂a_i = ∂c ⊙ g ⊙ σ'(a_i)
            delta[n, hid + j] = d_c * c_prev[n, j] * f * (1.0 - f)  # ∂a_f = ∂c ⊙ c_{t-1} ⊙ σ'(a_f)
            delta[n, 2 * hid + j] = d_c * i * (1.0 - g * g)  # ∂a_g = ∂c ⊙ i ⊙ tanh'(a_g)
            delta[n, 3 * hid + j] = d_h * t * o * (1.0 - o)  # ∂a_o = ∂h ⊙ tanh(c) ⊙ σ'(a_o)
            dc[n, j] = d_c * f  # ∂E/∂c_{t-1} through c_t = f ⊙ c_{t-1} + …


# -- GRU ---------------------------------------------------------------------------------------


@numba.njit(cache=True)
def gru_forward_step(gates, hh, b_hn, h_prev, hn, h):
    """One GRU step; ``gates`` arrives as (tanh(a_r/2), tanh(a_z/2), W_in x + b_in) and
    becomes (r, z, n), with σ(a) = (1 + tanh(a/2)) / 2 and
    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn));  h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}.
    ``hn`` keeps W_hn h_{t-1} + b_hn for the backward pass.
    """
    hid = h.shape[1]
    for n in range(h.shape[0]):
        for j in range(hid):
            r = 0.5 + 0.5 * gates[n, j]
            z = 0.5 + 0.5 * gates[n, hid + j]
            u = hh[n, 2 * hid + j] + b_hn[j]
            c = _tanh(gates[n, 2 * hid + j] + r * u)
            gates[n, j], gates[n, hid + j], gates[n, 2 * hid + j] = r, z, c
            hn[n, j] = u
            h[n, j] = (1.0 - z) * c + z * h_prev[n, j]


@numba.njit(cache=True)
def gru_backward_step(gates, hn, h_prev, dh, rec, dh_prev, delta_x, delta_h):
    """δ of one GRU step, split in the part that meets W_X and the part that meets W_H.

    ∂E/∂h_t = dh + rec + ``dh_prev`` (kept in ``dh``); then ∂n = ∂h ⊙ (1 − z),
    ∂a_n = ∂n ⊙ (1 − n²), ∂a_z = ∂h ⊙ (h_{t-1} − n) ⊙ σ'(a_z), ∂a_r = ∂a_n ⊙ hn ⊙ σ'(a_r);
    W_X sees (∂a_r, ∂a_z, ∂a_n), W_H sees (∂a_r, ∂a_z, r ⊙ ∂a_n). ``dh_prev`` leaves as
    ∂h ⊙ z, the direct path to h_{t-1} (W_H's path is added by the next call's ``rec``).
    """
    hid = hn.shape[1]
    for n in range(hn.shape[0]):
        for j in range(hid):
            r, z, c = gates[n, j], gates[n, hid + j], gates[n, 2 * hid + j]
            d_h = dh[n, j] + rec[n, j] + dh_prev[n, j]
            dh[n, j] = d_h
            d_an = d_h * (1.0 - z) * (1.0 - c * c)
            d_ar = d_an * hn[n, j] * r * (1.0 - r)
            d_az = d_h * (h_prev[n, j] - c) * z * (1.0 - z)
            delta_x[n, j], delta_x[n, hid + j], delta_x[n, 2 * hid + j] = d_ar, d_az, d_an
            delta_h[n, j], delta_h[n, hid + j], delta_h[n, 2 * hid + j] = d_ar, d_az, r * d_an
            dh_prev[n, j] = d_h * z

