"""Recurrent layers: the tanh RNN, the LSTM and the GRU, trained by backpropagation through time.

Both read (batch, time, features) and return every hidden state (batch, time, hidden), so a
``Dense`` applied to the last axis gives the per-step outputs ŷ_t = softmax(W_Y h_t).
Parameters are named and shaped as PyTorch's ``nn.RNN`` / ``nn.LSTM`` (``batch_first=True``):
``weight_ih_l0`` (G·H, in), ``weight_hh_l0`` (G·H, H), ``bias_ih_l0``, ``bias_hh_l0``; LSTM gates
i, f, g, o, GRU gates r, z, n. A lone layer is PyTorch's ``num_layers=1``; ``Stacked`` is ``num_layers=k``.

Initial state enters by keyword, ``forward(x, state=h_0)`` (LSTM: ``state=(h_0, c_0)``), and the
final state is kept in ``layer.state``. After ``carry_state()`` a forward pass without
``state`` starts from the last one's final state (truncated BPTT: the state is carried from one
chunk to the next, the gradient is not) until ``reset_state()``.

Internally the work runs time-major; everything that does not depend on h_{t-1} (input
projections, ∂W, ∂x) is done for all steps at once by large products on every core, leaving
per step one small product with W_H (on one BLAS thread, see ``gradstat.threads``) and
one compiled element-wise kernel (``recurrent_kernels``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Self

import numpy as np

from gradstat.nn.layers import recurrent_kernels as kernels
from gradstat.nn.layers.base import Container, Layer, Shape
from gradstat.threads import small_products

State = np.ndarray | tuple[np.ndarray, np.ndarray]


class Recurrent(Layer):
    """Shared machinery: parameters, validation, state handling, PyTorch state dicts."""

    gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        dtype: str | type = "float32",
        seed: int | None = None,
    ) -> None:
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"dtype must be a floating type, got {self.dtype}")
        self.seed = seed
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(hidden_size)  # PyTorch's U(-1/√H, 1/√H)
        gh = self.gates * hidden_size
        shapes = {
            "weight_ih_l0": (gh, input_size),
            "weight_hh_l0": (gh, hidden_size),
            "bias_ih_l0": (gh,),
            "bias_hh_l0": (gh,),
        }
        self.params = {k: rng.uniform(-bound, bound, s).astype(self.dtype) for k, s in shapes.items()}
        self.state: State | None = None
        self.carrying = False
        self.grad_state: State | None = None
        self.grad_hidden: np.ndarray | None = None

    # -- contract -------------------------------------------------------------------------
    def forward(self, x: np.ndarray, *, state: State | None = None) -> np.ndarray:
        raise NotImplementedError

    def backward(
        self, grad_output: np.ndarray, *, grad_state: State | None = None, input_grad: bool = True
    ) -> np.ndarray:
        raise NotImplementedError

    def carry_state(self, mode: bool = True) -> Self:
        self.carrying = mode
        return self

    def _initial(self, state: State | None) -> State | None:
        """The state to start from: the one given, else the carried one (``carry_state``)."""
        return self.state if state is None and self.carrying else state

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 3:
            raise ValueError(
                f"{type(self).__name__} expects (batch, time, features) input, got {input_shape}"
            )
        if input_shape[2] is not None and input_shape[2] != self.input_size:
            raise ValueError(
                f"{type(self).__name__} expects {self.input_size} input features, got shape {input_shape}"
            )
        return (input_shape[0], input_shape[1], self.hidden_size)

    def config(self) -> dict[str, Any]:
        return {
            "input_size": self.input_size,
            "hidden_size": self.hidden_size,
            "dtype": self.dtype.name,
            "seed": self.seed,
        }

    # -- helpers --------------------------------------------------------------------------
    def _check_input(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        name = type(self).__name__
        if x.ndim != 3:
            raise ValueError(f"{name} expects (batch, time, features) input of rank 3, got shape {x.shape}")
        if x.shape[2] != self.input_size:
            raise ValueError(f"{name} expects {self.input_size} input features, got {x.shape}")
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise ValueError(f"{name} needs at least one sequence of length ≥ 1, got {x.shape}")
        return x

    def _check_state_part(self, s: Any, batch: int, what: str) -> np.ndarray:
        s = np.ascontiguousarray(s, dtype=self.dtype)
        if s.shape != (batch, self.hidden_size):
            raise ValueError(
                f"{type(self).__name__} {what} must have shape (batch, hidden) = "
                f"{(batch, self.hidden_size)}, got {s.shape}"
            )
        return s

    def _weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p = self.params
        return p["weight_ih_l0"], p["weight_hh_l0"], (p["bias_ih_l0"] + p["bias_hh_l0"]).astype(self.dtype)

    def _project(self, x: np.ndarray, w_ih: np.ndarray, bias: np.ndarray) -> np.ndarray:
        """All input projections at once: A[t] = x_t W_X' + b, time-major (T, B, G·H)."""
        xt = np.ascontiguousarray(x.transpose(1, 0, 2), dtype=self.dtype)  # (T, B, in)
        self._xt = xt
        a = xt.reshape(-1, self.input_size) @ w_ih.T
        a += bias
        return a.reshape(xt.shape[0], xt.shape[1], -1)

    def _finish_backward(
        self, delta_x: np.ndarray, delta_h: np.ndarray, hs: np.ndarray, h0: np.ndarray, input_grad: bool
    ) -> np.ndarray:
        """Everything after the recursion, as large products over all steps; returns ∂E/∂x.

        ``delta_x`` (T, B, G·H) is ∂E/∂(W_X x_t + b_ih), ``delta_h`` ∂E/∂(W_H h_{t-1} + b_hh)
        (the same array except in the GRU); ``hs`` (T, B, H) holds h_1 … h_T.
        """
        steps, batch, width = delta_x.shape
        dx2, dh2 = delta_x.reshape(-1, width), delta_h.reshape(-1, width)
        hs2, x2 = hs.reshape(-1, self.hidden_size), self._xt.reshape(-1, self.input_size)
        np.matmul(dx2.T, x2, out=self.grad_buffer("weight_ih_l0"))  # ∂E/∂W_X = Σ_t δ_t x_t'
        w_hh = np.matmul(dh2[batch:].T, hs2[: (steps - 1) * batch], out=self.grad_buffer("weight_hh_l0"))
        w_hh += dh2[:batch].T @ h0  # ∂E/∂W_H = Σ_t δ_t h_{t-1}'
        np.sum(dx2, axis=0, out=self.grad_buffer("bias_ih_l0"))
        if delta_h is delta_x:
            np.copyto(self.grad_buffer("bias_hh_l0"), self.grads["bias_ih_l0"])
        else:
            np.sum(dh2, axis=0, out=self.grad_buffer("bias_hh_l0"))
        if not input_grad:
            return np.empty(0, dtype=self.dtype)
        dx = (dx2 @ self.params["weight_ih_l0"]).reshape(steps, batch, self.input_size)  # ∂E/∂x_t = W_X' δ_t
        return dx.transpose(1, 0, 2)

    def _check_grad_output(self, grad_output: np.ndarray) -> np.ndarray:
        if not hasattr(self, "_hs"):
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        t, b = self._hs.shape[:2]
        g = np.asarray(grad_output)
        if g.shape != (b, t, self.hidden_size):
            raise ValueError(
                f"{type(self).__name__}.backward expects grad_output of shape "
                f"{(b, t, self.hidden_size)}, got {g.shape}"
            )
        return np.ascontiguousarray(g.transpose(1, 0, 2), dtype=self.dtype)  # a copy only if not time-major


