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
    """Base class: validation, global-norm clipping and state for checkpoints."""

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
        """Apply one update to every parameter that has a gradient."""
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
        """Constructor arguments (JSON-serialisable) plus the step count."""
        return {"lr": self.lr, "clip_norm": self.clip_norm}

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Per-parameter state as ``"{key}/{param}"`` arrays (for checkpoints)."""
        return {f"{key}/{name}": arr for name, slot in self.state.items() for key, arr in slot.items()}

    def load_state(self, arrays: dict[str, np.ndarray], steps: int) -> None:
        """Restore what ``state_arrays`` and ``steps`` recorded."""
        self.state = {}
        for full, arr in arrays.items():
            key, name = full.split("/", 1)
            self.state.setdefault(name, {})[key] = np.array(arr)
        self.steps = int(steps)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimiser):
    """The notes' w⁺ = w − γ ∂E/∂w; with momentum μ: v ← μ v + ∂E/∂w, w⁺ = w − γ v (as PyTorch).

    ``weight_decay`` λ adds the ridge penalty λ/2 ‖w‖² to the error, so λ w joins the
    gradient before momentum (PyTorch's ``weight_decay``; like PyTorch it applies to every
    parameter the optimiser updates, biases included). ``nesterov=True`` steps along
    g + μ v instead of v (Sutskever et al.'s form, as PyTorch).
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
    """Adam: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², w⁺ = w − γ m̂ / (√v̂ + ε),
    with the bias corrections m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ).

    ``weight_decay`` λ is the L2 penalty added to the gradient, g + λ w (PyTorch's ``Adam``);
    its effect is rescaled by Adam's step — ``AdamW`` decouples it.
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
    """Adam with decoupled weight decay (Loshchilov & Hutter): before Adam's step every
    weight shrinks, w ← (1 − γλ) w, outside the gradient statistics (PyTorch's ``AdamW``;
    default λ = 0.01 as there)."""

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
