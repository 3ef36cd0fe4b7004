"""The fully connected layer: net = x W' + b over the last axis."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstat.nn.layers.base import Layer, Shape, row_order, undo_order
from gradstat.nn.layers.init import INITIALISERS, Seed, initialise
from gradstat.threads import product_in_pass


class Dense(Layer):
    """A fully connected layer: an affine map of the last axis of the input.

    Forward: net_j = Σ_k w_jk x_k + b_j, i.e. net = x W' + b for a batch of rows x.
    Backward, with δ = ∂E/∂net: ∂E/∂w_jk = Σ_n δ_nj x_nk (∂E/∂W = δ' x, the notes'
    ∂E/∂net · ∂net/∂w with ∂net_j/∂w_jk = x_k), ∂E/∂b_j = Σ_n δ_nj, and
    ∂E/∂x = δ W, the δ handed to the layer below. A (batch, time, in_features) input is
    treated as batch·time rows, so one ``Dense`` gives a recurrent network's per-step
    outputs.

    PyTorch: ``torch.nn.Linear``; the same parameter names and layouts.

    Parameters
    ----------
    in_features : int
        Size of the input's last axis.
    out_features : int
        Size of the output's last axis.
    bias : bool, default True
        Learn the bias b; False fixes it at 0 (no ``bias`` parameter).
    init : str, default "xavier_uniform"
        How the weight is drawn: ``"xavier_uniform"``, ``"xavier_normal"``,
        ``"he_uniform"``, ``"he_normal"`` or ``"zeros"`` (see `xavier_uniform`). The bias
        starts at 0.
    seed : int, numpy.random.Generator or None, default None
        Seed of the weight draw; None draws from fresh entropy. Only an int is saved in
        ``config()``.
    dtype : numpy dtype or str, default "float32"
        Floating type of the parameters; inputs are cast to it.

    Attributes
    ----------
    params : dict
        ``"weight"`` (out_features, in_features) and ``"bias"`` (out_features,).
    grads : dict
        ∂E/∂weight and ∂E/∂bias after `backward`, the same shapes.

    Raises
    ------
    ValueError
        If a size is not a positive integer or ``init`` is unknown; from `forward`, if the
        input's last axis is not ``in_features``.
    TypeError
        If ``dtype`` is not floating; from `forward`, for non-numeric input.

    Examples
    --------
    The hidden layer of the notes' worked example (w1 … w4, b1):

    >>> import numpy as np
    >>> from gradstat.nn import Dense
    >>> layer = Dense(2, 2, dtype="float64")
    >>> layer.params["weight"][...] = [[0.15, 0.20], [0.25, 0.30]]
    >>> layer.params["bias"][...] = 0.35
    >>> net = layer.forward(np.array([[0.05, 0.10]]))
    >>> net.round(4).tolist()
    [[0.3775, 0.3925]]
    >>> grad_x = layer.backward(np.array([[1.0, 0.0]]))  # δ = ∂E/∂net
    >>> layer.grads["weight"].tolist(), grad_x.tolist()  # δ' x and δ W
    ([[0.05, 0.1], [0.0, 0.0]], [[0.15, 0.2]])
    """

    splits_batch = True  # copies may each take a part of a batch, side by side (replica)

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias: bool = True,
        init: str = "xavier_uniform",
        seed: Seed = None,
        dtype: Any = "float32",
    ) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Dense {name} must be a positive integer, got {value!r}")
        if init not in INITIALISERS:
            raise ValueError(f"Dense init must be one of {INITIALISERS}, got {init!r}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.bias = bool(bias)
        self.init = init
        self.seed = seed if isinstance(seed, int) else None
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"Dense dtype must be a floating type, got {self.dtype}")
        shape = (self.out_features, self.in_features)
        self.params["weight"] = initialise(init, shape, seed, self.dtype)
        if self.bias:
            self.params["bias"] = np.zeros(self.out_features, dtype=self.dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        w = self.params["weight"]
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":
            name = f"Dense({self.in_features}, {self.out_features})"
            raise TypeError(f"{name} expects numbers, got dtype {x.dtype}")
        if x.ndim < 1 or x.shape[-1:] != (self.in_features,):
            raise ValueError(
                f"Dense({self.in_features}, {self.out_features}) expects inputs with "
                f"{self.in_features} features on the last axis, got shape {x.shape}"
            )
        if x.dtype != w.dtype:
            x = x.astype(w.dtype)
        # Rows in the order they lie in memory (a time-major recurrent output seen batch-first),
        # so that every row is in one product without a copy; C order (a copy) otherwise.
        order = row_order(x)
        rows = x.transpose(order)
        self._x2, self._order = rows.reshape(-1, self.in_features), order
        product_in_pass(x.size * self.out_features)  # one BLAS thread if small after a small conv
        out = self._x2 @ w.T  # net = x W'
        if self.bias:
            out += self.params["bias"]  # + b
        return out.reshape(*rows.shape[:-1], self.out_features).transpose(undo_order(order))

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        """Fill ∂E/∂W = δ' x and ∂E/∂b = Σ δ; return ∂E/∂x = δ W (δ = ∂E/∂net).

        Parameters
        ----------
        grad_output : numpy.ndarray
            δ = ∂E/∂net, the shape of the last output.
        input_grad : bool, default True
            False skips ∂E/∂x (the first layer of a network does not need it).

        Returns
        -------
        numpy.ndarray
            ∂E/∂x, the shape of the last input; an empty array when ``input_grad`` is False.
        """
        w = self.params["weight"]
        x2, order = self._x2, self._order
        rows = np.asarray(grad_output).transpose(order)  # δ's rows in the order of x's rows
        g2 = rows.reshape(-1, self.out_features)
        if g2.dtype != w.dtype:
            g2 = g2.astype(w.dtype)
        product_in_pass(x2.size * self.out_features)
        np.matmul(g2.T, x2, out=self.grad_buffer("weight"))  # ∂E/∂w_jk = Σ_n δ_nj x_nk
        if self.bias:
            np.add.reduce(g2, axis=0, out=self.grad_buffer("bias"))  # ∂E/∂b_j = Σ_n δ_nj
        if not input_grad:
            return np.empty(0, dtype=w.dtype)
        dx = (g2 @ w).reshape(*rows.shape[:-1], self.in_features)  # ∂E/∂x = δ W
        return dx.transpose(undo_order(order))

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) < 2 or input_shape[-1] != self.in_features:
            raise ValueError(
                f"Dense({self.in_features}, {self.out_features}) expects "
                f"(batch, ..., {self.in_features}), got {input_shape}"
            )
        return (*input_shape[:-1], self.out_features)

    def config(self) -> dict[str, Any]:
        return {
            "in_features": self.in_features,
            "out_features": self.out_features,
            "bias": self.bias,
            "init": self.init,
            "seed": self.seed,
            "dtype": self.dtype.name,
        }
