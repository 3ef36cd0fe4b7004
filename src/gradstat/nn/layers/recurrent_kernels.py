"""Compiled per-step kernels of the recurrent layers: one call per time step and direction.

A step of a recurrent layer is one product with W_H (done by NumPy's BLAS, outside these
kernels) and element-wise work on (batch, hidden) arrays: gate non-linearities, the cell
update, and in the backward pass the local derivatives. Done with NumPy that is a dozen
small calls per step, each paying Python's and NumPy's overhead; each function here does all
of a step's element-wise work in one loop. Every tanh is `tanh_of` (a rational function for
float32 that the loop vectorises, see ``tanh.py``), and the sigmoid gates are computed as
σ(a) = (1 + tanh(a/2)) / 2 from weights whose sigmoid rows were halved.
Gate blocks follow PyTorch's order along the last axis: (i, f, g, o) for the LSTM, (r, z, n)
for the GRU.

Notation: ``gates`` starts as W_X x_t + b (all steps projected at once, before the loop, the sigmoid
rows halved),
``hh`` = h_{t-1} W_H' for the current step, ``dh`` = ∂E/∂h_t arriving from the output and
``rec`` = δ_{t+1} W_H arriving from the next step.
"""

from __future__ import annotations

import numba

from gradstat.nn.layers.tanh import tanh_of

# -- tanh RNN ----------------------------------------------------------------------------------


@numba.njit(cache=True, nogil=True, error_model="numpy")
def rnn_forward_step(a, hh):
    """h_t = tanh(a + hh) into ``a``, which arrives as W_X x_t + b; hh = W_H h_{t-1}."""
    for n in range(a.shape[0]):
        row, product = a[n], hh[n]  # rows: simple loops that LLVM vectorises
        for j in range(row.size):
            row[j] = tanh_of(row[j] + product[j])


@numba.njit(cache=True, nogil=True, error_model="numpy")
def rnn_backward_step(h, dh, rec, total, delta):
    """∂E/∂h_t = dh + rec (into ``total``), δ_t = (1 − h_t²) ⊙ ∂E/∂h_t (into ``delta``)."""
    for n in range(h.shape[0]):
        for j in range(h.shape[1]):
            g = dh[n, j] + rec[n, j]
            total[n, j] = g
            delta[n, j] = (1.0 - h[n, j] * h[n, j]) * g


# -- LSTM --------------------------------------------------------------------------------------


@numba.njit(cache=True, nogil=True, error_model="numpy")
def lstm_forward_step(gates, hh, c_prev, c, tc, h):
    """Gates, cell and output of one step; a = ``gates`` + ``hh`` holds (a_i/2, a_f/2, a_g, a_o/2).

    σ(a) = (1 + tanh(a/2)) / 2 gives i, f, o, and g = tanh(a_g) (all four written back);
    c_t = f ⊙ c_{t-1} + i ⊙ g;  h_t = o ⊙ tanh(c_t). Row by row, in three simple loops
    that LLVM vectorises.
    """
    hid = c.shape[1]
    for n in range(c.shape[0]):
        row, product = gates[n], hh[n]
        for k in range(row.size):
            row[k] = tanh_of(row[k] + product[k])
        i, f, g, o = row[:hid], row[hid : 2 * hid], row[2 * hid : 3 * hid], row[3 * hid :]
        cell, out, tanh_cell = c[n], h[n], tc[n]
        for j in range(hid):
            i[j] = 0.5 + 0.5 * i[j]
            f[j] = 0.5 + 0.5 * f[j]
            o[j] = 0.5 + 0.5 * o[j]
            cell[j] = f[j] * c_prev[n, j] + i[j] * g[j]
        for j in range(hid):
            tanh_cell[j] = tanh_of(cell[j])
            out[j] = o[j] * tanh_cell[j]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def lstm_backward_step(gates, c_prev, tc, dh, rec, dc, total, delta):
    """δ_t = ∂E/∂(i, f, g, o pre-activations) of one step, into ``delta`` (batch, 4·hidden).

    ∂E/∂h_t = dh + rec (into ``total``); ∂c_t = ∂h_t ⊙ o ⊙ (1 − tanh² c_t) + ``dc``, where
    ``dc`` arrives as f_{t+1} ⊙ ∂c_{t+1} and leaves as f_t ⊙ ∂c_t.
    """
    hid = tc.shape[1]
    for n in range(tc.shape[0]):
        for j in range(hid):
            i, f = gates[n, j], gates[n, hid + j]
            g, o = gates[n, 2 * hid + j], gates[n, 3 * hid + j]
            t = tc[n, j]
            d_h = dh[n, j] + rec[n, j]
            total[n, j] = d_h
            d_c = d_h * o * (1.0 - t * t) + dc[n, j]
            delta[n, j] = d_c * g * i * (1.0 - i)  # ∂a_i = ∂c ⊙ g ⊙ σ'(a_i)
            delta[n, hid + j] = d_c * c_prev[n, j] * f * (1.0 - f)  # ∂a_f = ∂c ⊙ c_{t-1} ⊙ σ'(a_f)
            delta[n, 2 * hid + j] = d_c * i * (1.0 - g * g)  # ∂a_g = ∂c ⊙ i ⊙ tanh'(a_g)
            delta[n, 3 * hid + j] = d_h * t * o * (1.0 - o)  # ∂a_o = ∂h ⊙ tanh(c) ⊙ σ'(a_o)
            dc[n, j] = d_c * f  # ∂E/∂c_{t-1} through c_t = f ⊙ c_{t-1} + …


