"""Callbacks: code that ``Trainer`` runs at fixed points of the loop (Keras' hooks).

Subclass ``Callback`` and override any of ``on_train_begin(logs)``, ``on_epoch_begin(epoch,
logs)``, ``on_batch_end(batch, logs)``, ``on_epoch_end(epoch, logs)``, ``on_train_end(logs)``;
``self.trainer`` is the running ``Trainer`` (its ``model``, ``optimiser``, ``history``), and
setting ``self.trainer.stop_training = True`` ends training after the current epoch.
Epochs are counted from 0; ``logs`` at the end of an epoch hold its ``loss``, ``accuracy``
(class labels) and ``val_…`` metrics; after a batch, its ``batch`` index, ``size`` and ``loss``.

A callback with counters (early stopping, a plateau schedule) reports them by ``state()``,
and arrays (early stopping's best weights) by ``state_arrays()``; ``ModelCheckpoint`` writes
them beside each checkpoint (``<file>.callbacks.json``, ``<file>.callbacks.safetensors`` with
a checksum) and ``restore_callbacks`` puts them back, so that a resumed run continues as if
never stopped.
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

from gradstat.nn.io import ModelFileError, read_tensors, save_checkpoint, write_atomically, write_tensors
from gradstat.nn.optim.schedules import ReduceLROnPlateau, Schedule

if TYPE_CHECKING:
    from gradstat.nn.training.trainer import Trainer

logger = logging.getLogger("gradstat.nn.training")
STATE_SUFFIX = ".callbacks.json"
ARRAYS_SUFFIX = ".callbacks.safetensors"


class Callback:
    """Base class: every hook does nothing; subclass it and override the hooks you need.

    :class:`Trainer` calls the hooks at fixed points of its loop (Keras'
    ``keras.callbacks.Callback``): ``on_train_begin(logs)``, ``on_epoch_begin(epoch, logs)``,
    ``on_batch_end(batch, logs)``, ``on_epoch_end(epoch, logs)``, ``on_train_end(logs)``.
    Epochs and batches are counted from 0. ``self.trainer`` is the running trainer (its
    ``model``, ``optimiser``, ``history``); setting ``self.trainer.stop_training = True`` ends
    training after the current epoch. A callback with counters reports them by ``state()``
    and takes them back by ``load_state(state)``, its arrays by ``state_arrays()`` and
    ``load_state_arrays(arrays)``, so that a resumed run continues them.

    See Also
    --------
    EarlyStopping, ModelCheckpoint, LearningRateScheduler, CSVLogger, JSONLogger :
        the callbacks gradstat provides.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import nn
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 2))
    >>> y = X @ np.array([[1.0], [-2.0]]) + 0.5
    >>> model = nn.Sequential([nn.Dense(2, 1, seed=0, dtype="float64")])
    >>> class EpochLosses(nn.Callback):
    ...     def on_train_begin(self, logs):
    ...         self.seen = []
    ...     def on_epoch_end(self, epoch, logs):
    ...         self.seen.append(round(logs["loss"], 3))
    >>> record = EpochLosses()
    >>> trainer = nn.Trainer(model, loss=nn.MSE(), optimiser=nn.SGD(model, lr=0.1), callbacks=[record])
    >>> _ = trainer.fit(X, y, epochs=4, batch_size=16)
    >>> record.seen
    [1.258, 0.322, 0.081, 0.022]
    """

    trainer: Trainer
    runs_last = False  # on_epoch_end after the others (ModelCheckpoint: save their updated state)

    def set_trainer(self, trainer: Trainer) -> None:
        """Called by the trainer before ``on_train_begin``: ``self.trainer`` is then ``trainer``.

        Parameters
        ----------
        trainer : Trainer
            The trainer that runs this callback.
        """
        self.trainer = trainer

    def state(self) -> dict[str, Any]:
        """What a resumed run needs to continue this callback (JSON-serialisable); none by default.

        Returns
        -------
        dict
            The counters, written beside each checkpoint by ``ModelCheckpoint``.
        """
        return {}

    def load_state(self, state: dict[str, Any]) -> None:
        """Take back what ``state`` returned (before ``fit`` resumes with ``initial_epoch``).

        Parameters
        ----------
        state : dict
            What :meth:`state` returned.
        """

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Arrays a resumed run needs (e.g. best weights), saved in safetensors; none by default.

        Returns
        -------
        dict of str to numpy.ndarray
            Written beside each checkpoint by ``ModelCheckpoint``, checksum included.
        """
        return {}

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Take back what ``state_arrays`` returned (after :meth:`load_state`).

        Parameters
        ----------
        arrays : dict of str to numpy.ndarray
            What :meth:`state_arrays` returned (read-only arrays, verified against the
            file's checksum).
        """

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        """Before the first epoch; ``logs`` hold ``epochs`` and ``initial_epoch``.

        Parameters
        ----------
        logs : dict
            ``epochs`` (the last epoch to reach) and ``initial_epoch``.
        """

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        """Before the epoch's first batch; what is put in ``logs`` joins the epoch's record.

        Parameters
        ----------
        epoch : int
            The epoch, from 0.
        logs : dict
            Empty; entries added here are recorded in ``history``.
        """

    def on_batch_end(self, batch: int, logs: dict[str, Any]) -> None:
        """After the optimiser step of a batch.

        Parameters
        ----------
        batch : int
            The batch, from 0 in each epoch.
        logs : dict
            ``batch``, ``size`` (samples) and ``loss`` of the batch.
        """

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        """After the epoch's validation; its record is already in ``trainer.history``.

        Parameters
        ----------
        epoch : int
            The epoch, from 0.
        logs : dict
            The epoch's ``loss``, ``accuracy`` (class labels), ``val_…`` metrics and what the
            callbacks logged (``lr``).
        """

    def on_train_end(self, logs: dict[str, Any]) -> None:
        """After the last epoch (not after an exception); ``logs`` is the history.

        Parameters
        ----------
        logs : dict of str to list of float
            A copy of ``trainer.history``.
        """


def _monitored(logs: dict[str, Any], monitor: str, who: str) -> float:
    if monitor not in logs:
        raise ValueError(f"{who} monitors {monitor!r}, but the epoch logged only {sorted(logs)}")
    return float(logs[monitor])


def _check_mode(mode: str) -> None:
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    An epoch improves when (``mode="min"``) its value is below best − ``min_delta``
    (``"max"``: above best + ``min_delta``); after ``patience`` epochs in a row without
    improvement training stops (Keras' ``EarlyStopping``, whose ``patience=0`` also stops at
    the first epoch without gain). With ``restore_best_weights`` (the default) the model ends
    with the weights of the best epoch, whether or not training stopped early. A resumed run
    keeps the counters (``state``) and the best weights (``state_arrays``, which
    ``ModelCheckpoint`` saves beside the checkpoint), so it ends with the same weights as an
    uninterrupted run; resumed without them (states saved by an older version), it ends with
    its own best or last weights and says so in the log.

    Parameters
    ----------
    monitor : str, default "val_loss"
        The metric watched: a key of the epoch's logs (``loss``, ``val_accuracy`` …).
    patience : int, default 0
        Epochs without improvement tolerated (≥ 0).
    min_delta : float, default 0.0
        Smallest change that counts as an improvement (≥ 0).
    mode : {"min", "max"}, default "min"
        Whether lower or higher values are better.
    restore_best_weights : bool, default True
        End with the weights of the best epoch.

    Attributes
    ----------
    best : float
        The best value seen.
    best_epoch : int or None
        The epoch (from 0) that gave it.
    wait : int
        Epochs since the last improvement.
    stopped_epoch : int or None
        The epoch it stopped after (None if training ran to the end).

    Raises
    ------
    ValueError
        For a negative or non-integer ``patience``, a negative or non-finite ``min_delta``, a
        ``mode`` other than "min" or "max", or (during training) a ``monitor`` the epoch did
        not log.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import nn
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 2))
    >>> y = X @ np.array([[1.0], [-2.0]]) + 0.5
    >>> model = nn.Sequential([nn.Dense(2, 1, seed=0, dtype="float64")])
    >>> stop = nn.EarlyStopping(monitor="loss", min_delta=0.01, patience=1)
    >>> trainer = nn.Trainer(model, loss=nn.MSE(), optimiser=nn.SGD(model, lr=0.1), callbacks=[stop])
    >>> history = trainer.fit(X, y, epochs=50, batch_size=16)
    >>> [round(loss, 4) for loss in history["loss"]]        # the last gain is below 0.01
    [1.2581, 0.3222, 0.0814, 0.0216, 0.006, 0.0015]
    >>> stop.best_epoch, stop.stopped_epoch
    (4, 5)
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
        self.best_weights: dict[str, np.ndarray] | None = None
        self._restored = False

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        if not (self._restored and logs["initial_epoch"]):
            self.best = math.inf if self.mode == "min" else -math.inf
            self.best_epoch: int | None = None
            self.wait = 0
            self.best_weights = None
        self._restored = False
        self.stopped_epoch: int | None = None

    def state(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait}

    def load_state(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch, self.wait = float(state["best"]), state["best_epoch"], int(state["wait"])
        self.best_weights = None  # load_state_arrays gives them back
        self._restored = True

    def state_arrays(self) -> dict[str, np.ndarray]:
        if not self.restore_best_weights or self.best_weights is None:
            return {}
        return dict(self.best_weights)

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.best_weights = {k: np.array(v) for k, v in arrays.items()} if arrays else None

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
                "EarlyStopping: the best epoch (%d) came before the resume and its weights were "
                "not restored (no best weights beside the checkpoint), so the model has the last epoch's",
                self.best_epoch + 1,
            )


class ModelCheckpoint(Callback):
    """Save model, optimiser and shuffling generator after every epoch (``save_checkpoint``).

    The states of the trainer's callbacks go to ``<file>.callbacks.json``, their arrays
    (early stopping's best weights) to ``<file>.callbacks.safetensors`` (with a checksum,
    which the JSON file repeats to tie the two together). Resume with
    ``load_checkpoint`` (or ``resume_checkpoint``), ``restore_callbacks(file, callbacks)``
    and ``fit(…, initial_epoch=checkpoint.epoch)``. It saves after the other callbacks have
    ended the epoch (``runs_last``), so a schedule's next rate is in the file. Keras'
    ``ModelCheckpoint``; in PyTorch, ``torch.save`` of the state dicts at the end of an epoch.

    Parameters
    ----------
    path : str or pathlib.Path
        The file; it may hold ``{epoch}`` (1-based, e.g. ``"ck/epoch-{epoch:03d}.safetensors"``)
        to keep one file per epoch, else each save replaces the last (kept as ``.prev``).
    save_best_only : bool, default False
        Save only the epochs that improve ``monitor``.
    monitor : str, default "val_loss"
        The metric compared when ``save_best_only``.
    mode : {"min", "max"}, default "min"
        Whether lower or higher values of ``monitor`` are better.

    Raises
    ------
    ValueError
        For a ``mode`` other than "min" or "max", or (during training) a ``monitor`` the epoch
        did not log.

    See Also
    --------
    save_checkpoint, load_checkpoint, resume_checkpoint, restore_callbacks

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from gradstat import nn
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 2))
    >>> y = X @ np.array([[1.0], [-2.0]]) + 0.5
    >>> model = nn.Sequential([nn.Dense(2, 1, seed=0, dtype="float64")])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save = nn.ModelCheckpoint(pathlib.Path(folder) / "epoch-{epoch:02d}.safetensors")
    ...     trainer = nn.Trainer(model, loss=nn.MSE(), optimiser=nn.SGD(model, lr=0.1), callbacks=[save])
    ...     _ = trainer.fit(X, y, epochs=3, batch_size=16)
    ...     print(sorted(p.name for p in pathlib.Path(folder).iterdir()))
    ...     print(nn.load_checkpoint(pathlib.Path(folder) / "epoch-02.safetensors").epoch)
    ['epoch-01.safetensors', 'epoch-02.safetensors', 'epoch-03.safetensors']
    2
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
        content: dict[str, Any] = {"epoch": epoch + 1, "callbacks": states}
        arrays = {
            f"{index}/{key}": value
            for index, cb in enumerate(trainer.callbacks)
            for key, value in cb.state_arrays().items()
        }
        if arrays:  # first the arrays, then the JSON file that names their checksum
            content["arrays_checksum"] = write_tensors(_arrays_path(path), arrays, {"epoch": str(epoch + 1)})
        if arrays or any(entry["state"] for entry in states):
            _write_json(_state_path(path), content)
        save_checkpoint(path, trainer.model, trainer.optimiser, trainer.rng, epoch + 1)

    def state(self) -> dict[str, Any]:
        return {"best": self.best} if self.save_best_only else {}

    def load_state(self, state: dict[str, Any]) -> None:
        if state:
            self.best = float(state["best"])


