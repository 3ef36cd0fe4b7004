"""Callbacks: code that ``Trainer`` runs at fixed points of the loop (Keras' hooks).

Subclass ``Callback`` and override any of ``on_train_begin(logs)``, ``on_epoch_begin(epoch,
logs)``, ``on_batch_end(batch, logs)``, ``on_epoch_end(epoch, logs)``, ``on_train_end(logs)``;
``self.trainer`` is the running ``Trainer`` (its ``model``, ``optimiser``, ``history``), and
setting ``self.trainer.stop_training = True`` ends training after the current epoch.
Epochs are counted from 0; ``logs`` at the end of an epoch hold its ``loss``, ``accuracy``
(class labels) and ``val_…`` metrics; after a batch, its ``batch`` index, ``size`` and ``loss``.

A callback with counters (early stopping, a plateau schedule) reports them by ``state()``;
``ModelCheckpoint`` writes them beside each checkpoint (``<file>.callbacks.json``) and
``restore_callbacks`` puts them back, so that a resumed run continues as if never stopped.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import pathlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from gradstat.nn.io import save_checkpoint, write_atomically
from gradstat.nn.optim.schedules import ReduceLROnPlateau, Schedule

if TYPE_CHECKING:
    from gradstat.nn.training.trainer import Trainer

logger = logging.getLogger("gradstat.nn.training")
STATE_SUFFIX = ".callbacks.json"


class Callback:
    """Base class: every hook does nothing."""

    trainer: Trainer
    runs_last = False  # on_epoch_end after the others (ModelCheckpoint: save their updated state)

    def set_trainer(self, trainer: Trainer) -> None:
        self.trainer = trainer

    def state(self) -> dict[str, Any]:
        """What a resumed run needs to continue this callback (JSON-serialisable); none by default."""
        return {}

    def load_state(self, state: dict[str, Any]) -> None:
        """Take back what ``state`` returned (before ``fit`` resumes with ``initial_epoch``)."""

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
    after (None if it ran to the end). A resumed run keeps the counters (``state``) but not
    the best weights of the epochs before the resume: if none of its own epochs is better,
    it ends with its last weights, and says so in the log.
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

        self._restored = False

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        if not (self._restored and logs["initial_epoch"]):
            self.best = math.inf if self.mode == "min" else -math.inf
            self.best_epoch: int | None = None
            self.wait = 0
        self._restored = False
        self.stopped_epoch: int | None = None
        self.best_weights: dict[str, np.ndarray] | None = None

    def state(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}

    def load_state(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch, self.wait = float(state["best"]), state["best_epoch"], int(state["wait"])
        self._restored = True

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
        elif self.restore_best_weights and self.best_epoch is not None:
            logger.warning(
                "EarlyStopping: the best epoch (%d) came before the resume; its weights were not "
                "kept, so the model has the last epoch's",
                self.best_epoch + 1,
            )


class ModelCheckpoint(Callback):
    """Save model, optimiser and shuffling generator after every epoch (``save_checkpoint``).

    ``path`` may hold ``{epoch}`` (1-based, e.g. ``"ck/epoch-{epoch:03d}.safetensors"``) to
    keep one file per epoch. ``save_best_only`` saves only epochs that improve ``monitor``.
    The states of the trainer's callbacks go to ``<file>.callbacks.json``. Resume with
    ``load_checkpoint`` (or ``resume_checkpoint``), ``restore_callbacks(file, callbacks)``
    and ``fit(…, initial_epoch=checkpoint.epoch)``. It saves after the other callbacks have
    ended the epoch (``runs_last``), so a schedule's next rate is in the file.
    """

    runs_last = True

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
        states = [{"class": type(cb).__name__, "state": cb.state()} for cb in trainer.callbacks]
        if any(entry["state"] for entry in states):
            _write_json(_state_path(path), {"epoch": epoch + 1, "callbacks": states})
        save_checkpoint(path, trainer.model, trainer.optimiser, trainer.rng, epoch + 1)

    def state(self) -> dict[str, Any]:
        return {"best": self.best} if self.save_best_only else {}

    def load_state(self, state: dict[str, Any]) -> None:
        if state:
            self.best = float(state["best"])


def restore_callbacks(checkpoint: str | pathlib.Path, callbacks: Sequence[Callback]) -> None:
    """Give ``callbacks`` (the same kinds, in the same order, as the run that wrote
    ``checkpoint``) the states saved beside it (written when some callback had a state)."""
    path = _state_path(pathlib.Path(checkpoint))
    try:
        saved = json.loads(path.read_text())
        epoch, states = int(saved["epoch"]), saved["callbacks"]
    except FileNotFoundError:
        raise FileNotFoundError(
            f"no callback states {path} beside the checkpoint {checkpoint} "
            "(its run had no callback with state)"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path} is not a file of callback states: {exc}") from None
    kinds = [type(cb).__name__ for cb in callbacks]
    if kinds != [entry["class"] for entry in states]:
        raise ValueError(f"{path} holds the states of {[e['class'] for e in states]}, not of {kinds}")
    for cb, entry in zip(callbacks, states, strict=True):
        cb.load_state(entry["state"])
    logger.info("callback states of epoch %d restored from %s", epoch, path)


def _state_path(checkpoint: pathlib.Path) -> pathlib.Path:
    return checkpoint.with_name(checkpoint.name + STATE_SUFFIX)


def _write_json(path: pathlib.Path, content: Any) -> None:
    """Write ``content`` as JSON to ``path`` atomically (see ``gradstat.nn.io``)."""
    write_atomically(path, json.dumps(content).encode())


class LearningRateScheduler(Callback):
    """Set the optimiser's rate from a schedule (``gradstat.nn.optim.schedules``).

    An epoch ``Schedule`` sets γ_e = schedule(e, base_lr) before each epoch e; ``base_lr``
    defaults to the optimiser's rate when training starts at epoch 0 (a resumed run takes it
    from ``restore_callbacks``, or give it).
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

    def state(self) -> dict[str, Any]:
        plateau = self.schedule.state() if isinstance(self.schedule, ReduceLROnPlateau) else {}
        return {"base_lr": self.base_lr, "plateau": plateau}

    def load_state(self, state: dict[str, Any]) -> None:
        self.base_lr = state["base_lr"]
        if isinstance(self.schedule, ReduceLROnPlateau):
            self.schedule.load_state(state["plateau"])

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
