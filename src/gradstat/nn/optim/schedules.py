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
    """Base class of the epoch schedules: a closed formula γ_e = schedule(e, γ₀).

    A schedule is called with the epoch e (from 0) and the starting rate γ₀ and returns the
    rate for that epoch; a ``LearningRateScheduler`` callback sets ``optimiser.lr`` to it
    at the start of each epoch. A subclass stores its hyper-parameters as attributes and
    implements ``__call__``.

    PyTorch: ``torch.optim.lr_scheduler.LRScheduler`` stepped once per epoch, written as
    a function of the epoch rather than as a stateful object.

    See Also
    --------
    StepLR, ExponentialLR, CosineAnnealingLR : the schedules.
    ReduceLROnPlateau : a rate that follows a metric instead.

    Examples
    --------
    >>> from gradstat.nn import StepLR
    >>> schedule = StepLR(step_size=2, gamma=0.5)
    >>> [schedule(epoch, 0.1) for epoch in range(5)]
    [0.1, 0.1, 0.05, 0.05, 0.025]
    >>> schedule.config()
    {'step_size': 2, 'gamma': 0.5}
    """

    def __call__(self, epoch: int, base_lr: float) -> float:
        """The learning rate for ``epoch``.

        Parameters
        ----------
        epoch : int
            e, counted from 0.
        base_lr : float
            γ₀, the optimiser's starting rate.

        Returns
        -------
        float
            γ_e.
        """
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        """The constructor's arguments, JSON-serialisable (saved with a checkpoint).

        Returns
        -------
        dict
            Keyword arguments that rebuild the schedule.
        """
        return dict(vars(self))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"{type(self).__name__}({args})"


class StepLR(Schedule):
    """A rate cut by a factor every few epochs: γ_e = γ₀ · gamma^⌊e / step_size⌋.

    PyTorch: ``torch.optim.lr_scheduler.StepLR``; the same names, defaults and values.

    Parameters
    ----------
    step_size : int
        Epochs between cuts, ≥ 1.
    gamma : float, default 0.1
        The factor of each cut, in (0, 1].

    Raises
    ------
    ValueError
        If ``step_size`` is not a positive integer or ``gamma`` is outside (0, 1].

    Examples
    --------
    >>> from gradstat.nn import StepLR
    >>> schedule = StepLR(step_size=3)
    >>> [round(schedule(epoch, 1.0), 6) for epoch in (0, 2, 3, 6)]
    [1.0, 1.0, 0.1, 0.01]
    """

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = _positive_int("step_size", step_size)
        self.gamma = _factor("gamma", gamma)

    def __call__(self, epoch: int, base_lr: float) -> float:
        """γ₀ · gamma^⌊epoch / step_size⌋, the rate for ``epoch`` (from 0) given γ₀ = ``base_lr``."""
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(Schedule):
    """A rate that decays geometrically: γ_e = γ₀ · gamma^e.

    PyTorch: ``torch.optim.lr_scheduler.ExponentialLR``; the same name and values.

    Parameters
    ----------
    gamma : float
        The factor per epoch, in (0, 1].

    Raises
    ------
    ValueError
        If ``gamma`` is outside (0, 1].

    Examples
    --------
    >>> from gradstat.nn import ExponentialLR
    >>> schedule = ExponentialLR(0.5)
    >>> [schedule(epoch, 0.1) for epoch in range(4)]
    [0.1, 0.05, 0.025, 0.0125]
    """

    def __init__(self, gamma: float) -> None:
        self.gamma = _factor("gamma", gamma)

    def __call__(self, epoch: int, base_lr: float) -> float:
        """γ₀ · gamma^epoch, the rate for ``epoch`` (from 0) given γ₀ = ``base_lr``."""
        return base_lr * self.gamma**epoch