# -- GRU ---------------------------------------------------------------------------------------


@numba.njit(cache=True, nogil=True, error_model="numpy")
def gru_forward_step(gates, hh, b_hn, h_prev, hn, h):
    """One GRU step; ``gates`` arrives as (a_r/2, a_z/2, W_in x + b_in) without the W_H part,
    ``hh`` = W_H h_{t-1} (its r and z rows halved too), and ``gates`` becomes (r, z, n), with
    σ(a) = (1 + tanh(a/2)) / 2 and n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn));
    h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}. ``hn`` keeps W_hn h_{t-1} + b_hn for the backward pass.
    Row by row, in simple loops that LLVM vectorises.
    """
    hid = h.shape[1]
    for n in range(h.shape[0]):
        row, product = gates[n], hh[n]
        for k in range(2 * hid):
            row[k] = 0.5 + 0.5 * tanh_of(row[k] + product[k])  # r, z
        r, z, a = row[:hid], row[hid : 2 * hid], row[2 * hid :]
        u, out, prev = hn[n], h[n], h_prev[n]
        for j in range(hid):
            u[j] = product[2 * hid + j] + b_hn[j]
            a[j] = a[j] + r[j] * u[j]
        for j in range(hid):
            a[j] = tanh_of(a[j])  # n, in the arrays' precision
            out[j] = (1.0 - z[j]) * a[j] + z[j] * prev[j]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def gru_backward_step(gates, hn, h_prev, dh, rec, dh_prev, total, delta_x, delta_h):
    """δ of one GRU step, split in the part that meets W_X and the part that meets W_H.

    ∂E/∂h_t = dh + rec + ``dh_prev`` (into ``total``); then ∂n = ∂h ⊙ (1 − z),
    ∂a_n = ∂n ⊙ (1 − n²), ∂a_z = ∂h ⊙ (h_{t-1} − n) ⊙ σ'(a_z), ∂a_r = ∂a_n ⊙ hn ⊙ σ'(a_r);
    W_X sees (∂a_r, ∂a_z, ∂a_n), W_H sees (∂a_r, ∂a_z, r ⊙ ∂a_n). ``dh_prev`` leaves as
    ∂h ⊙ z, the direct path to h_{t-1} (W_H's path is added by the next call's ``rec``).
    """
    hid = hn.shape[1]
    for n in range(hn.shape[0]):
        for j in range(hid):
            r, z, c = gates[n, j], gates[n, hid + j], gates[n, 2 * hid + j]
            d_h = dh[n, j] + rec[n, j] + dh_prev[n, j]
            total[n, j] = d_h
            d_an = d_h * (1.0 - z) * (1.0 - c * c)
            d_ar = d_an * hn[n, j] * r * (1.0 - r)
            d_az = d_h * (h_prev[n, j] - c) * z * (1.0 - z)
            delta_x[n, j], delta_x[n, hid + j], delta_x[n, 2 * hid + j] = d_ar, d_az, d_an
            delta_h[n, j], delta_h[n, hid + j], delta_h[n, 2 * hid + j] = d_ar, d_az, r * d_an
            dh_prev[n, j] = d_h * z