class RNN(Recurrent):
    """The Elman recurrent layer with tanh: h_t = tanh(W_H h_{t−1} + W_X x_t + b).

    Forward, for t = 1 … T from h_0 (zeros unless given): a_t = W_H h_{t−1} + W_X x_t + b,
    h_t = tanh(a_t). Backward through time, with ∂E/∂h_t the gradient arriving from the
    layers above: δ_t = (1 − h_t²) ⊙ (∂E/∂h_t + W_H' δ_{t+1}) from t = T down to 1 (no
    δ_{T+1}); then ∂E/∂W_X = Σ_t δ_t x_t', ∂E/∂W_H = Σ_t δ_t h_{t−1}',
    ∂E/∂b_ih = ∂E/∂b_hh = Σ_t δ_t, ∂E/∂x_t = W_X' δ_t and ∂E/∂h_0 = W_H' δ_1. Each step
    back multiplies by diag(1 − h²) W_H, which is why gradients vanish over long lags.

    Input is (batch, time, input_size); the output is every hidden state h_1 … h_T,
    (batch, time, H), so a ``Dense`` on the last axis gives per-step outputs
    ŷ_t = softmax(W_Y h_t). W_X is ``weight_ih_l0`` and W_H ``weight_hh_l0``; both biases
    are added, b = b_ih + b_hh. After `carry_state` a forward pass without ``state``
    starts from the previous pass's final state (truncated BPTT) until `reset_state`.

    PyTorch: ``torch.nn.RNN(batch_first=True)`` (``num_layers=1``, tanh); the same
    parameter names and layouts.

    Parameters
    ----------
    input_size : int
        Features per time step of the input.
    hidden_size : int
        H, the size of the hidden state.
    dtype : numpy dtype or str, default "float32"
        Floating type of the parameters and of the computation.
    seed : int or None, default None
        Seed of the weight draw, U(−1/√H, 1/√H) for every parameter as in PyTorch.

    Attributes
    ----------
    params : dict
        ``"weight_ih_l0"`` (H, input_size), ``"weight_hh_l0"`` (H, H),
        ``"bias_ih_l0"`` (H,) and ``"bias_hh_l0"`` (H,).
    state : numpy.ndarray or None
        The final state after `forward`, h_T (batch, H).
    grad_state : numpy.ndarray or None
        ∂E/∂(initial state) after `backward`, to continue the chain into whatever produced
        the initial state (an encoder, say).
    grad_hidden : numpy.ndarray or None
        ∂E/∂h_t for every step after `backward`, (batch, time, H): how far back the
        gradient reaches (see ``gradstat.nn.gradient_by_lag``).

    Raises
    ------
    ValueError
        If a size is not a positive integer; from `forward`, for input that is not
        (batch, time, input_size) or a state of the wrong shape (the shapes named).
    TypeError
        If ``dtype`` is not floating.

    See Also
    --------
    LSTM, GRU : gated layers that carry gradient further back.
    Stacked : several recurrent layers on top of each other.

    Examples
    --------
    One unit, W_X = 1, W_H = 0.5, b = 0: h_1 = tanh(1), h_2 = tanh(0.5 h_1).

    >>> import numpy as np
    >>> from gradstat.nn import RNN
    >>> layer = RNN(1, 1, dtype="float64")
    >>> layer.load_state_dict({"weight_ih_l0": [[1.0]], "weight_hh_l0": [[0.5]],
    ...                        "bias_ih_l0": [0.0], "bias_hh_l0": [0.0]})
    RNN(input_size=1, hidden_size=1, dtype='float64', seed=None)
    >>> h = layer.forward(np.array([[[1.0], [0.0]]]))  # (batch 1, time 2, 1 feature)
    >>> h[0, :, 0].round(4).tolist()
    [0.7616, 0.3634]
    >>> _ = layer.backward(np.array([[[0.0], [1.0]]]))  # E = h_2
    >>> layer.grads["weight_hh_l0"].round(4).tolist()  # δ_2 h_1 = (1 − h_2²) h_1
    [[0.661]]
    """

    gates = 1

    def forward(self, x: np.ndarray, *, state: State | None = None) -> np.ndarray:
        """Run the sequence: h_t = tanh(W_H h_{t−1} + W_X x_t + b) for t = 1 … T.

        Parameters
        ----------
        x : numpy.ndarray
            (batch, time, input_size).
        state : numpy.ndarray or None, default None
            h_0, (batch, H); None starts from zeros (or from the carried state after
            `carry_state`).

        Returns
        -------
        numpy.ndarray
            h_1 … h_T, (batch, time, H); h_T is also kept in ``state``.
        """
        x = self._check_input(x)
        batch, steps = x.shape[:2]
        state = self._initial(state)
        h0 = (
            np.zeros((batch, self.hidden_size), self.dtype)
            if state is None
            else self._check_state_part(state, batch, "state h_0")
        )
        w_ih, w_hh, bias = self._weights()
        hs = self._project(x, w_ih, bias)  # holds W_X x_t + b, then h_t in place
        w_hh_t = np.ascontiguousarray(w_hh.T)
        hh = np.empty_like(h0)
        h = h0
        with small_products():
            for t in range(steps):
                np.matmul(h, w_hh_t, out=hh)  # W_H h_{t-1}
                kernels.rnn_forward_step(hs[t], hh)  # h_t = tanh(W_X x_t + b + W_H h_{t-1})
                h = hs[t]
        self._h0, self._hs = h0, hs
        self.state = hs[-1].copy()
        return hs.transpose(1, 0, 2)

    def backward(
        self, grad_output: np.ndarray, *, grad_state: State | None = None, input_grad: bool = True
    ) -> np.ndarray:
        """Backpropagation through time: δ_t = (1 − h_t²) ⊙ (∂E/∂h_t + W_H' δ_{t+1}).

        Fills ∂E/∂W_X = Σ_t δ_t x_t', ∂E/∂W_H = Σ_t δ_t h_{t−1}' and the bias gradients
        Σ_t δ_t; keeps ∂E/∂h_0 in ``grad_state``.

        Parameters
        ----------
        grad_output : numpy.ndarray
            ∂E/∂h_t for every step, (batch, time, H).
        grad_state : numpy.ndarray or None, default None
            ∂E/∂h_T arriving from beyond the sequence (batch, H), e.g. from a decoder
            that started from ``state``.
        input_grad : bool, default True
            False skips ∂E/∂x.

        Returns
        -------
        numpy.ndarray
            ∂E/∂x_t = W_X' δ_t, (batch, time, input_size); an empty array when
            ``input_grad`` is False.
        """
        dh = self._check_grad_output(grad_output)  # ∂E/∂h_t from above, time-major
        hs = self._hs
        steps, batch = hs.shape[:2]
        total = np.empty_like(hs)  # ∂E/∂h_t from above and from the next step
        rec = np.zeros_like(hs[0])  # W_H' δ_{t+1}, nothing beyond the last step
        if grad_state is not None:
            rec += self._check_state_part(grad_state, batch, "grad_state")  # ∂E/∂h_T from beyond
        w_hh = np.ascontiguousarray(self.params["weight_hh_l0"], dtype=self.dtype)
        delta = np.empty_like(hs)
        with small_products():
            for t in range(steps - 1, -1, -1):
                kernels.rnn_backward_step(hs[t], dh[t], rec, total[t], delta[t])  # δ_t = (1 - h_t²) ⊙ ∂E/∂h_t
                np.matmul(delta[t], w_hh, out=rec)  # ∂E/∂h_{t-1} gets W_H' δ_t
        self.grad_hidden = total.transpose(1, 0, 2)  # ∂E/∂h_k for every k (batch, time, hidden)
        self.grad_state = rec  # ∂E/∂h_0 = W_H' δ_1
        return self._finish_backward(delta, delta, self._hs, self._h0, input_grad)