def restore_callbacks(checkpoint: str | pathlib.Path, callbacks: Sequence[Callback]) -> None:
    """Give ``callbacks`` (the same kinds, in the same order, as the run that wrote
    ``checkpoint``) the states saved beside it (written when some callback had a state).

    Call it before ``fit(…, initial_epoch=checkpoint.epoch)`` so that early stopping's
    patience, a plateau schedule's counters and the best value of ``save_best_only`` carry on
    as if the run had never stopped.

    Parameters
    ----------
    checkpoint : str or pathlib.Path
        The checkpoint file; the states are read from ``<checkpoint>.callbacks.json``.
    callbacks : sequence of Callback
        Fresh callbacks of the same classes, in the same order, as in the saved run.

    Raises
    ------
    FileNotFoundError
        When no states were saved beside the checkpoint (no callback of the run had any), or
        the arrays file they name (``<checkpoint>.callbacks.safetensors``) is missing.
    ModelFileError
        When the arrays file is truncated or corrupt (its checksum does not match) or belongs
        to another save than the states (the message names it).
    ValueError
        When the states file is unreadable or holds the states of other callbacks.

    See Also
    --------
    ModelCheckpoint : writes the states.
    load_checkpoint : the model, optimiser and generator.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from gradstat import nn
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 2))
    >>> y = X @ np.array([[1.0], [-2.0]]) + 0.5
    >>> model = nn.Sequential([nn.Dense(2, 1, seed=0, dtype="float64")])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "ck.safetensors"
    ...     run = [nn.EarlyStopping(monitor="loss", patience=3), nn.ModelCheckpoint(path)]
    ...     trainer = nn.Trainer(model, loss=nn.MSE(), optimiser=nn.SGD(model, lr=0.1), callbacks=run)
    ...     _ = trainer.fit(X, y, epochs=4, batch_size=16)
    ...     checkpoint = nn.load_checkpoint(path)
    ...     resumed = [nn.EarlyStopping(monitor="loss", patience=3), nn.ModelCheckpoint(path)]
    ...     nn.restore_callbacks(path, resumed)
    ...     trainer = nn.Trainer(checkpoint.model, loss=nn.MSE(), optimiser=checkpoint.optimiser,
    ...                          callbacks=resumed, history=checkpoint.history)
    ...     history = trainer.fit(X, y, epochs=6, batch_size=16, rng=checkpoint.rng,
    ...                           initial_epoch=checkpoint.epoch)
    >>> checkpoint.epoch, len(history["loss"]), resumed[0].best_epoch
    (4, 6, 5)
    """
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
    arrays = _read_arrays(pathlib.Path(checkpoint), saved.get("arrays_checksum"))
    for index, (cb, entry) in enumerate(zip(callbacks, states, strict=True)):
        cb.load_state(entry["state"])
        prefix = f"{index}/"
        cb.load_state_arrays({k.removeprefix(prefix): v for k, v in arrays.items() if k.startswith(prefix)})
    logger.info("callback states of epoch %d restored from %s", epoch, path)


