"""Callbacks: code that ``Trainer`` runs at fixed points of the loop (Keras' hooks).

Subclass ``Callback`` and override any of ``on_train_begin(logs)``, ``on_epoch_begin(epoch,
logs)``, ``on_batch_end(batch, logs)``, ``on_epoch_end(epoch, logs)``, ``on_train_end(logs)``;
``self.trainer`` is the running ``Trainer`` (its ``model``, ``optimiser``, ``history``), and
setting ``self.trainer.stop_training = True`` ends training after the current epoch.
Epochs are counted from 0; ``logs`` at the end of an epoch hold its ``loss``, ``accuracy``
(class labels) and ``val_…`` metrics; after a batch, its ``batch`` index, ``size`` and ``loss``.
"""

from __future__ import annotations

import csv
import json
import math
import pathlib
from typing import TYPE_CHECKING, Any

import numpy as np

from gradstat.nn.io import save_checkpoint
from gradstat.nn.optim.schedules import ReduceLROnPlateau, Schedule

if TYPE_CHECKING:
    from gradstat.nn.training.trainer import Trainer


class Callback:
    """Base class: every hook does nothing."""

    trainer: Trainer

    def set_trainer(self, trainer: Trainer) -> None:
        self.trainer = trainer

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        """Before the first epoch; ``logs`` hold ``epochs`` and ``initial_epoch``."""

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        """Before the epoch's first batch; what is put in ``logs`` joins the epoch's record."""

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        """After the optimiser step of a batch."""

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        """After the epoch's validation; its record is already in ``trainer.history``."""

    def on_train_end(self, logs: dict[str, Any]) -> None:
        """After the last epoch (not after an exception); ``logs`` is the history."""


def _monitored(logs: dict[str, Any], monitor: str, who: str) -> float:
    if monitor not in logs:
        raise ValueError(f"{who} monitors {monitor!r}, but the epoch logged only {sorted(logs)}")
    return float(logs[monitor])


def _check_mode(mode: str) -> None:
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    With ``restore_best_weights`` (the default) the model ends with the weights of the best
    epoch, whether or not training stopped early. ``stopped_epoch`` is the epoch it stopped
    after (None if it ran to the end).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 0,
        min_delta: float = 0.0,
        mode: str = "min",
        restore_best_weights: bool = True,
    ) -> None:
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"patience must be a non-negative integer, got {patience!r}")
        if not (isinstance(min_delta, int | float) and math.isfinite(min_delta) and min_delta >= 0):
            raise ValueError(f"min_delta must be a finite number ≥ 0, got {min_delta!r}")
        _check_mode(mode)
        self.monitor, self.patience, self.min_delta, self.mode = monitor, patience, float(min_delta), mode
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_epoch: int | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None
        self.best_weights: dict[str, np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        value = _monitored(logs, self.monitor, "EarlyStopping")
        better = (
            value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta
        )
        if better:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = {k: p.copy() for k, p in self.trainer.model.state_dict().items()}
            return
        self.wait += 1
        if self.wait >= self.patience:  # Keras: patience 0 stops at the first epoch without gain
            self.stopped_epoch = epoch
            self.trainer.stop_training = True

    def on_train_end(self, logs: dict[str, Any]) -> None:
        if self.best_weights is not None:
            self.trainer.model.load_state_dict(self.best_weights)


class ModelCheckpoint(Callback):
    """Save model, optimiser and shuffling generator after every epoch (``save_checkpoint``).

    ``path`` may hold ``{epoch}`` (1-based, e.g. ``"ck/epoch-{epoch:03d}.safetensors"``) to
    keep one file per epoch. ``save_best_only`` saves only epochs that improve ``monitor``.
    Resume with ``load_checkpoint`` and ``initial_epoch=checkpoint.epoch``.
    """

    def __init__(
        self,
        path: str | pathlib.Path,
        *,
        save_best_only: bool = False,
        monitor: str = "val_loss",
        mode: str = "min",
    ) -> None:
        _check_mode(mode)
        self.path = str(path)
        self.save_best_only, self.monitor, self.mode = save_best_only, monitor, mode
        self.best = math.inf if mode == "min" else -math.inf

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if not (value < self.best if self.mode == "min" else value > self.best):
                return
            self.best = value
        trainer = self.trainer
        path = pathlib.Path(self.path.format(epoch=epoch + 1))
        model: Any = trainer.model
        model.history_ = trainer.history  # travels in the file's metadata
        save_checkpoint(path, trainer.model, trainer.optimiser, trainer.rng, epoch + 1)


class LearningRateScheduler(Callback):
    """Set the optimiser's rate from a schedule (``gradstat.nn.optim.schedules``).

    An epoch ``Schedule`` sets γ_e = schedule(e, base_lr) before each epoch e; ``base_lr``
    defaults to the optimiser's rate when training starts at epoch 0 (give it when resuming).
    ``ReduceLROnPlateau`` reads ``monitor`` after each epoch and sets the next epoch's rate.
    Each epoch's rate is logged as ``lr``.
    """

    def __init__(
        self,
        schedule: Schedule | ReduceLROnPlateau,
        *,
        monitor: str = "val_loss",
        base_lr: float | None = None,
    ) -> None:
        if not isinstance(schedule, Schedule | ReduceLROnPlateau):
            raise TypeError(
                f"schedule must be a Schedule or ReduceLROnPlateau, got {type(schedule).__name__}"
            )
        if base_lr is not None and not (
            isinstance(base_lr, int | float) and math.isfinite(base_lr) and base_lr > 0
        ):
            raise ValueError(f"base_lr must be a finite number > 0, got {base_lr!r}")
        self.schedule, self.monitor, self.base_lr = schedule, monitor, base_lr

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        if self.base_lr is None:
            if logs.get("initial_epoch", 0) and isinstance(self.schedule, Schedule):
                raise ValueError("resuming a scheduled run needs LearningRateScheduler(base_lr=…)")
            self.base_lr = self.trainer.optimiser.lr

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        optimiser = self.trainer.optimiser
        if isinstance(self.schedule, Schedule):
            assert self.base_lr is not None
            optimiser.lr = self.schedule(epoch, self.base_lr)
        logs["lr"] = optimiser.lr

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if isinstance(self.schedule, ReduceLROnPlateau):
            optimiser = self.trainer.optimiser
            optimiser.lr = self.schedule.step(
                _monitored(logs, self.monitor, "ReduceLROnPlateau"), optimiser.lr
            )


class CSVLogger(Callback):
    """Append one row per epoch (``epoch`` 1-based, then the logs) to a CSV file.

    The file is started afresh when training starts at epoch 0 and appended to when it
    resumes; each row is written and closed at once, so an interrupted run keeps its rows.
    """

    def __init__(self, path: str | pathlib.Path) -> None:
        self.path = pathlib.Path(path)

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        if not logs.get("initial_epoch", 0):
            self.path.unlink(missing_ok=True)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        row = {"epoch": epoch + 1, **logs}
        new = not self.path.exists() or self.path.stat().st_size == 0
        with self.path.open("a", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)


class JSONLogger(CSVLogger):
    """Append one JSON object per epoch (JSON Lines: ``{"epoch": 1, "loss": …}``) to a file."""

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"epoch": epoch + 1, **logs}) + "\n")