class LSTM(Recurrent):
    """The long short-term memory layer: gated memory cells c_t beside the hidden state h_t.

    Forward, from (h_0, c_0) (zeros unless given), each gate's pre-activation is
    a = W_X x_t + W_H h_{t−1} + b (the four fused in one product per step):
    i, f, o = σ(a_i), σ(a_f), σ(a_o) (input, forget, output gates), g = tanh(a_g),
    c_t = f ⊙ c_{t−1} + i ⊙ g, h_t = o ⊙ tanh(c_t). Backward through time, with
    ∂h_t = ∂E/∂h_t + W_H' δ_{t+1}: the cell gradient
    ∂c_t = ∂h_t ⊙ o ⊙ (1 − tanh² c_t) + f_{t+1} ⊙ ∂c_{t+1}, and
    δ_t = (∂c_t ⊙ g ⊙ i(1 − i), ∂c_t ⊙ c_{t−1} ⊙ f(1 − f), ∂c_t ⊙ i ⊙ (1 − g²),
    ∂h_t ⊙ tanh(c_t) ⊙ o(1 − o)); the weight gradients are the RNN's sums,
    ∂E/∂W_X = Σ_t δ_t x_t', ∂E/∂W_H = Σ_t δ_t h_{t−1}'. Along the cell the gradient is
    multiplied by f rather than by W_H, so an open forget gate carries it far back.

    Input is (batch, time, input_size); the output is every hidden state h_1 … h_T,
    (batch, time, H), so a ``Dense`` on the last axis gives per-step outputs
    ŷ_t = softmax(W_Y h_t). W_X is ``weight_ih_l0`` and W_H ``weight_hh_l0``; both biases
    are added, b = b_ih + b_hh. After `carry_state` a forward pass without ``state``
    starts from the previous pass's final state (truncated BPTT) until `reset_state`.

    PyTorch: ``torch.nn.LSTM(batch_first=True)`` (``num_layers=1``); the same parameter
    names and layouts, gate order i, f, g, o.

    Parameters
    ----------
    input_size : int
        Features per time step of the input.
    hidden_size : int
        H, the size of the hidden state.
    forget_bias : float, default 0.0
        Added to the forget gate's part of ``bias_ih_l0`` at initialisation; a positive
        value (1 is common) starts with the gate open. 0 is PyTorch's initialisation.
    dtype : numpy dtype or str, default "float32"
        Floating type of the parameters and of the computation.
    seed : int or None, default None
        Seed of the weight draw, U(−1/√H, 1/√H) for every parameter as in PyTorch.

    Attributes
    ----------
    params : dict
        ``"weight_ih_l0"`` (4H, input_size), ``"weight_hh_l0"`` (4H, H),
        ``"bias_ih_l0"`` (4H,) and ``"bias_hh_l0"`` (4H,), rows in the gate order i, f, g, o.
    state : tuple of numpy.ndarray or None
        The final state after `forward`, the pair (h_T, c_T), each (batch, H).
    grad_state : tuple of numpy.ndarray or None
        ∂E/∂(initial state) after `backward`, to continue the chain into whatever produced
        the initial state (an encoder, say).
    grad_hidden : numpy.ndarray or None
        ∂E/∂h_t for every step after `backward`, (batch, time, H): how far back the
        gradient reaches (see ``gradstat.nn.gradient_by_lag``).

    Raises
    ------
    ValueError
        If a size is not a positive integer; from `forward`, for input that is not
        (batch, time, input_size) or a state of the wrong shape (the shapes named).
    TypeError
        If ``dtype`` is not floating.

    See Also
    --------
    GRU : two gates and no separate cell.
    Stacked : several LSTM layers, PyTorch's ``num_layers``.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import LSTM
    >>> layer = LSTM(3, 4, seed=0)
    >>> x = np.random.default_rng(0).normal(size=(2, 5, 3))  # (batch, time, features)
    >>> layer.forward(x).shape
    (2, 5, 4)
    >>> h_T, c_T = layer.state
    >>> h_T.shape, c_T.shape, layer.params["weight_ih_l0"].shape
    ((2, 4), (2, 4), (16, 3))
    >>> layer.backward(np.ones((2, 5, 4))).shape  # ∂E/∂x
    (2, 5, 3)
    """

    gates = 4

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        forget_bias: float = 0.0,
        dtype: str | type = "float32",
        seed: int | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, dtype=dtype, seed=seed)
        self.forget_bias = float(forget_bias)
        # an open forget gate (bias > 0) lets the cell carry information, and gradient, far back
        self.params["bias_ih_l0"][hidden_size : 2 * hidden_size] += self.forget_bias

    def config(self) -> dict[str, Any]:
        return {**super().config(), "forget_bias": self.forget_bias}

    @property
    def forget_gates(self) -> np.ndarray:
        """The forget gates f_t of the last forward pass, time-major (time, batch, hidden).

        Raises
        ------
        RuntimeError
            If read before a forward pass.
        """
        if not hasattr(self, "_gates"):
            raise RuntimeError("LSTM.forget_gates read before forward")
        hid = self.hidden_size
        return self._gates[..., hid : 2 * hid]

    def forward(self, x: np.ndarray, *, state: State | None = None) -> np.ndarray:
        """Run the sequence: c_t = f ⊙ c_{t−1} + i ⊙ g, h_t = o ⊙ tanh(c_t) for t = 1 … T.

        Parameters
        ----------
        x : numpy.ndarray
            (batch, time, input_size).
        state : tuple of numpy.ndarray or None, default None
            (h_0, c_0), each (batch, H); None starts from zeros (or from the carried state
            after `carry_state`).

        Returns
        -------
        numpy.ndarray
            h_1 … h_T, (batch, time, H); (h_T, c_T) is kept in ``state``.
        """
        x = self._check_input(x)
        batch, steps = x.shape[:2]
        hid = self.hidden_size
        state = self._initial(state)
        if state is None:
            h0 = np.zeros((batch, hid), self.dtype)
            c0 = np.zeros((batch, hid), self.dtype)
        else:
            if not isinstance(state, tuple | list) or len(state) != 2:
                raise ValueError("LSTM state must be a pair (h_0, c_0)")
            h0 = self._check_state_part(state[0], batch, "state h_0")
            c0 = self._check_state_part(state[1], batch, "state c_0")
        w_ih, w_hh, bias = self._weights()
        # σ(a) = (1 + tanh(a/2)) / 2: halve the sigmoid rows so that one tanh serves all gates
        half = np.full(4 * hid, 0.5, self.dtype)
        half[2 * hid : 3 * hid] = 1.0
        gates = self._project(x, w_ih * half[:, None], bias * half)  # then (i, f, g, o) in place
        w_hh_t = np.ascontiguousarray((w_hh * half[:, None]).T)
        cs = np.empty((steps, batch, hid), self.dtype)
        tcs = np.empty_like(cs)
        hs = np.empty_like(cs)
        hh = np.empty((batch, 4 * hid), self.dtype)
        h, c = h0, c0
        with small_products():
            for t in range(steps):
                np.matmul(h, w_hh_t, out=hh)  # W_H h_{t-1}, all four gates in one product
                # i, f, o = σ(a), g = tanh(a); c_t = f ⊙ c_{t-1} + i ⊙ g; h_t = o ⊙ tanh(c_t)
                kernels.lstm_forward_step(gates[t], hh, c, cs[t], tcs[t], hs[t])
                h, c = hs[t], cs[t]
        self._h0, self._c0, self._hs, self._cs, self._tcs, self._gates = h0, c0, hs, cs, tcs, gates
        self.state = (hs[-1].copy(), cs[-1].copy())
        return hs.transpose(1, 0, 2)

    def backward(
        self, grad_output: np.ndarray, *, grad_state: State | None = None, input_grad: bool = True
    ) -> np.ndarray:
        """Backpropagation through time and through the cell.

        ∂c_t = ∂h_t ⊙ o ⊙ (1 − tanh² c_t) + f_{t+1} ⊙ ∂c_{t+1}; the gate deltas as in the
        class docstring; keeps (∂E/∂h_0, ∂E/∂c_0) in ``grad_state``.

        Parameters
        ----------
        grad_output : numpy.ndarray
            ∂E/∂h_t for every step, (batch, time, H).
        grad_state : tuple of numpy.ndarray or None, default None
            (∂E/∂h_T, ∂E/∂c_T) arriving from beyond the sequence, each (batch, H).
        input_grad : bool, default True
            False skips ∂E/∂x.

        Returns
        -------
        numpy.ndarray
            ∂E/∂x_t = W_X' δ_t, (batch, time, input_size); an empty array when
            ``input_grad`` is False.
        """
        dh = self._check_grad_output(grad_output)  # ∂E/∂h_t from above, time-major
        gates, cs, tcs = self._gates, self._cs, self._tcs
        steps, batch = cs.shape[:2]
        total = np.empty_like(cs)  # ∂E/∂h_t from above and from the next step
        dc = np.zeros_like(cs[0])  # f_{t+1} ⊙ ∂E/∂c_{t+1}, nothing beyond the last step
        rec = np.zeros_like(dc)  # W_H' δ_{t+1}
        if grad_state is not None:
            if not isinstance(grad_state, tuple | list) or len(grad_state) != 2:
                raise ValueError("LSTM grad_state must be a pair (∂E/∂h_T, ∂E/∂c_T)")
            rec += self._check_state_part(grad_state[0], batch, "grad_state h")  # ∂E/∂h_T from beyond
            dc += self._check_state_part(grad_state[1], batch, "grad_state c")
        w_hh = np.ascontiguousarray(self.params["weight_hh_l0"], dtype=self.dtype)
        delta = np.empty_like(gates)
        with small_products():
            for t in range(steps - 1, -1, -1):
                c_prev = cs[t - 1] if t > 0 else self._c0
                # δ_t = ∂E/∂(a_i, a_f, a_g, a_o); dc becomes f_t ⊙ ∂E/∂c_t
                kernels.lstm_backward_step(gates[t], c_prev, tcs[t], dh[t], rec, dc, total[t], delta[t])
                np.matmul(delta[t], w_hh, out=rec)  # ∂E/∂h_{t-1} gets W_H' δ_t
        self.grad_hidden = total.transpose(1, 0, 2)  # ∂E/∂h_k for every k (batch, time, hidden)
        self.grad_state = (rec, dc)  # (∂E/∂h_0, ∂E/∂c_0)
        return self._finish_backward(delta, delta, self._hs, self._h0, input_grad)


