"""Optimisers bound to what they update: ``opt = SGD(model, lr=0.5); opt.step()``.

``step`` reads every parameter's gradient from ``target.grads`` (filled by the
backward pass) and updates ``target.params`` in place, so the arrays a layer
holds are the arrays that change. The element-wise updates are fused loops
compiled with numba: one pass over each parameter, no temporaries, in the
parameter's own dtype.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

from gradstat.nn.layers.base import Layer

# Branch-free loops over distinct arrays, so that LLVM vectorises them.


@numba.njit(cache=True, error_model="numpy")
def _sgd_kernel(p, g, lr, wd):
    for i in range(p.size):
        d = g[i] + wd * p[i]  # ∂/∂w (E + λ/2 ‖w‖²) = ∂E/∂w + λ w
        p[i] = p[i] - lr * d  # w⁺ = w − γ ∂E/∂w


@numba.njit(cache=True, error_model="numpy")
def _sgd_momentum_kernel(p, g, v, lr, mu, wd, nesterov):
    for i in range(p.size):
        d = g[i] + wd * p[i]  # g + λ w
        u = mu * v[i] + d  # v ← μ v + g
        v[i] = u
        if nesterov:
            u = d + mu * u  # look ahead: g + μ v
        p[i] = p[i] - lr * u  # w⁺ = w − γ v


@numba.njit(cache=True, error_model="numpy")
def _adam_kernel(p, g, m, v, step, b1, b2, bc2, eps, wd, keep):
    one = b1 - b1 + 1  # 1 in the parameters' dtype
    for i in range(p.size):
        d = g[i] + wd * p[i]  # L2 penalty in the gradient (Adam's weight_decay)
        w = p[i] * keep  # decoupled decay w ← (1 − γλ) w (AdamW); keep = 1 for Adam
        m[i] = b1 * m[i] + (one - b1) * d  # m ← β₁ m + (1 − β₁) g
        v[i] = b2 * v[i] + (one - b2) * (d * d)  # v ← β₂ v + (1 − β₂) g²
        p[i] = w - step * (m[i] / (np.sqrt(v[i] / bc2) + eps))  # w⁺ = w − γ m̂ / (√v̂ + ε)


class Optimiser:
    """Base class of the optimisers: bound to a layer, `step` updates its parameters in place.

    The notes' gradient descent is w⁺ = w − γ ∂E/∂w; each subclass refines the step.
    `step` reads every gradient from ``target.grads`` (filled by ``backward``), optionally
    clips their global norm, and overwrites ``target.params`` in place, so the arrays a
    layer holds are the arrays that change. There is no ``zero_grad``: a backward pass
    overwrites the gradients rather than adding to them.

    PyTorch: ``torch.optim.Optimizer``, bound to a model rather than to a list of
    tensors; ``clip_norm`` does what ``torch.nn.utils.clip_grad_norm_`` does.

    Parameters
    ----------
    target : Layer
        The layer or `Sequential` whose ``params`` are updated from its ``grads``.
    lr : float
        γ, the learning rate, > 0. A schedule may change ``self.lr`` between epochs.
    clip_norm : float or None, default None
        c > 0: before the update, when the global norm ‖g‖ = √(Σ_i ‖g_i‖²) of all
        gradients exceeds c, every gradient is scaled by c / (‖g‖ + 10⁻⁶) (in place).
        None: no clipping.

    Attributes
    ----------
    state : dict[str, dict[str, numpy.ndarray]]
        Per-parameter buffers (``"momentum"``; Adam's ``"m"`` and ``"v"``), by parameter
        name.
    steps : int
        The number of updates so far (t in Adam's bias corrections).
    last_grad_norm : float
        The global gradient norm ‖g‖ before clipping, set by `step` when ``clip_norm`` is
        given.

    Raises
    ------
    TypeError
        If ``target`` is not a `Layer`.
    ValueError
        If ``lr`` or ``clip_norm`` is not a finite number > 0.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import MSE, SGD, Dense
    >>> layer = Dense(2, 1, seed=0)
    >>> optimiser = SGD(layer, lr=0.1, clip_norm=1.0)
    >>> loss = MSE()
    >>> _ = loss(layer.forward(np.ones((4, 2))), np.full((4, 1), 10.0))
    >>> _ = layer.backward(loss.backward())
    >>> optimiser.step()
    >>> optimiser.steps, optimiser.last_grad_norm > 1.0  # the norm before clipping
    (1, True)
    """

    def __init__(self, target: Layer, lr: float, clip_norm: float | None = None) -> None:
        if not isinstance(target, Layer):
            raise TypeError(f"an optimiser is bound to a Layer or Sequential, got {type(target)}")
        _positive("lr", lr)
        if clip_norm is not None:
            _positive("clip_norm", clip_norm)
        self.target = target
        self.lr = float(lr)
        self.clip_norm = None if clip_norm is None else float(clip_norm)
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self.steps = 0

    def step(self) -> None:
        """Apply one update to every parameter from its gradient (after clipping).

        Raises
        ------
        RuntimeError
            If a parameter has no gradient yet (``backward`` not called).
        ValueError
            If a gradient's shape differs from its parameter's.
        """
        params, grads = self.target.params, self.target.grads
        missing = [name for name in params if name not in grads]
        if missing:
            raise RuntimeError(f"no gradient for {missing}: call backward() before step()")
        if self.clip_norm is not None:
            self._clip(grads)
        self.steps += 1
        for name, p in params.items():
            g = grads[name]
            if g.shape != p.shape:
                raise ValueError(f"gradient of {name} has shape {g.shape}, parameter {p.shape}")
            work = p if p.flags.c_contiguous else np.ascontiguousarray(p)
            self._update(name, work, np.ascontiguousarray(g, dtype=p.dtype))
            if work is not p:
                np.copyto(p, work)

    def _clip(self, grads: dict[str, np.ndarray]) -> None:
        # g ← g · c / ‖g‖ when the global norm ‖g‖ = √(Σ ‖g_i‖²) exceeds c
        norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
        self.last_grad_norm = norm
        if self.clip_norm is not None and norm > self.clip_norm:
            scale = self.clip_norm / (norm + 1e-6)
            for g in grads.values():
                g *= scale

    def _update(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        """Update the C-contiguous ``p`` in place from ``g``."""
        raise NotImplementedError

    def _buffer(self, name: str, key: str, like: np.ndarray) -> np.ndarray:
        slot = self.state.setdefault(name, {})
        if key not in slot:
            slot[key] = np.zeros_like(like)
        return slot[key]

    def hyperparameters(self) -> dict[str, Any]:
        """The constructor's arguments, JSON-serialisable (for checkpoints and ``repr``).

        Returns
        -------
        dict
            Keyword arguments besides ``target``.
        """
        return {"lr": self.lr, "clip_norm": self.clip_norm}

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The per-parameter buffers as flat ``"{key}/{param}"`` arrays (for checkpoints).

        Returns
        -------
        dict[str, numpy.ndarray]
            E.g. ``{"m/0.weight": …, "v/0.weight": …}`` for Adam; the live arrays.
        """
        return {f"{key}/{name}": arr for name, slot in self.state.items() for key, arr in slot.items()}

    def load_state(self, arrays: dict[str, np.ndarray], steps: int) -> None:
        """Restore what `state_arrays` and ``steps`` recorded, so a run resumes exactly.

        Parameters
        ----------
        arrays : dict[str, numpy.ndarray]
            The output of `state_arrays` (copied).
        steps : int
            The number of updates made so far.
        """
        self.state = {}
        for full, arr in arrays.items():
            key, name = full.split("/", 1)
            self.state.setdefault(name, {})[key] = np.array(arr)
        self.steps = int(steps)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimiser):
    """Stochastic gradient descent: the notes' w⁺ = w − γ ∂E/∂w, with optional momentum.

    With g = ∂E/∂w + λ w (the ridge penalty λ/2 ‖w‖² added to E): without momentum
    w⁺ = w − γ g; with momentum μ, v ← μ v + g and w⁺ = w − γ v; with Nesterov momentum
    w⁺ = w − γ (g + μ v) (Sutskever et al.'s form). Weight decay applies to every
    parameter the optimiser updates, biases included.

    PyTorch: ``torch.optim.SGD`` (``dampening=0``); the same updates and names.

    Parameters
    ----------
    target : Layer
        The layer or `Sequential` whose ``params`` are updated from its ``grads``.
    lr : float, default 0.01
        γ, the learning rate, > 0. A schedule may change ``self.lr`` between epochs.
    momentum : float, default 0.0
        μ in [0, 1); 0 is plain gradient descent.
    clip_norm : float or None, default None
        c > 0: before the update, when the global norm ‖g‖ = √(Σ_i ‖g_i‖²) of all
        gradients exceeds c, every gradient is scaled by c / ‖g‖ (in place). None: no
        clipping.
    weight_decay : float, default 0.0
        λ ≥ 0.
    nesterov : bool, default False
        Step along g + μ v instead of v; needs ``momentum`` > 0.

    Raises
    ------
    TypeError
        If ``target`` is not a `Layer`.
    ValueError
        For an argument out of its range (named).

    Examples
    --------
    One step on the notes' worked example reproduces the errata's updated weights:

    >>> import numpy as np
    >>> from gradstat.nn import SGD, Dense, HalfSquaredError, Sequential, Sigmoid
    >>> model = Sequential([Dense(2, 2, dtype="float64"), Sigmoid(), Dense(2, 2, dtype="float64"), Sigmoid()])
    >>> _ = model.load_state_dict({"0.weight": [[0.15, 0.20], [0.25, 0.30]], "0.bias": [0.35, 0.35],
    ...                            "2.weight": [[0.40, 0.45], [0.50, 0.55]], "2.bias": [0.60, 0.60]})
    >>> loss = HalfSquaredError()
    >>> round(loss(model.forward(np.array([[0.05, 0.10]])), np.array([[0.01, 0.99]])), 9)
    0.298371109
    >>> _ = model.backward(loss.backward())
    >>> SGD(model, lr=0.5).step()
    >>> model.params["2.weight"].round(6).tolist()  # w5⁺ w6⁺ / w7⁺ w8⁺
    [[0.358916, 0.408666], [0.511301, 0.56137]]
    >>> model.params["0.weight"].round(6).tolist()  # w1⁺ w2⁺ / w3⁺ w4⁺
    [[0.149781, 0.199561], [0.249751, 0.299502]]
    """

    def __init__(
        self,
        target: Layer,
        lr: float = 0.01,
        momentum: float = 0.0,
        clip_norm: float | None = None,
        *,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(target, lr, clip_norm)
        if not (isinstance(momentum, int | float) and 0.0 <= momentum < 1.0):
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        if nesterov and not momentum:
            raise ValueError("nesterov=True needs momentum > 0")
        self.momentum = float(momentum)
        self.weight_decay = _non_negative("weight_decay", weight_decay)
        self.nesterov = bool(nesterov)

    def _update(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        dt = p.dtype.type
        if self.momentum:
            v = self._buffer(name, "momentum", p)
            _sgd_momentum_kernel(p.reshape(-1), g.reshape(-1), v.reshape(-1), dt(self.lr), dt(self.momentum),
                                 dt(self.weight_decay), self.nesterov)  # fmt: skip
        else:
            _sgd_kernel(p.reshape(-1), g.reshape(-1), dt(self.lr), dt(self.weight_decay))

    def hyperparameters(self) -> dict[str, Any]:
        return {
            **super().hyperparameters(),
            "momentum": self.momentum,
            "weight_decay": self.weight_decay,
            "nesterov": self.nesterov,
        }


class Adam(Optimiser):
    """Adam: a step per weight scaled by running estimates of the gradient's mean and square.

    With g = ∂E/∂w + λ w at step t: m ← β₁ m + (1 − β₁) g, v ← β₂ v + (1 − β₂) g², the bias
    corrections m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ), and w⁺ = w − γ m̂ / (√v̂ + ε). The
    first step moves every weight by about γ against the sign of its gradient. The L2
    term λ w is rescaled by Adam's step like the rest of the gradient; `AdamW` decouples
    it.

    PyTorch: ``torch.optim.Adam``; the same updates, names and defaults.

    Parameters
    ----------
    target : Layer
        The layer or `Sequential` whose ``params`` are updated from its ``grads``.
    lr : float, default 0.001
        γ, the learning rate, > 0. A schedule may change ``self.lr`` between epochs.
    betas : (float, float), default (0.9, 0.999)
        (β₁, β₂), each in [0, 1).
    eps : float, default 1e-8
        ε > 0, added to √v̂.
    clip_norm : float or None, default None
        c > 0: before the update, when the global norm ‖g‖ = √(Σ_i ‖g_i‖²) of all
        gradients exceeds c, every gradient is scaled by c / ‖g‖ (in place). None: no
        clipping.
    weight_decay : float, default 0.0
        λ ≥ 0, the L2 penalty added to the gradient.

    Raises
    ------
    TypeError
        If ``target`` is not a `Layer`.
    ValueError
        For an argument out of its range (named).

    See Also
    --------
    AdamW : weight decay outside the gradient statistics.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import MSE, Adam, Dense
    >>> layer = Dense(2, 1, dtype="float64", seed=0)
    >>> before = layer.params["weight"].copy()
    >>> loss = MSE()
    >>> _ = loss(layer.forward(np.array([[1.0, -2.0]])), np.array([[3.0]]))
    >>> _ = layer.backward(loss.backward())
    >>> Adam(layer, lr=0.01).step()
    >>> step = before - layer.params["weight"]
    >>> (step / np.sign(layer.grads["weight"])).round(6).tolist()  # γ against the sign of g
    [[0.01, 0.01]]
    """

    _decoupled = False

    def __init__(
        self,
        target: Layer,
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        clip_norm: float | None = None,
        *,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(target, lr, clip_norm)
        b1, b2 = betas
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
            raise ValueError(f"betas must lie in [0, 1), got {betas!r}")
        _positive("eps", eps)
        self.betas = (float(b1), float(b2))
        self.eps = float(eps)
        self.weight_decay = _non_negative("weight_decay", weight_decay)

    def _update(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        b1, b2 = self.betas
        m = self._buffer(name, "m", p)
        v = self._buffer(name, "v", p)
        dt = p.dtype.type
        step = self.lr / (1.0 - b1**self.steps)  # γ / (1 − β₁ᵗ)
        bc2 = 1.0 - b2**self.steps  # v̂ = v / (1 − β₂ᵗ)
        if self._decoupled:
            l2, keep = 0.0, 1.0 - self.lr * self.weight_decay  # w ← (1 − γλ) w
        else:
            l2, keep = self.weight_decay, 1.0
        _adam_kernel(p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1),
                     dt(step), dt(b1), dt(b2), dt(bc2), dt(self.eps), dt(l2), dt(keep))  # fmt: skip

    def hyperparameters(self) -> dict[str, Any]:
        return {
            **super().hyperparameters(),
            "betas": list(self.betas),
            "eps": self.eps,
            "weight_decay": self.weight_decay,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter).

    Before Adam's step every weight shrinks, w ← (1 − γλ) w, outside the gradient
    statistics; then m, v and w⁺ = w − γ m̂ / (√v̂ + ε) as in `Adam`, from g = ∂E/∂w alone.
    The decay is therefore the same for every weight, not rescaled by √v̂.

    PyTorch: ``torch.optim.AdamW``; the same updates, names and defaults (λ = 0.01).

    Parameters
    ----------
    target : Layer
        The layer or `Sequential` whose ``params`` are updated from its ``grads``.
    lr : float, default 0.001
        γ, the learning rate, > 0. A schedule may change ``self.lr`` between epochs.
    betas : (float, float), default (0.9, 0.999)
        (β₁, β₂), each in [0, 1).
    eps : float, default 1e-8
        ε > 0, added to √v̂.
    clip_norm : float or None, default None
        c > 0: before the update, when the global norm ‖g‖ = √(Σ_i ‖g_i‖²) of all
        gradients exceeds c, every gradient is scaled by c / ‖g‖ (in place). None: no
        clipping.
    weight_decay : float, default 0.01
        λ ≥ 0, the decoupled decay rate.

    Raises
    ------
    TypeError
        If ``target`` is not a `Layer`.
    ValueError
        For an argument out of its range (named).

    Examples
    --------
    With a zero gradient only the decay acts: w ← (1 − γλ) w.

    >>> import numpy as np
    >>> from gradstat.nn import AdamW, Dense
    >>> layer = Dense(1, 1, dtype="float64")
    >>> layer.params["weight"][...] = 1.0
    >>> _ = layer.forward(np.ones((1, 1)))
    >>> _ = layer.backward(np.zeros((1, 1)))
    >>> AdamW(layer, lr=0.1, weight_decay=0.5).step()
    >>> layer.params["weight"].round(6).tolist()  # 1 − 0.1 · 0.5
    [[0.95]]
    """

    _decoupled = True

    def __init__(
        self,
        target: Layer,
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        clip_norm: float | None = None,
        *,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(target, lr, betas, eps, clip_norm, weight_decay=weight_decay)


OPTIMISERS: dict[str, type[Optimiser]] = {"SGD": SGD, "Adam": Adam, "AdamW": AdamW}


def _positive(name: str, value: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.floating)
        or not (math.isfinite(value) and value > 0)
    ):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def _non_negative(name: str, value: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.floating)
        or not (math.isfinite(value) and value >= 0)
    ):
        raise ValueError(f"{name} must be a finite number ≥ 0, got {value!r}")
    return float(value)