def _read_arrays(checkpoint: pathlib.Path, checksum: str | None) -> dict[str, np.ndarray]:
    """The callbacks' arrays saved beside ``checkpoint``, verified against their own checksum
    and the one the states file names (none when the states name none)."""
    if checksum is None:
        return {}
    path = _arrays_path(checkpoint)
    if not path.exists():
        raise FileNotFoundError(f"the callback arrays {path} named by {_state_path(checkpoint)} are missing")
    meta, arrays = read_tensors(path)
    if meta["checksum"] != checksum:
        raise ModelFileError(
            f"{path} does not belong to {_state_path(checkpoint)}: it holds the arrays of "
            f"epoch {meta.get('epoch', '?')}, saved apart from these states (a save interrupted "
            "between the two files, or files copied separately)"
        )
    return arrays


def _state_path(checkpoint: pathlib.Path) -> pathlib.Path:
    return checkpoint.with_name(checkpoint.name + STATE_SUFFIX)


def _arrays_path(checkpoint: pathlib.Path) -> pathlib.Path:
    return checkpoint.with_name(checkpoint.name + ARRAYS_SUFFIX)


def _write_json(path: pathlib.Path, content: Any) -> None:
    """Write ``content`` as JSON to ``path`` atomically (see ``gradstat.nn.io``)."""
    write_atomically(path, json.dumps(content).encode())