class GRU(Recurrent):
    """The gated recurrent unit: a reset and an update gate, no separate cell.

    Forward (PyTorch's form): r = σ(a_r), z = σ(a_z) with a = W_X x_t + W_H h_{t−1} + b_ih
    + b_hh as the LSTM's gates; n = tanh(W_in x_t + b_in + r ⊙ (W_hn h_{t−1} + b_hn)), the
    reset gate scaling only the recurrent part; h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}. Backward
    through time, with ∂h_t = ∂E/∂h_t + (gradient from step t + 1):
    ∂a_n = ∂h_t ⊙ (1 − z) ⊙ (1 − n²), ∂a_z = ∂h_t ⊙ (h_{t−1} − n) ⊙ z(1 − z),
    ∂a_r = ∂a_n ⊙ (W_hn h_{t−1} + b_hn) ⊙ r(1 − r); W_X and b_ih see
    δˣ = (∂a_r, ∂a_z, ∂a_n), W_H and b_hh see δʰ = (∂a_r, ∂a_z, r ⊙ ∂a_n), and
    ∂E/∂h_{t−1} = z ⊙ ∂h_t + W_H' δʰ_t. The weight gradients are Σ_t δˣ_t x_t' and
    Σ_t δʰ_t h_{t−1}'.

    Input is (batch, time, input_size); the output is every hidden state h_1 … h_T,
    (batch, time, H), so a ``Dense`` on the last axis gives per-step outputs
    ŷ_t = softmax(W_Y h_t). W_X is ``weight_ih_l0`` and W_H ``weight_hh_l0``; the biases
    enter separately as above. After `carry_state` a forward pass without ``state``
    starts from the previous pass's final state (truncated BPTT) until `reset_state`.

    PyTorch: ``torch.nn.GRU(batch_first=True)`` (``num_layers=1``); the same parameter
    names and layouts, gate order r, z, n.

    Parameters
    ----------
    input_size : int
        Features per time step of the input.
    hidden_size : int
        H, the size of the hidden state.
    dtype : numpy dtype or str, default "float32"
        Floating type of the parameters and of the computation.
    seed : int or None, default None
        Seed of the weight draw, U(−1/√H, 1/√H) for every parameter as in PyTorch.

    Attributes
    ----------
    params : dict
        ``"weight_ih_l0"`` (3H, input_size), ``"weight_hh_l0"`` (3H, H),
        ``"bias_ih_l0"`` (3H,) and ``"bias_hh_l0"`` (3H,), rows in the gate order r, z, n.
    state : numpy.ndarray or None
        The final state after `forward`, h_T (batch, H).
    grad_state : numpy.ndarray or None
        ∂E/∂(initial state) after `backward`, to continue the chain into whatever produced
        the initial state (an encoder, say).
    grad_hidden : numpy.ndarray or None
        ∂E/∂h_t for every step after `backward`, (batch, time, H): how far back the
        gradient reaches (see ``gradstat.nn.gradient_by_lag``).

    Raises
    ------
    ValueError
        If a size is not a positive integer; from `forward`, for input that is not
        (batch, time, input_size) or a state of the wrong shape (the shapes named).
    TypeError
        If ``dtype`` is not floating.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import GRU
    >>> layer = GRU(3, 4, seed=0)
    >>> h = layer.forward(np.zeros((2, 5, 3)), state=np.ones((2, 4)))
    >>> h.shape, layer.state.shape, layer.params["weight_hh_l0"].shape
    ((2, 5, 4), (2, 4), (12, 4))
    >>> _ = layer.backward(np.zeros((2, 5, 4)), grad_state=np.ones((2, 4)))
    >>> layer.grad_state.shape  # ∂E/∂h_0
    (2, 4)
    """

    gates = 3

    def forward(self, x: np.ndarray, *, state: State | None = None) -> np.ndarray:
        """Run the sequence: h_t = (1 − z) ⊙ n + z ⊙ h_{t−1} for t = 1 … T.

        Parameters
        ----------
        x : numpy.ndarray
            (batch, time, input_size).
        state : numpy.ndarray or None, default None
            h_0, (batch, H); None starts from zeros (or from the carried state after
            `carry_state`).

        Returns
        -------
        numpy.ndarray
            h_1 … h_T, (batch, time, H); h_T is also kept in ``state``.
        """
        x = self._check_input(x)
        batch, steps = x.shape[:2]
        hid = self.hidden_size
        state = self._initial(state)
        h0 = (
            np.zeros((batch, hid), self.dtype)
            if state is None
            else self._check_state_part(state, batch, "state h_0")
        )
        p = self.params
        # σ(a) = (1 + tanh(a/2)) / 2: the r and z rows are halved, so that one tanh serves both
        half = np.full(3 * hid, 0.5, self.dtype)
        half[2 * hid :] = 1.0
        bias = p["bias_ih_l0"].astype(self.dtype)  # b_ih, plus b_hh for r and z
        bias[: 2 * hid] += p["bias_hh_l0"][: 2 * hid]
        gates = self._project(x, p["weight_ih_l0"] * half[:, None], bias * half)  # then (r, z, n)
        w_hh_t = np.ascontiguousarray((p["weight_hh_l0"] * half[:, None]).T, dtype=self.dtype)
        b_hn = np.ascontiguousarray(p["bias_hh_l0"][2 * hid :], dtype=self.dtype)
        hs = np.empty((steps, batch, hid), self.dtype)
        hns = np.empty_like(hs)
        hh = np.empty((batch, 3 * hid), self.dtype)
        h = h0
        with small_products():
            for t in range(steps):
                np.matmul(h, w_hh_t, out=hh)  # W_H h_{t-1}, all three gates in one product
                # r, z = σ(a); n = tanh(a_n + r ⊙ (W_hn h + b_hn)); h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}
                kernels.gru_forward_step(gates[t], hh, b_hn, h, hns[t], hs[t])
                h = hs[t]
        self._h0, self._hs, self._hns, self._gates = h0, hs, hns, gates
        self.state = hs[-1].copy()
        return hs.transpose(1, 0, 2)

    def backward(
        self, grad_output: np.ndarray, *, grad_state: State | None = None, input_grad: bool = True
    ) -> np.ndarray:
        """Backpropagation through time: ∂h_{t−1} = z ⊙ ∂h_t + W_H' δʰ_t, δʰ = (∂a_r, ∂a_z, r ⊙ ∂a_n).

        Keeps ∂E/∂h_0 in ``grad_state``.

        Parameters
        ----------
        grad_output : numpy.ndarray
            ∂E/∂h_t for every step, (batch, time, H).
        grad_state : numpy.ndarray or None, default None
            ∂E/∂h_T arriving from beyond the sequence, (batch, H).
        input_grad : bool, default True
            False skips ∂E/∂x.

        Returns
        -------
        numpy.ndarray
            ∂E/∂x_t = W_X' δˣ_t, (batch, time, input_size); an empty array when
            ``input_grad`` is False.
        """
        dh = self._check_grad_output(grad_output)  # ∂E/∂h_t from above, time-major
        hs, gates = self._hs, self._gates
        steps, batch = hs.shape[:2]
        total = np.empty_like(hs)  # ∂E/∂h_t from above and from the next step
        rec = np.zeros_like(hs[0])  # W_H' δ^h_{t+1}
        direct = np.zeros_like(rec)  # z_{t+1} ⊙ ∂E/∂h_{t+1}
        if grad_state is not None:
            rec += self._check_state_part(grad_state, batch, "grad_state")  # ∂E/∂h_T from beyond
        w_hh = np.ascontiguousarray(self.params["weight_hh_l0"], dtype=self.dtype)
        delta_x = np.empty_like(gates)  # ∂E/∂(W_X x_t + b_ih)
        delta_h = np.empty_like(gates)  # ∂E/∂(W_H h_{t-1} + b_hh)
        with small_products():
            for t in range(steps - 1, -1, -1):
                h_prev = hs[t - 1] if t > 0 else self._h0
                kernels.gru_backward_step(
                    gates[t], self._hns[t], h_prev, dh[t], rec, direct, total[t], delta_x[t], delta_h[t]
                )
                np.matmul(delta_h[t], w_hh, out=rec)  # ∂E/∂h_{t-1} gets W_H' δ^h_t
        self.grad_hidden = total.transpose(1, 0, 2)  # ∂E/∂h_k for every k (batch, time, hidden)
        self.grad_state = rec + direct  # ∂E/∂h_0
        return self._finish_backward(delta_x, delta_h, self._hs, self._h0, input_grad)


