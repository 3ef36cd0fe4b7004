"""``Trainer``: the one training loop behind ``Sequential.fit``, the MLP estimators, the
character model, the sequence tasks and the ``gradstat train`` commands.

An epoch walks through mini-batches: forward, loss, backward, optimiser step — the notes'
w⁺ = w − γ ∂E/∂w applied batch by batch. Callbacks (``gradstat.nn.training.callbacks``) hook
into the loop at the start and end of training, of each epoch and after each batch.
``verbose``: 0 silent, 1 a tqdm progress bar, 2 one ``logging`` line per epoch (logger
``gradstat.nn.training``); the library never prints.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from gradstat.nn.layers.base import Layer
from gradstat.nn.layers.sequential import Sequential
from gradstat.nn.losses import CrossEntropy, Loss, class_labels
from gradstat.nn.optim.optimisers import Optimiser
from gradstat.nn.training.callbacks import Callback
from gradstat.nn.training.data import check_inputs, check_targets, minibatches, split_validation

logger = logging.getLogger("gradstat.nn.training")

Batches = Callable[[int], Iterable[tuple[np.ndarray, np.ndarray]]]  # epoch → its (x, y) batches


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite; the model holds the last weights with a finite loss."""


class Trainer:
    """Train ``model`` with ``loss`` and ``optimiser`` (bound to the model).

    ``fit(X, y, …)`` trains on arrays (shuffled mini-batches, ``validation_split`` or
    ``validation_data``); ``fit_batches(batches, …)`` on any batches, ``batches(epoch)``
    giving an epoch's (x, y) pairs. ``carry_state=True`` is truncated backpropagation through
    time: each recurrent layer starts a batch from the state it ended the previous batch with
    (``Layer.carry_state``; reset at every epoch), while the gradient stops at the batch edge.
    ``history`` maps each metric (``loss``, ``accuracy`` for class labels, ``val_…``) to
    its per-epoch values; pass a run's ``history`` to continue it.
    """

    def __init__(
        self,
        model: Layer,
        *,
        loss: Loss,
        optimiser: Optimiser,
        callbacks: Sequence[Callback] = (),
        verbose: int = 0,
        carry_state: bool = False,
        history: dict[str, list[float]] | None = None,
    ) -> None:
        if not isinstance(model, Layer):
            raise TypeError(f"model must be a Layer or Sequential, got {type(model).__name__}")
        if not isinstance(loss, Loss):
            raise TypeError(f"loss must be a gradstat.nn Loss, got {type(loss).__name__}")
        if not isinstance(optimiser, Optimiser):
            raise TypeError(f"optimiser must be a gradstat.nn Optimiser, got {type(optimiser).__name__}")
        if optimiser.target is not model:
            raise ValueError("the optimiser is bound to another model")
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be Callback instances, got {type(cb).__name__}")
        if verbose not in (0, 1, 2):
            raise ValueError(
                f"verbose must be 0 (silent), 1 (progress bar) or 2 (a log line per epoch), got {verbose!r}"
            )
        self.model, self.loss, self.optimiser = model, loss, optimiser
        self.callbacks = list(callbacks)
        self.verbose = int(verbose)
        self.carry_state = carry_state
        self.history: dict[str, list[float]] = history if history is not None else {}
        self.rng: np.random.Generator | None = None
        self.epoch = 0  # epochs completed
        self.stop_training = False

    # --- arrays -------------------------------------------------------------------------------
    def fit(
        self,
        X: Any,
        y: Any,
        *,
        epochs: int = 10,
        batch_size: int = 32,
        validation_split: float = 0.0,
        validation_data: tuple[Any, Any] | None = None,
        shuffle: bool = True,
        rng: int | np.random.Generator | None = 0,
        initial_epoch: int = 0,
    ) -> dict[str, list[float]]:
        """Mini-batch training on arrays; returns ``history``.

        Batches are drawn from the seeded generator ``rng`` (kept as ``self.rng``).
        ``validation_split`` holds out the last fraction of the rows before shuffling
        (Keras' rule); give it or ``validation_data``, not both.
        """
        X = check_inputs(X, "X")
        y = check_targets(y, len(X), "y", "X")
        if len(X) == 0:
            raise ValueError("no training data: X has 0 rows")
        _positive_int("batch_size", batch_size)
        if validation_split:
            if validation_data is not None:
                raise ValueError("give validation_split or validation_data, not both")
            X, y, Xv, yv = split_validation(X, y, validation_split)
            validation_data = (Xv, yv)
        y = self._targets(X, y, "y")
        self.rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        generator = self.rng

        def batches(epoch: int) -> Iterable[tuple[np.ndarray, np.ndarray]]:
            order = generator.permutation(len(X)) if shuffle else np.arange(len(X))
            return minibatches(X, y, batch_size, order)

        return self.fit_batches(
            batches, epochs=epochs, validation_data=validation_data, initial_epoch=initial_epoch, rng=self.rng
        )

    def _targets(self, X: np.ndarray, y: np.ndarray, name: str) -> np.ndarray:
        """Class labels for cross-entropy are checked against the number of outputs."""
        if isinstance(self.loss, CrossEntropy) and isinstance(self.model, Sequential):
            out_shape = self.model.output_shape((None, *X.shape[1:]))
            if y.shape == (len(X), *out_shape[1:-1]):
                try:
                    return class_labels(y, int(out_shape[-1]))  # type: ignore[arg-type]
                except ValueError as exc:
                    raise ValueError(f"{name}: {exc}") from None
        return y

    # --- any batches ----------------------------------------------------------------------------
    def fit_batches(
        self,
        batches: Batches,
        *,
        epochs: int,
        validation_data: tuple[Any, Any] | None = None,
        initial_epoch: int = 0,
        rng: np.random.Generator | None = None,
    ) -> dict[str, list[float]]:
        """Train for epochs ``initial_epoch`` … ``epochs − 1`` on ``batches(epoch)``; returns ``history``.

        ``rng``, the generator ``batches`` draws from, is saved by ``ModelCheckpoint``. A NaN
        or infinite batch loss raises ``TrainingDiverged`` with the model holding the weights
        of the last batch whose loss was finite.
        """
        _positive_int("epochs", epochs)
        if (
            isinstance(initial_epoch, bool)
            or not isinstance(initial_epoch, int)
            or not 0 <= initial_epoch <= epochs
        ):
            raise ValueError(f"initial_epoch must be in [0, epochs], got {initial_epoch!r}")
        if validation_data is not None:
            Xv = check_inputs(validation_data[0], "validation X")
            yv = check_targets(validation_data[1], len(Xv), "validation y", "validation X")
            if len(Xv) == 0:
                raise ValueError("validation data has 0 rows")
            validation_data = (Xv, self._targets(Xv, yv, "validation y"))
        if initial_epoch == 0:
            self.history.clear()
        if rng is not None:
            self.rng = rng
        self.epoch, self.stop_training = initial_epoch, False
        self.model.train()
        begin: dict[str, Any] = {"epochs": epochs, "initial_epoch": initial_epoch}
        for cb in self.callbacks:
            cb.set_trainer(self)
            cb.on_train_begin(begin)
        bar = tqdm(total=epochs, initial=initial_epoch, unit="epoch", disable=self.verbose != 1)
        snapshot: dict[str, np.ndarray] = {}
        try:
            for epoch in range(initial_epoch, epochs):
                logs: dict[str, Any] = {}
                for cb in self.callbacks:
                    cb.on_epoch_begin(epoch, logs)
                logs.update(self._epoch(epoch, batches(epoch), snapshot))
                if validation_data is not None:
                    logs.update(evaluate(self.model, *validation_data, self.loss, prefix="val_"))
                    self.model.train()
                for key, value in logs.items():
                    self.history.setdefault(key, []).append(value)
                self.epoch = epoch + 1
                for cb in sorted(self.callbacks, key=lambda c: c.runs_last):  # stable: list order
                    cb.on_epoch_end(epoch, logs)
                shown = ", ".join(f"{k} {v:.4f}" for k, v in logs.items())
                bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()}, refresh=False)
                bar.update(1)
                if self.verbose == 2:
                    logger.info("epoch %d/%d: %s", epoch + 1, epochs, shown)
                if self.stop_training:
                    break
        finally:
            bar.close()
        for cb in self.callbacks:
            cb.on_train_end(dict(self.history))
        self.model.eval()
        return self.history

    def _epoch(
        self, epoch: int, batches: Iterable[tuple[np.ndarray, np.ndarray]], snapshot: dict[str, np.ndarray]
    ) -> dict[str, float]:
        loss, model = self.loss, self.model
        total, weight_sum, correct, labelled = 0.0, 0, 0, 0
        if self.carry_state:
            model.reset_state().carry_state()
        try:
            for b, (xb, yb) in enumerate(batches):
                value, out = self._step(epoch, b, xb, yb, snapshot)
                weight = int(np.prod(out.shape[:-1])) if out.ndim > 1 else 1  # the samples of a mean
                if loss.reduction == "sum":
                    weight = 1
                total += value * weight
                weight_sum += weight
                if isinstance(loss, CrossEntropy) and yb.shape == out.shape[:-1]:
                    correct += int(np.count_nonzero(out.argmax(axis=-1) == yb))
                    labelled += yb.size
                logs = {"batch": b, "size": len(xb), "loss": value}
                for cb in self.callbacks:
                    cb.on_batch_end(b, logs)
        finally:
            if self.carry_state:
                model.carry_state(False).reset_state()
        if weight_sum == 0:
            raise ValueError(f"epoch {epoch + 1} had no batches")
        record = {"loss": total / (weight_sum if loss.reduction == "mean" else 1)}
        if labelled:
            record["accuracy"] = correct / labelled
        return record

    def _step(
        self, epoch: int, b: int, xb: np.ndarray, yb: np.ndarray, snapshot: dict[str, np.ndarray]
    ) -> tuple[float, np.ndarray]:
        """Forward, loss, backward and optimiser step on one batch; returns the loss and output."""
        loss, model = self.loss, self.model
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out = model.forward(xb)
            value = loss.forward(out, yb)
        if not math.isfinite(value):
            if snapshot:
                model.load_state_dict(snapshot)
            raise TrainingDiverged(
                f"loss became {value} at epoch {epoch + 1}, batch {b + 1}; the weights of "
                "the last finite-loss step were kept — lower the learning rate or clip "
                "gradients (clip_norm=)"
            )
        for name, p in model.state_dict().items():  # this step's loss is finite: keep its weights
            if name in snapshot:
                np.copyto(snapshot[name], p)
            else:
                snapshot[name] = p.copy()
        with np.errstate(over="ignore", invalid="ignore"):
            model.backward(loss.backward(), input_grad=False)
            self.optimiser.step()
        return value, out


def evaluate(model: Layer, X: np.ndarray, y: np.ndarray, loss: Loss, prefix: str = "") -> dict[str, float]:
    """Loss (and accuracy for class labels) of ``model`` in evaluation mode on checked arrays."""
    was_training = model.training
    model.eval()
    try:
        out = model.predict(X) if isinstance(model, Sequential) else model.forward(X)
    finally:
        model.train(was_training)
    record = {f"{prefix}loss": loss.forward(out, y)}
    if isinstance(loss, CrossEntropy) and y.shape == out.shape[:-1]:
        record[f"{prefix}accuracy"] = float(np.mean(out.argmax(axis=-1) == y))
    return record


def _positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
