"""Reproducible long-range sequence tasks: where a plain RNN forgets and an LSTM remembers."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from gradstat.nn.layers.dense import Dense
from gradstat.nn.layers.recurrent import LSTM, RNN
from gradstat.nn.layers.sequential import Sequential
from gradstat.nn.losses import MSE, Loss
from gradstat.nn.optim.optimisers import Adam
from gradstat.nn.training.trainer import Trainer


def _check(n: int, length: int, min_length: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if isinstance(length, bool) or not isinstance(length, int | np.integer) or length < min_length:
        raise ValueError(f"length must be an integer ≥ {min_length}, got {length!r}")


def adding_problem(n: int, length: int, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Hochreiter & Schmidhuber's adding problem: x (n, length, 2), y (n, 1) float32.

    Channel 0 holds U(0, 1) values, channel 1 marks two of them — one in the first half,
    one in the second — and the target is their sum. Predicting 1 (the mean) scores an
    MSE of 1/6 ≈ 0.167; a solution has to carry the first marked value across up to
    ``length`` steps.
    """
    _check(n, length, 2)
    rng = np.random.default_rng(seed)
    x = np.zeros((n, length, 2), np.float32)
    x[:, :, 0] = rng.uniform(0.0, 1.0, (n, length))
    half = length // 2
    first = rng.integers(0, half, n)
    second = rng.integers(half, length, n)
    rows = np.arange(n)
    x[rows, first, 1] = 1.0
    x[rows, second, 1] = 1.0
    y = (x[rows, first, 0] + x[rows, second, 0])[:, None]
    return x, y


def copy_memory(
    n: int, length: int, symbols: int = 8, memory: int = 5, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Copy-memory task: token ids x and targets y, both (n, memory + length + memory) ints.

    The sequence starts with ``memory`` random symbols 1…``symbols``, then ``length − 1``
    blanks (0), a go marker (``symbols + 1``), and ``memory`` more blanks; the target is
    blank everywhere except the last ``memory`` steps, which repeat the opening symbols.
    Vocabulary size ``symbols + 2``. Guessing (blanks, then any symbol) scores a
    cross-entropy of memory·log(symbols)/(total steps).
    """
    _check(n, length, 1)
    if memory < 1 or symbols < 2:
        raise ValueError(f"need memory ≥ 1 and symbols ≥ 2, got {memory}, {symbols}")
    rng = np.random.default_rng(seed)
    total = memory + length + memory
    x = np.zeros((n, total), np.int64)
    y = np.zeros((n, total), np.int64)
    data = rng.integers(1, symbols + 1, (n, memory))
    x[:, :memory] = data
    x[:, memory + length - 1] = symbols + 1  # go: recall now
    y[:, -memory:] = data
    return x, y


class LastStepMSE(Loss):
    """MSE of the last time step only: (batch, time, k) outputs scored against (batch, k) targets.

    ∂E/∂out is the MSE gradient at t = T and 0 at every earlier step.
    """

    def forward(self, pred: np.ndarray, target: np.ndarray) -> float:
        if pred.ndim != 3:
            raise ValueError(f"LastStepMSE needs (batch, time, outputs) predictions, got shape {pred.shape}")
        mse = MSE(self.reduction)
        value = mse.forward(pred[:, -1], target)
        self._grad = np.zeros_like(pred)
        self._grad[:, -1] = mse.backward()
        return value


def adding_learning_curve(
    arch: str,
    length: int = 50,
    hidden_size: int = 32,
    steps: int = 1000,
    batch_size: int = 64,
    lr: float = 0.01,
    eval_every: int = 50,
    seed: int = 0,
) -> pd.DataFrame:
    """Train ``arch`` ("rnn" or "lstm") + a Dense head on fresh adding-problem batches.

    Adam with clipping at global norm 1; the loss is the MSE of the last step's output
    (``LastStepMSE``). The ``Trainer`` counts ``eval_every`` steps as an epoch. Returns the
    learning curve: ``step``, ``train_mse`` (the mean over the batches since the last row)
    and ``valid_mse`` (a fixed held-out set of 256 sequences). Below 1/6 ≈ 0.167 the model
    beats guessing the mean; near 0 it has solved the task.
    """
    if arch not in ("rnn", "lstm"):
        raise ValueError(f"arch must be 'rnn' or 'lstm', got {arch!r}")
    for name, value in (("steps", steps), ("batch_size", batch_size), ("eval_every", eval_every)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    rec = (
        RNN(2, hidden_size, seed=seed) if arch == "rnn" else LSTM(2, hidden_size, forget_bias=1.0, seed=seed)
    )
    model = Sequential([rec, Dense(hidden_size, 1, seed=seed + 1)])
    x_valid, y_valid = adding_problem(256, length, seed=seed + 10_000)
    ends = [min(e, steps) for e in range(eval_every, steps + eval_every, eval_every)]

    def batches(epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for step in range(epoch * eval_every + 1, ends[epoch] + 1):
            yield adding_problem(batch_size, length, seed=seed * 1_000_003 + step)

    trainer = Trainer(model, loss=LastStepMSE(), optimiser=Adam(model, lr=lr, clip_norm=1.0))
    history = trainer.fit_batches(batches, epochs=len(ends), validation_data=(x_valid, y_valid))
    return pd.DataFrame({"step": ends, "train_mse": history["loss"], "valid_mse": history["val_loss"]})