CELLS: dict[str, type[Recurrent]] = {"rnn": RNN, "lstm": LSTM, "gru": GRU}


class Stacked(Container):
    """Recurrent layers on top of each other: layer k reads the hidden states of layer k − 1.

    Forward: h⁽⁰⁾_t = x_t and h⁽ᵏ⁾ = cell_k(h⁽ᵏ⁻¹⁾) for k = 1 … L, each layer a full
    `RNN`, `LSTM` or `GRU` pass over the sequence; the output is the top layer's states.
    Backward: the chain rule down the stack, each layer's ∂E/∂input being the gradient
    of the layer below's outputs.

    The layers are held in ``layers``; their parameters carry PyTorch's layer suffixes
    (``weight_ih_l0``, ``weight_hh_l1``, …), so ``state_dict()`` has exactly the keys of
    ``torch.nn.RNN`` / ``LSTM`` / ``GRU(num_layers=L, batch_first=True)``, and ``state``
    has PyTorch's shape: h_0 (L, batch, H), or (h_0, c_0) for ``"lstm"``.

    PyTorch: ``torch.nn.LSTM(num_layers=L, batch_first=True)`` and its RNN/GRU siblings;
    the same parameter names, layouts and state shapes.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
        The layer type.
    input_size : int
        Features per time step of the input.
    hidden_size : int
        H, the hidden size of every layer.
    num_layers : int, default 2
        L, the number of layers.
    dtype : numpy dtype or str, default "float32"
        Floating type of the parameters.
    seed : int or None, default None
        Seeds the layers' draws (one independent stream per layer).

    Attributes
    ----------
    layers : list of Layer
        The L recurrent layers, bottom first.
    params : dict
        ``"weight_ih_l{k}"``, ``"weight_hh_l{k}"``, ``"bias_ih_l{k}"``, ``"bias_hh_l{k}"``
        for k = 0 … L − 1, the shapes of the layer type (layer 0's ``weight_ih`` reads
        ``input_size`` features, the others H).
    state : numpy.ndarray, tuple of numpy.ndarray, or None
        The final state after `forward`, (L, batch, H) per part.
    grad_state : numpy.ndarray, tuple of numpy.ndarray, or None
        ∂E/∂(initial state) after `backward`, the same shapes.

    Raises
    ------
    ValueError
        If ``cell`` is unknown or ``num_layers`` is not a positive integer; from `forward`,
        for a state of the wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import Stacked
    >>> lstm = Stacked("lstm", 3, 4, num_layers=2, seed=0)
    >>> lstm.forward(np.zeros((5, 7, 3))).shape
    (5, 7, 4)
    >>> [part.shape for part in lstm.state]  # (h_T, c_T) per layer
    [(2, 5, 4), (2, 5, 4)]
    >>> sorted(lstm.state_dict())[:4]
    ['bias_hh_l0', 'bias_hh_l1', 'bias_ih_l0', 'bias_ih_l1']
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 2,
        *,
        dtype: str | type = "float32",
        seed: int | None = None,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"num_layers must be a positive integer, got {num_layers!r}")
        self.cell, self.num_layers, self.seed = cell, num_layers, seed
        seeds = np.random.SeedSequence(seed).spawn(num_layers)
        self.layers = [
            CELLS[cell](
                input_size if k == 0 else hidden_size,
                hidden_size,
                dtype=dtype,
                seed=int(seeds[k].generate_state(1)[0]),
            )
            for k in range(num_layers)
        ]
        self.state: State | None = None
        self.grad_state: State | None = None

    def named_children(self) -> Iterator[tuple[str, Layer]]:
        for k, layer in enumerate(self.layers):
            yield str(k), layer

    def _gather(self, read: Callable[[Layer], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        # layer k's own "weight_ih_l0" is the stack's "weight_ih_l{k}"
        return {
            f"{name.removesuffix('_l0')}_l{k}": value
            for k, layer in enumerate(self.layers)
            for name, value in read(layer).items()
        }

    def _per_layer(self, state: State | None, batch: int) -> list[State | None]:
        if state is None:
            return [None] * self.num_layers
        shape = (self.num_layers, batch, self.layers[0].hidden_size)
        parts = list(state) if self.cell == "lstm" and isinstance(state, tuple | list) else [state]
        if len(parts) != (2 if self.cell == "lstm" else 1):
            raise ValueError(f"{self.cell} state must be " + ("(h_0, c_0)" if self.cell == "lstm" else "h_0"))
        arrays = [np.asarray(s) for s in parts]
        for a in arrays:
            if a.shape != shape:
                raise ValueError(f"state must have shape (layers, batch, hidden) = {shape}, got {a.shape}")
        if self.cell == "lstm":
            return [(arrays[0][k], arrays[1][k]) for k in range(self.num_layers)]
        return [arrays[0][k] for k in range(self.num_layers)]

    def _stack(self, states: list[Any]) -> State:
        if self.cell == "lstm":
            return (np.stack([s[0] for s in states]), np.stack([s[1] for s in states]))
        return np.stack(states)

    def forward(self, x: np.ndarray, *, state: State | None = None) -> np.ndarray:
        """Run the sequence through every layer, bottom first.

        Parameters
        ----------
        x : numpy.ndarray
            (batch, time, input_size).
        state : numpy.ndarray, tuple of numpy.ndarray, or None, default None
            h_0 (L, batch, H), or (h_0, c_0) for ``"lstm"``; None starts each layer from
            zeros (or from its carried state).

        Returns
        -------
        numpy.ndarray
            The top layer's h_1 … h_T, (batch, time, H).
        """
        x = self.layers[0]._check_input(x)
        states = self._per_layer(state, x.shape[0])  # None: each layer starts from zeros or its carried state
        for layer, s in zip(self.layers, states, strict=True):
            x = layer.forward(x, state=s)
        self.state = self._stack([layer.state for layer in self.layers])
        return x

    def backward(
        self, grad_output: np.ndarray, *, grad_state: State | None = None, input_grad: bool = True
    ) -> np.ndarray:
        """Backpropagate through the layers, top first.

        Parameters
        ----------
        grad_output : numpy.ndarray
            ∂E/∂(top layer's h_t), (batch, time, H).
        grad_state : numpy.ndarray, tuple of numpy.ndarray, or None, default None
            ∂E/∂(final state), the shape of ``state``.
        input_grad : bool, default True
            False skips ∂E/∂x for the bottom layer.

        Returns
        -------
        numpy.ndarray
            ∂E/∂x, (batch, time, input_size); an empty array when ``input_grad`` is False.
        """
        grad_states = self._per_layer(grad_state, np.asarray(grad_output).shape[0])
        g = grad_output
        for k in range(self.num_layers - 1, -1, -1):
            g = self.layers[k].backward(g, grad_state=grad_states[k], input_grad=input_grad or k > 0)
        self.grad_state = self._stack([layer.grad_state for layer in self.layers])
        return g

    def reset_state(self) -> Self:
        super().reset_state()
        self.state = None
        return self

    def output_shape(self, input_shape: Shape) -> Shape:
        for layer in self.layers:
            input_shape = layer.output_shape(input_shape)
        return input_shape

    def config(self) -> dict[str, Any]:
        first = self.layers[0]
        return {
            "cell": self.cell,
            "input_size": first.input_size,
            "hidden_size": first.hidden_size,
            "num_layers": self.num_layers,
            "dtype": first.dtype.name,
            "seed": self.seed,
        }