class CosineAnnealingLR(Schedule):
    """A rate that follows half a cosine: γ_e = η_min + (γ₀ − η_min)(1 + cos(π e / T_max)) / 2.

    The rate falls from γ₀ to η_min over ``T_max`` epochs, then rises again (the curve
    continues, as PyTorch's closed form does; there are no warm restarts).

    PyTorch: ``torch.optim.lr_scheduler.CosineAnnealingLR``; the same names and values.

    Parameters
    ----------
    T_max : int
        Epochs from γ₀ down to η_min, ≥ 1.
    eta_min : float, default 0.0
        η_min ≥ 0, the lowest rate.

    Raises
    ------
    ValueError
        If ``T_max`` is not a positive integer or ``eta_min`` is negative or not finite.

    Examples
    --------
    >>> from gradstat.nn import CosineAnnealingLR
    >>> schedule = CosineAnnealingLR(T_max=4)
    >>> [round(schedule(epoch, 1.0), 4) for epoch in range(5)]
    [1.0, 0.8536, 0.5, 0.1464, 0.0]
    """

    def __init__(self, T_max: int, eta_min: float = 0.0) -> None:
        self.T_max = _positive_int("T_max", T_max)
        if not (isinstance(eta_min, int | float) and math.isfinite(eta_min) and eta_min >= 0):
            raise ValueError(f"eta_min must be a finite number ≥ 0, got {eta_min!r}")
        self.eta_min = float(eta_min)

    def __call__(self, epoch: int, base_lr: float) -> float:
        """η_min + (γ₀ − η_min)(1 + cos(π epoch / T_max)) / 2, given γ₀ = ``base_lr``."""
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


class ReduceLROnPlateau:
    """Multiply the rate by ``factor`` when a metric has stopped improving.

    An epoch improves on the best value b so far when (mode ``"min"``) the metric is below
    b(1 − threshold) (``threshold_mode="rel"``) or b − threshold (``"abs"``); ``"max"``
    mirrors this (above b(1 + threshold) or b + threshold). After more than ``patience``
    epochs in a row without improvement the rate becomes γ⁺ = max(γ · factor, min_lr) —
    unless that changes it by no more than ``eps`` — and the next ``cooldown`` epochs
    count no bad epochs. Unlike the epoch schedules it keeps state (the best value and the
    counters), which checkpoints save.

    PyTorch: ``torch.optim.lr_scheduler.ReduceLROnPlateau``; the same names, defaults and
    semantics, with the rate passed in and returned instead of read from an optimiser.

    Parameters
    ----------
    mode : {"min", "max"}, default "min"
        Whether the metric should fall (a loss) or rise (an accuracy).
    factor : float, default 0.1
        The factor of each cut, in (0, 1).
    patience : int, default 10
        Epochs without improvement tolerated before a cut, ≥ 0.
    threshold : float, default 1e-4
        The least improvement that counts, ≥ 0.
    threshold_mode : {"rel", "abs"}, default "rel"
        Whether ``threshold`` is relative to the best value or absolute.
    cooldown : int, default 0
        Epochs after a cut during which bad epochs are not counted, ≥ 0.
    min_lr : float, default 0.0
        The rate is never cut below this.
    eps : float, default 1e-8
        A cut smaller than this is skipped.

    Attributes
    ----------
    best : float
        The best metric so far (±inf before the first epoch).
    num_bad_epochs : int
        Epochs in a row without improvement.
    cooldown_counter : int
        Epochs of cooldown left.

    Raises
    ------
    ValueError
        For an argument out of its range (named).

    Examples
    --------
    >>> from gradstat.nn import ReduceLROnPlateau
    >>> plateau = ReduceLROnPlateau(patience=1, factor=0.5)
    >>> lr = 0.1
    >>> for loss in [1.0, 0.9, 0.9, 0.9, 0.9]:
    ...     lr = plateau.step(loss, lr)
    ...     print(round(lr, 4), plateau.num_bad_epochs)
    0.1 0
    0.1 0
    0.1 1
    0.05 0
    0.05 1
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
        """Whether ``value`` beats the best so far by more than the threshold.

        Parameters
        ----------
        value : float
            This epoch's metric.

        Returns
        -------
        bool
            True for an improvement in the sense of ``mode`` and ``threshold_mode``.
        """
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
        """Record one epoch's metric and return the rate for the next epoch.

        Parameters
        ----------
        value : float
            This epoch's metric (e.g. ``val_loss``).
        lr : float
            The current rate γ.

        Returns
        -------
        float
            γ, or max(γ · factor, min_lr) after more than ``patience`` bad epochs.
        """
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
        """The best value and the counters, JSON-serialisable (for a checkpoint).

        Returns
        -------
        dict
            ``best``, ``num_bad_epochs`` and ``cooldown_counter``.
        """
        return {
            "best": self.best,
            "num_bad_epochs": self.num_bad_epochs,
            "cooldown_counter": self.cooldown_counter,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore what `state` returned, so a resumed run cuts the rate when the first would have.

        Parameters
        ----------
        state : dict
            The output of `state`.
        """
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
