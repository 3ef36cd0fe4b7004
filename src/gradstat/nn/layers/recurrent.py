"""Recurrent layers: the tanh RNN and the LSTM, trained by backpropagation through time.

Both read (batch, time, features) and return every hidden state (batch, time, hidden), so a
``Dense`` applied to the last axis gives the per-step outputs ŷ_t = softmax(W_Y h_t).
Parameters are named and shaped as PyTorch's ``nn.RNN`` / ``nn.LSTM`` (``batch_first=True``):
``weight_ih_l0`` (G·H, in), ``weight_hh_l0`` (G·H, H), ``bias_ih_l0``, ``bias_hh_l0``; LSTM gates
i, f, g, o. A lone layer is PyTorch's ``num_layers=1``; ``Stacked`` is ``num_layers=k``.

Initial state enters by keyword, ``forward(x, state=h_0)`` (LSTM: ``state=(h_0, c_0)``), and the
final state is kept in ``layer.state``. After ``carry_state()`` a forward pass without
``state`` starts from the last one's final state (truncated BPTT: the state is carried from one
chunk to the next, the gradient is not) until ``reset_state()``.

Internally the work runs time-major; everything that does not depend on h_{t-1} (input
projections, gate derivatives, ∂W) is done for all steps at once, leaving one GEMM and a few
element-wise calls per step.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Self

import numpy as np
from scipy.linalg import blas

from gradstat.nn.layers.base import Container, Layer, Shape

State = np.ndarray | tuple[np.ndarray, np.ndarray]


def _gemm_into(c: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """c += a @ b in place, one BLAS call (all three C-contiguous)."""
    gemm = blas.get_blas_funcs("gemm", (c,))
    gemm(1.0, b.T, a.T, 1.0, c.T, overwrite_c=1)  # (a b)' = b' a', Fortran view of c


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
        s = np.asarray(s, dtype=self.dtype)
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
        self, da: np.ndarray, h_prev: np.ndarray, w_ih: np.ndarray, input_grad: bool
    ) -> np.ndarray:
        """Everything after the recursion, for all steps at once; returns ∂E/∂x (B, T, in)."""
        d2 = da.reshape(-1, da.shape[-1])
        x2, h2 = self._xt.reshape(-1, self.input_size), h_prev.reshape(-1, self.hidden_size)
        np.matmul(d2.T, x2, out=self.grad_buffer("weight_ih_l0"))  # Σ_t δ_t x_t'
        np.matmul(d2.T, h2, out=self.grad_buffer("weight_hh_l0"))  # Σ_t δ_t h_{t-1}'
        np.sum(d2, axis=0, out=self.grad_buffer("bias_ih_l0"))  # Σ_t δ_t
        np.copyto(self.grad_buffer("bias_hh_l0"), self.grads["bias_ih_l0"])
        if not input_grad:
            return np.empty(0, dtype=self.dtype)
        dx = (d2 @ w_ih).reshape(da.shape[0], da.shape[1], self.input_size)
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
        return np.ascontiguousarray(g.transpose(1, 0, 2), dtype=self.dtype)


class RNN(Recurrent):
    """Elman RNN: a_t = W_H h_{t-1} + W_X x_t + b, h_t = tanh(a_t).

    ``forward(x, state=h_0)`` takes x (batch, time, input_size) and an optional h_0
    (batch, hidden); returns h_1…h_T (batch, time, hidden) and keeps h_T as ``self.state``.
    """

    gates = 1

    def forward(self, x: np.ndarray, *, state: State | None = None) -> np.ndarray:
        x = self._check_input(x)
        batch, steps = x.shape[:2]
        state = self._initial(state)
        h0 = (
            np.zeros((batch, self.hidden_size), self.dtype)
            if state is None
            else self._check_state_part(state, batch, "state h_0")
        )
        w_ih, w_hh, bias = self._weights()
        hs = self._project(x, w_ih, bias)  # holds a_t, then h_t in place
        w_hh_t = np.ascontiguousarray(w_hh.T)
        h = h0
        for t in range(steps):
            _gemm_into(hs[t], h, w_hh_t)  # a_t = W_X x_t + b + W_H h_{t-1}
            np.tanh(hs[t], out=hs[t])  # h_t = tanh(a_t)
            h = hs[t]
        self._h0, self._hs = h0, hs
        self.state = hs[-1].copy()
        return hs.transpose(1, 0, 2)

    def backward(
        self, grad_output: np.ndarray, *, grad_state: State | None = None, input_grad: bool = True
    ) -> np.ndarray:
        """BPTT: δ_t = (1 - h_t²) ⊙ (∂E/∂h_t + W_H' δ_{t+1}); ∂W_H = Σ_t δ_t h_{t-1}'."""
        dh = self._check_grad_output(grad_output)  # accumulates ∂E/∂h_t in place
        hs, h0 = self._hs, self._h0
        steps, batch = hs.shape[:2]
        if grad_state is not None:
            dh[-1] += self._check_state_part(grad_state, batch, "grad_state")
        w_ih, w_hh, _ = self._weights()
        w_hh = np.ascontiguousarray(w_hh)
        da = 1.0 - hs * hs  # tanh' for all steps at once, then δ_t in place
        for t in range(steps - 1, 0, -1):
            np.multiply(da[t], dh[t], out=da[t])  # δ_t = (1 - h_t²) ⊙ ∂E/∂h_t
            _gemm_into(dh[t - 1], da[t], w_hh)  # ∂E/∂h_{t-1} += W_H' δ_t
        np.multiply(da[0], dh[0], out=da[0])
        self.grad_hidden = dh.transpose(1, 0, 2)  # ∂E/∂h_k for every k (batch, time, hidden)
        self.grad_state = da[0] @ w_hh  # ∂E/∂h_0
        h_prev = np.concatenate([h0[None], hs[:-1]])
        return self._finish_backward(da, h_prev, w_ih, input_grad)


# internal gate order o, i, f, g: the sigmoids are one block, the c-driven derivatives another
_PERM = np.array([3, 0, 1, 2])  # PyTorch's (i, f, g, o) blocks in internal order


class LSTM(Recurrent):
    """LSTM: i, f, o = σ(·), g = tanh(·), c_t = f ⊙ c_{t-1} + i ⊙ g, h_t = o ⊙ tanh(c_t).

    Each gate's pre-activation is W_X x_t + W_H h_{t-1} + b, the four fused in one GEMM per
    step. ``state`` is the pair (h_0, c_0), each (batch, hidden). ``forget_bias`` is added to
    the initial forget-gate bias (PyTorch's initialisation when 0).
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

    def _internal(self, w: np.ndarray) -> np.ndarray:
        h = self.hidden_size
        return w.reshape(4, h, *w.shape[1:])[_PERM].reshape(w.shape)

    def _external(self, w: np.ndarray) -> np.ndarray:
        h = self.hidden_size
        return w.reshape(4, h, *w.shape[1:])[np.argsort(_PERM)].reshape(w.shape)

    @property
    def forget_gates(self) -> np.ndarray:
        """The forget gates f_t of the last forward pass, time-major (time, batch, hidden)."""
        if not hasattr(self, "_gates"):
            raise RuntimeError("LSTM.forget_gates read before forward")
        hid = self.hidden_size
        return self._gates[..., 2 * hid : 3 * hid]

    def forward(self, x: np.ndarray, *, state: State | None = None) -> np.ndarray:
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
        # σ(a) = (1 + tanh(a/2)) / 2: halve the sigmoid rows so one tanh serves all four gates
        scale = np.ones(4 * hid, self.dtype)
        scale[: 3 * hid] = 0.5
        w_ih_s = self._internal(w_ih) * scale[:, None]
        w_hh_s = np.ascontiguousarray((self._internal(w_hh) * scale[:, None]).T)
        gates = self._project(x, w_ih_s, self._internal(bias) * scale)  # (T, B, 4H)
        cs = np.empty((steps, batch, hid), self.dtype)
        tcs = np.empty_like(cs)
        hs = np.empty_like(cs)
        ig = np.empty((batch, hid), self.dtype)
        h, c = h0, c0
        for t in range(steps):
            z = gates[t]
            _gemm_into(z, h, w_hh_s)  # all four pre-activations, one GEMM
            np.tanh(z, out=z)
            s = z[:, : 3 * hid]
            s *= 0.5
            s += 0.5  # o, i, f = σ(·)
            o, i, f, g = z[:, :hid], z[:, hid : 2 * hid], z[:, 2 * hid : 3 * hid], z[:, 3 * hid :]
            np.multiply(f, c, out=cs[t])
            np.multiply(i, g, out=ig)
            cs[t] += ig  # c_t = f ⊙ c_{t-1} + i ⊙ g
            np.tanh(cs[t], out=tcs[t])
            np.multiply(o, tcs[t], out=hs[t])  # h_t = o ⊙ tanh(c_t)
            h, c = hs[t], cs[t]
        self._h0, self._c0, self._hs, self._cs, self._tcs, self._gates = h0, c0, hs, cs, tcs, gates
        self.state = (hs[-1].copy(), cs[-1].copy())
        return hs.transpose(1, 0, 2)

    def backward(
        self, grad_output: np.ndarray, *, grad_state: State | None = None, input_grad: bool = True
    ) -> np.ndarray:
        """BPTT through the cell: ∂c_t = ∂h_t ⊙ o ⊙ (1 - tanh²c_t) + f_{t+1} ⊙ ∂c_{t+1}."""
        dh = self._check_grad_output(grad_output)  # accumulates ∂E/∂h_t in place
        hid = self.hidden_size
        gates, cs, tcs, hs = self._gates, self._cs, self._tcs, self._hs
        steps, batch = hs.shape[:2]
        dc_next = np.zeros((batch, hid), self.dtype)
        if grad_state is not None:
            if not isinstance(grad_state, tuple | list) or len(grad_state) != 2:
                raise ValueError("LSTM grad_state must be a pair (∂E/∂h_T, ∂E/∂c_T)")
            dh[-1] += self._check_state_part(grad_state[0], batch, "grad_state h")
            dc_next += self._check_state_part(grad_state[1], batch, "grad_state c")
        o, i = gates[..., :hid], gates[..., hid : 2 * hid]
        f, g = gates[..., 2 * hid : 3 * hid], gates[..., 3 * hid :]
        c_prev = np.concatenate([self._c0[None], cs[:-1]])
        # factors that do not depend on the recursion, for all steps at once
        k = o * (1.0 - tcs * tcs)  # ∂c_t/∂h_t through h = o tanh(c)
        q = tcs * o * (1.0 - o)  # ∂a_o = ∂h ⊙ tanh(c) ⊙ σ'
        m = np.empty((steps, batch, 3, hid), self.dtype)
        np.multiply(g, i * (1.0 - i), out=m[:, :, 0])  # ∂a_i = ∂c ⊙ g ⊙ σ'(a_i)
        np.multiply(c_prev, f * (1.0 - f), out=m[:, :, 1])  # ∂a_f = ∂c ⊙ c_{t-1} ⊙ σ'(a_f)
        np.multiply(i, 1.0 - g * g, out=m[:, :, 2])  # ∂a_g = ∂c ⊙ i ⊙ tanh'(a_g)
        _, w_hh, _ = self._weights()
        w_hh_int = np.ascontiguousarray(self._internal(w_hh))
        da = np.empty((steps, batch, 4, hid), self.dtype)
        dc = np.empty((batch, hid), self.dtype)
        tmp = np.empty_like(dc)
        for t in range(steps - 1, -1, -1):
            np.multiply(dh[t], k[t], out=dc)
            if t < steps - 1:
                np.multiply(dc_next, f[t + 1], out=tmp)
                dc += tmp  # ∂c_t = ∂h_t ⊙ o ⊙ tanh'(c_t) + f_{t+1} ⊙ ∂c_{t+1}
            else:
                dc += dc_next
            np.multiply(dh[t], q[t], out=da[t, :, 0])
            np.multiply(dc[:, None, :], m[t], out=da[t, :, 1:])
            if t > 0:
                _gemm_into(dh[t - 1], da[t].reshape(batch, 4 * hid), w_hh_int)  # += W_H' δ_t
            dc, dc_next = dc_next, dc
        da2 = da.reshape(steps, batch, 4 * hid)
        self.grad_hidden = dh.transpose(1, 0, 2)  # ∂E/∂h_k for every k (batch, time, hidden)
        self.grad_state = (da2[0] @ w_hh_int, dc_next * f[0])  # (∂E/∂h_0, ∂E/∂c_0)
        h_prev = np.concatenate([self._h0[None], hs[:-1]])
        w_ih = self._internal(self.params["weight_ih_l0"])
        dx = self._finish_backward(da2, h_prev, w_ih, input_grad)
        for grad in self.grads.values():
            grad[...] = self._external(grad)  # back to PyTorch's gate order, in place
        return dx


CELLS: dict[str, type[Recurrent]] = {"rnn": RNN, "lstm": LSTM}


class Stacked(Container):
    """``num_layers`` RNN or LSTM layers, each reading the hidden states of the one below.

    The layers are held in ``layers``; their parameters are exposed with PyTorch's suffixes
    (``weight_ih_l0``, ``weight_hh_l1``, …), so ``state_dict()`` has exactly the keys of
    ``nn.RNN`` / ``nn.LSTM(num_layers=L, batch_first=True)``. ``state`` follows PyTorch too:
    h_0 of shape (L, batch, hidden), or (h_0, c_0) for LSTM.
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

    def _gather(self, attribute: str) -> dict[str, np.ndarray]:
        # layer k's own "weight_ih_l0" is the stack's "weight_ih_l{k}"
        return {
            f"{name.removesuffix('_l0')}_l{k}": value
            for k, layer in enumerate(self.layers)
            for name, value in getattr(layer, attribute).items()
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
        x = self.layers[0]._check_input(x)
        states = self._per_layer(state, x.shape[0])  # None: each layer starts from zeros or its carried state
        for layer, s in zip(self.layers, states, strict=True):
            x = layer.forward(x, state=s)
        self.state = self._stack([layer.state for layer in self.layers])
        return x

    def backward(
        self, grad_output: np.ndarray, *, grad_state: State | None = None, input_grad: bool = True
    ) -> np.ndarray:
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
