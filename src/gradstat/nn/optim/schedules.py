"""Learning-rate schedules: the rate γ_e used during epoch e (counted from 0).

Each epoch schedule is a closed formula of e and the starting rate γ₀; the values equal
PyTorch's ``torch.optim.lr_scheduler`` classes of the same names, stepped once per epoch.
``ReduceLROnPlateau`` instead watches a metric and cuts the rate when it stops improving.
A ``LearningRateScheduler`` callback (``gradstat.nn.training``) applies either to an optimiser.
"""

from __future__ import annotations

import math
from typing import Any


class Schedule:
    """Base class of the epoch schedules: ``schedule(epoch, base_lr)`` → the rate for that epoch."""

    def __call__(self, epoch: int, base_lr: float) -> float:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        return dict(vars(self))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


class StepLR(Schedule):
    """γ_e = γ₀ · gamma^⌊e / step_size⌋: the rate drops by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = _positive_int("step_size", step_size)
        self.gamma = _factor("gamma", gamma)

    def __call__(self, epoch: int, base_lr: float) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(Schedule):
    """γ_e = γ₀ · gamma^e."""

    def __init__(self, gamma: float) -> None:
        self.gamma = _factor("gamma", gamma)

    def __call__(self, epoch: int, base_lr: float) -> float:
        return base_lr * self.gamma**epoch


class CosineAnnealingLR(Schedule):
    """γ_e = η_min + (γ₀ − η_min)(1 + cos(π e / T_max)) / 2: half a cosine from γ₀ down to η_min
    over ``T_max`` epochs, then back up (the curve continues, as PyTorch's does)."""

    def __init__(self, T_max: int, eta_min: float = 0.0) -> None:
        self.T_max = _positive_int("T_max", T_max)
        if not (isinstance(eta_min, int | float) and math.isfinite(eta_min) and eta_min >= 0):
            raise ValueError(f"eta_min must be a finite number ≥ 0, got {eta_min!r}")
        self.eta_min = float(eta_min)

    def __call__(self, epoch: int, base_lr: float) -> float:
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


class ReduceLROnPlateau:
    """Multiply the rate by ``factor`` when the metric has not improved for ``patience`` epochs.

    An epoch improves on the best value b so far when (mode ``"min"``) the metric is below
    b(1 − threshold) (``threshold_mode="rel"``) or b − threshold (``"abs"``); ``"max"``
    mirrors this. After ``patience`` epochs in a row without improvement the rate becomes
    max(γ · factor, min_lr) — unless that changes it by no more than ``eps`` — and the next
    ``cooldown`` epochs count no bad epochs. PyTorch's semantics and defaults.
    """

    def __init__(
        self,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
    ) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        if not (isinstance(factor, int | float) and 0 < factor < 1):
            raise ValueError(f"factor must lie in (0, 1), got {factor!r}")
        for name, value in (("patience", patience), ("cooldown", cooldown)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        for name, number in (("threshold", threshold), ("min_lr", min_lr), ("eps", eps)):
            if not (isinstance(number, int | float) and math.isfinite(number) and number >= 0):
                raise ValueError(f"{name} must be a finite number ≥ 0, got {number!r}")
        self.mode, self.factor, self.patience = mode, float(factor), patience
        self.threshold, self.threshold_mode = float(threshold), threshold_mode
        self.cooldown, self.min_lr, self.eps = cooldown, float(min_lr), float(eps)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    def improves(self, value: float) -> bool:
        """Is ``value`` better than the best so far by more than the threshold?"""
        if self.mode == "min":
            bound = (
                self.best * (1 - self.threshold)
                if self.threshold_mode == "rel"
                else self.best - self.threshold
            )
            return value < bound
        bound = (
            self.best * (1 + self.threshold) if self.threshold_mode == "rel" else self.best + self.threshold
        )
        return value > bound

    def step(self, value: float, lr: float) -> float:
        """Record one epoch's metric; returns the rate for the next epoch."""
        if self.improves(value):
            self.best, self.num_bad_epochs = float(value), 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            reduced = max(lr * self.factor, self.min_lr)
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
            if lr - reduced > self.eps:
                return reduced
        return lr

    def state(self) -> dict[str, Any]:
        """The counters, JSON-serialisable (for a checkpoint)."""
        return {
            "best": self.best,
            "num_bad_epochs": self.num_bad_epochs,
            "cooldown_counter": self.cooldown_counter,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.best = float(state["best"])
        self.num_bad_epochs = int(state["num_bad_epochs"])
        self.cooldown_counter = int(state["cooldown_counter"])

    def __repr__(self) -> str:
        return (
            f"ReduceLROnPlateau(mode={self.mode!r}, factor={self.factor}, patience={self.patience}, "
            f"threshold={self.threshold}, threshold_mode={self.threshold_mode!r}, "
            f"cooldown={self.cooldown}, min_lr={self.min_lr})"
        )


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _factor(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (0 < value <= 1):
        raise ValueError(f"{name} must lie in (0, 1], got {value!r}")
    return float(value)