class LearningRateScheduler(Callback):
    """Set the optimiser's rate from a schedule (``gradstat.nn.optim.schedules``).

    An epoch ``Schedule`` sets γ_e = schedule(e, base_lr) before each epoch e;
    ``ReduceLROnPlateau`` reads ``monitor`` after each epoch and sets the next epoch's rate.
    Each epoch's rate is logged as ``lr``. Keras' ``LearningRateScheduler`` and
    ``ReduceLROnPlateau`` callbacks; PyTorch's ``lr_scheduler.step()`` once per epoch.

    Parameters
    ----------
    schedule : Schedule or ReduceLROnPlateau
        ``StepLR``, ``ExponentialLR``, ``CosineAnnealingLR`` or ``ReduceLROnPlateau``.
    monitor : str, default "val_loss"
        The metric ``ReduceLROnPlateau`` reads (ignored by epoch schedules).
    base_lr : float, optional
        γ₀ of an epoch schedule; defaults to the optimiser's rate when training starts at
        epoch 0 (a resumed run takes it from ``restore_callbacks``, or give it).

    Raises
    ------
    TypeError
        When ``schedule`` is neither a ``Schedule`` nor a ``ReduceLROnPlateau``.
    ValueError
        For a ``base_lr`` that is not a finite number > 0, or (during training) a resumed
        epoch schedule without ``base_lr``, or a ``monitor`` the epoch did not log.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import nn
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 2))
    >>> y = X @ np.array([[1.0], [-2.0]]) + 0.5
    >>> model = nn.Sequential([nn.Dense(2, 1, seed=0, dtype="float64")])
    >>> halve = nn.LearningRateScheduler(nn.StepLR(step_size=2, gamma=0.5))
    >>> trainer = nn.Trainer(model, loss=nn.MSE(), optimiser=nn.SGD(model, lr=0.1), callbacks=[halve])
    >>> trainer.fit(X, y, epochs=5, batch_size=16)["lr"]       # γ_e = 0.1 · 0.5^⌊e/2⌋
    [0.1, 0.1, 0.05, 0.05, 0.025]
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
    Keras' ``CSVLogger``.

    Parameters
    ----------
    path : str or pathlib.Path
        The CSV file.

    See Also
    --------
    JSONLogger : the same rows as JSON Lines.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import numpy as np
    >>> from gradstat import nn
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 2))
    >>> y = X @ np.array([[1.0], [-2.0]]) + 0.5
    >>> model = nn.Sequential([nn.Dense(2, 1, seed=0, dtype="float64")])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "log.csv"
    ...     trainer = nn.Trainer(model, loss=nn.MSE(), optimiser=nn.SGD(model, lr=0.1),
    ...                          callbacks=[nn.CSVLogger(path)])
    ...     _ = trainer.fit(X, y, epochs=3, batch_size=16)
    ...     lines = path.read_text().splitlines()
    >>> lines[0], len(lines)
    ('epoch,loss', 4)
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
    """Append one JSON object per epoch (JSON Lines: ``{"epoch": 1, "loss": …}``) to a file.

    Started afresh at epoch 0 and appended to on a resume, as :class:`CSVLogger`.

    Parameters
    ----------
    path : str or pathlib.Path
        The JSON Lines file.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> import numpy as np
    >>> from gradstat import nn
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 2))
    >>> y = X @ np.array([[1.0], [-2.0]]) + 0.5
    >>> model = nn.Sequential([nn.Dense(2, 1, seed=0, dtype="float64")])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "log.jsonl"
    ...     trainer = nn.Trainer(model, loss=nn.MSE(), optimiser=nn.SGD(model, lr=0.1),
    ...                          callbacks=[nn.JSONLogger(path)])
    ...     _ = trainer.fit(X, y, epochs=3, batch_size=16)
    ...     rows = [json.loads(line) for line in path.read_text().splitlines()]
    >>> [(row["epoch"], round(row["loss"], 4)) for row in rows]
    [(1, 1.2581), (2, 0.3222), (3, 0.0814)]
    """

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"epoch": epoch + 1, **logs}) + "\n")
