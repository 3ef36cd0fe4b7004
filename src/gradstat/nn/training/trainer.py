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
    """The loss became NaN or infinite; the model holds the last weights with a finite loss.

    Raised by :meth:`Trainer.fit` (and ``Sequential.fit``) at the first batch whose loss is
    not finite, typically a learning rate too large for the problem: each step
    w⁺ = w − γ ∂E/∂w then overshoots and the weights grow without bound. A subclass of
    ``FloatingPointError``.

    Parameters
    ----------
    message : str
        The epoch and batch where the loss stopped being finite, and what to try.

    See Also
    --------
    Trainer.fit : raises it.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import nn
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 2))
    >>> y = X @ np.array([[1.0], [-2.0]]) + 0.5
    >>> model = nn.Sequential([nn.Dense(2, 1, seed=0, dtype="float64")])
    >>> trainer = nn.Trainer(model, loss=nn.MSE(), optimiser=nn.SGD(model, lr=10.0))
    >>> try:
    ...     trainer.fit(X, y, epochs=50, batch_size=16)
    ... except nn.TrainingDiverged as error:
    ...     print(str(error)[:11], bool(np.isfinite(model.state_dict()["0.weight"]).all()))
    loss became True
    """


class Trainer:
    """Train ``model`` with ``loss`` and ``optimiser`` (bound to the model).

    Each batch runs forward, loss, backward and the optimiser's step, the notes' update
    w⁺ = w − γ ∂E/∂w (or Adam's) applied batch by batch; callbacks run at the start and end of
    training, of each epoch and after each batch (Keras' ``Model.fit`` loop; in PyTorch it is
    the loop one writes by hand). ``fit(X, y, …)`` trains on arrays (shuffled mini-batches,
    ``validation_split`` or ``validation_data``); ``fit_batches(batches, …)`` on any batches,
    ``batches(epoch)`` giving an epoch's (x, y) pairs. ``Sequential.fit`` and the MLP
    estimators use it.

    Parameters
    ----------
    model : Layer
        The network (a ``Sequential`` or any layer).
    loss : Loss
        The loss minimised, e.g. ``MSE()`` or ``CrossEntropy()`` (class labels or
        probabilities).
    optimiser : Optimiser
        Bound to ``model``, e.g. ``SGD(model, lr=0.1)``.
    callbacks : sequence of Callback, default ()
        Run in order at each hook (``ModelCheckpoint`` last at the end of an epoch).
    verbose : {0, 1, 2}, default 0
        0 silent, 1 a tqdm progress bar, 2 one ``logging`` line per epoch (logger
        ``gradstat.nn.training``); the library never prints.
    carry_state : bool, default False
        Truncated backpropagation through time: each recurrent layer starts a batch from the
        state it ended the previous batch with (reset at every epoch), while the gradient
        stops at the batch edge.
    history : dict of str to list of float, optional
        A previous run's ``history`` to continue (with ``initial_epoch``).

    Attributes
    ----------
    history : dict of str to list of float
        Per-epoch ``loss``, ``accuracy`` (class labels with ``CrossEntropy``), ``val_loss``,
        ``val_accuracy`` and what callbacks log (``lr``).
    epoch : int
        Epochs completed.
    stop_training : bool
        Set by a callback to end training after the current epoch.
    rng : numpy.random.Generator or None
        The generator the batches are shuffled with.

    Raises
    ------
    TypeError
        When ``model``, ``loss``, ``optimiser`` or a callback is of the wrong type.
    ValueError
        When the optimiser is bound to another model or ``verbose`` is not 0, 1 or 2.

    See Also
    --------
    Callback : the hooks.
    Sequential.fit : the same loop as a method of the model.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import nn
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 2))
    >>> y = X @ np.array([[1.0], [-2.0]]) + 0.5
    >>> model = nn.Sequential([nn.Dense(2, 1, seed=0, dtype="float64")])
    >>> trainer = nn.Trainer(model, loss=nn.MSE(), optimiser=nn.SGD(model, lr=0.1))
    >>> history = trainer.fit(X, y, epochs=20, batch_size=16)
    >>> len(history["loss"]), round(history["loss"][0], 4), round(history["loss"][-1], 4)
    (20, 1.2581, 0.0)
    >>> model.state_dict()["0.weight"].round(3).tolist(), model.state_dict()["0.bias"].round(3).tolist()
    ([[1.0, -2.0]], [0.5])
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

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs with a batch axis first; numeric, finite.
        y : array-like
            Targets, one per sample: values, or class labels (n_samples,) for
            ``CrossEntropy``.
        epochs : int, default 10
            Train until this many epochs are completed.
        batch_size : int, default 32
            Samples per batch (the last batch may be smaller).
        validation_split : float, default 0.0
            Fraction of the rows, taken from the end, held out for ``val_…`` metrics.
        validation_data : tuple of (X, y), optional
            Held-out data evaluated after every epoch.
        shuffle : bool, default True
            Reshuffle the rows every epoch.
        rng : int or numpy.random.Generator or None, default 0
            Seed or generator of the shuffling.
        initial_epoch : int, default 0
            The epoch to start from when resuming (keeps ``history``).

        Returns
        -------
        dict of str to list of float
            ``history``: each metric's per-epoch values.

        Raises
        ------
        TypeError
            When X or y is not numeric.
        ValueError
            For NaN or infinite values, X without a feature axis, X and y of different
            lengths, no rows, a batch size or epoch count that is not a positive integer, a
            ``validation_split`` outside (0, 1) or leaving no rows on one side, both
            ``validation_split`` and ``validation_data``, or class labels outside the model's
            outputs.
        TrainingDiverged
            When a batch's loss is NaN or infinite (the model keeps the last finite-loss
            weights).
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

        Parameters
        ----------
        batches : callable
            ``batches(epoch)`` returns an iterable of (x, y) array pairs, the epoch's batches.
        epochs : int
            Train until this many epochs are completed.
        validation_data : tuple of (X, y), optional
            Held-out data evaluated after every epoch.
        initial_epoch : int, default 0
            The epoch to start from, in [0, epochs]; 0 clears ``history``.
        rng : numpy.random.Generator, optional
            The generator ``batches`` draws from (kept as ``self.rng`` for checkpoints).

        Returns
        -------
        dict of str to list of float
            ``history``: each metric's per-epoch values.

        Raises
        ------
        ValueError
            For ``epochs`` that is not a positive integer, ``initial_epoch`` outside
            [0, epochs], empty or non-finite validation data, or an epoch without batches.
        TrainingDiverged
            When a batch's loss is NaN or infinite.

        Examples
        --------
        >>> import numpy as np
        >>> from gradstat import nn
        >>> rng = np.random.default_rng(0)
        >>> X = rng.normal(size=(64, 2))
        >>> y = X @ np.array([[1.0], [-2.0]]) + 0.5
        >>> model = nn.Sequential([nn.Dense(2, 1, seed=0, dtype="float64")])
        >>> trainer = nn.Trainer(model, loss=nn.MSE(), optimiser=nn.SGD(model, lr=0.1))
        >>> def batches(epoch):                   # the same four batches every epoch
        ...     return [(X[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16)]
        >>> [round(loss, 4) for loss in trainer.fit_batches(batches, epochs=5)["loss"]]
        [1.2745, 0.3151, 0.0807, 0.021, 0.0055]
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
