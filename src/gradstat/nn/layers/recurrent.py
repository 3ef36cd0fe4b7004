"""Recurrent layers: the tanh RNN and the LSTM, trained by backpropagation through time.

Both read (batch, time, features) and return every hidden state (batch, time, hidden), so a
``Dense`` applied to the last axis gives the per-step outputs ŷ_t = softmax(W_Y h_t).
Parameters are named and shaped as PyTorch's ``nn.RNN`` / ``nn.LSTM`` (``batch_first=True``):
``weight_ih`` (G·H, in), ``weight_hh`` (G·H, H), ``bias_ih``, ``bias_hh``; LSTM gates i, f, g, o.

Internally the work runs time-major; everything that does not depend on h_{t-1} (input
projections, gate derivatives, ∂W) is done for all steps at once, leaving one GEMM and a few
element-wise calls per step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.linalg import blas

from gradstat.nn.layers.base import Layer, Shape

State = np.ndarray | tuple[np.ndarray, np.ndarray]


def _gemm_into(c: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """c += a @ b in place, one BLAS call (all three C-contiguous)."""
    gemm = blas.get_blas_funcs("gemm", (c,))
    gemm(1.0, b.T, a.T, 1.0, c.T, overwrite_c=1)  # (a b)' = b' a', Fortran view of c


class _Recurrent(Layer):
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
            "weight_ih": (gh, input_size),
            "weight_hh": (gh, hidden_size),
            "bias_ih": (gh,),
            "bias_hh": (gh,),
        }
        self.params = {k: rng.uniform(-bound, bound, s).astype(self.dtype) for k, s in shapes.items()}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.state: State | None = None
        self.grad_state: State | None = None
        self.grad_hidden: np.ndarray | None = None

    # -- contract -------------------------------------------------------------------------
    def forward(self, x: np.ndarray, state: State | None = None) -> np.ndarray:
        raise NotImplementedError

    def backward(
        self, grad_output: np.ndarray, grad_state: State | None = None, input_grad: bool = True
    ) -> np.ndarray:
        raise NotImplementedError

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

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> _Recurrent:
        """Copy weights in, accepting PyTorch names (``weight_ih_l0``) or ours (``weight_ih``)."""
        for name, p in self.params.items():
            key = name if name in state_dict else f"{name}_l0"
            if key not in state_dict:
                raise KeyError(f"state_dict has no {name!r} (or {name + '_l0'!r})")
            value = state_dict[key]
            value = np.asarray(value.detach() if hasattr(value, "detach") else value)
            if value.shape != p.shape:
                raise ValueError(f"{key}: expected shape {p.shape}, got {value.shape}")
            p[...] = value
        return self

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
        return p["weight_ih"], p["weight_hh"], (p["bias_ih"] + p["bias_hh"]).astype(self.dtype)

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
        self.grads["weight_ih"] = d2.T @ self._xt.reshape(-1, self.input_size)  # Σ_t δ_t x_t'
        self.grads["weight_hh"] = d2.T @ h_prev.reshape(-1, self.hidden_size)  # Σ_t δ_t h_{t-1}'
        self.grads["bias_ih"] = d2.sum(axis=0)
        self.grads["bias_hh"] = self.grads["bias_ih"].copy()
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


class RNN(_Recurrent):
    """Elman RNN: a_t = W_H h_{t-1} + W_X x_t + b, h_t = tanh(a_t).

    ``forward(x, state=None)`` takes x (batch, time, input_size) and an optional h_0
    (batch, hidden); returns h_1…h_T (batch, time, hidden) and keeps h_T as ``self.state``.
    """

    gates = 1

    def forward(self, x: np.ndarray, state: State | None = None) -> np.ndarray:
        x = self._check_input(x)
        batch, steps = x.shape[:2]
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
        self, grad_output: np.ndarray, grad_state: State | None = None, input_grad: bool = True
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


class LSTM(_Recurrent):
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
        self.params["bias_ih"][hidden_size : 2 * hidden_size] += self.forget_bias

    def config(self) -> dict[str, Any]:
        return {**super().config(), "forget_bias": self.forget_bias}

    def _internal(self, w: np.ndarray) -> np.ndarray:
        h = self.hidden_size
        return w.reshape(4, h, *w.shape[1:])[_PERM].reshape(w.shape)

    def _external(self, w: np.ndarray) -> np.ndarray:
        h = self.hidden_size
        return w.reshape(4, h, *w.shape[1:])[np.argsort(_PERM)].reshape(w.shape)

    def forward(self, x: np.ndarray, state: State | None = None) -> np.ndarray:
        x = self._check_input(x)
        batch, steps = x.shape[:2]
        hid = self.hidden_size
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
        self, grad_output: np.ndarray, grad_state: State | None = None, input_grad: bool = True
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
        w_ih = self._internal(self.params["weight_ih"])
        dx = self._finish_backward(da2, h_prev, w_ih, input_grad)
        for name in self.grads:
            self.grads[name] = self._external(self.grads[name])
        return dx


CELLS: dict[str, type[_Recurrent]] = {"rnn": RNN, "lstm": LSTM}


class Stacked(Layer):
    """``num_layers`` RNN or LSTM layers, each reading the hidden states of the one below.

    Parameters carry PyTorch's suffixes (``weight_ih_l0``, ``weight_hh_l1``, …), so the
    ``state_dict`` of ``nn.RNN`` / ``nn.LSTM(num_layers=L, batch_first=True)`` loads directly.
    ``state`` follows PyTorch too: h_0 of shape (L, batch, hidden), or (h_0, c_0) for LSTM.
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
        self.params = {f"{n}_l{k}": p for k, lay in enumerate(self.layers) for n, p in lay.params.items()}
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}
        self.state: State | None = None
        self.grad_state: State | None = None

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

    def _gather(self, states: list[Any]) -> State:
        if self.cell == "lstm":
            return (np.stack([s[0] for s in states]), np.stack([s[1] for s in states]))
        return np.stack(states)

    def forward(self, x: np.ndarray, state: State | None = None) -> np.ndarray:
        x = self.layers[0]._check_input(x)
        states = self._per_layer(state, x.shape[0])
        for k, (layer, s) in enumerate(zip(self.layers, states, strict=True)):
            for name in layer.params:  # an optimiser may have replaced our arrays
                layer.params[name] = self.params[f"{name}_l{k}"]
            x = layer.forward(x, s)
        self.state = self._gather([layer.state for layer in self.layers])
        return x

    def backward(
        self, grad_output: np.ndarray, grad_state: State | None = None, input_grad: bool = True
    ) -> np.ndarray:
        grad_states = self._per_layer(grad_state, np.asarray(grad_output).shape[0])
        g = grad_output
        for k in range(self.num_layers - 1, -1, -1):
            layer = self.layers[k]
            g = layer.backward(g, grad_states[k], input_grad=input_grad or k > 0)
            for name, value in layer.grads.items():
                self.grads[f"{name}_l{k}"] = value
        self.grad_state = self._gather([layer.grad_state for layer in self.layers])
        return g

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

    def to(self, dtype: Any) -> Stacked:
        for k, layer in enumerate(self.layers):
            for name in layer.params:
                layer.params[name] = self.params[f"{name}_l{k}"]
            layer.to(dtype)
        self.params = {f"{n}_l{k}": p for k, lay in enumerate(self.layers) for n, p in lay.params.items()}
        self.grads = {}
        return self

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> Stacked:
        """Copy in a PyTorch ``state_dict`` (names ``weight_ih_l0`` …)."""
        for k, layer in enumerate(self.layers):
            layer.load_state_dict({n: state_dict[f"{n}_l{k}"] for n in layer.params})
        return self
