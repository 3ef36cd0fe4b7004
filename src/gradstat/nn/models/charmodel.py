"""A character-level language model: ŷ_t = softmax(W_Y h_t) predicts the next character.

Embedding → RNN/LSTM (stacked if asked) → Dense applied per step, trained with truncated
backpropagation through time: the text is cut into ``batch_size`` parallel streams, each
walked in chunks of ``seq_length`` characters; the hidden state is carried from one chunk to
the next, the gradient is not. The loss is the mean per-character cross-entropy (nats);
perplexity is e^loss.
"""

from __future__ import annotations

import contextlib
import json
import math
import pathlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from gradstat.nn.io import resume_checkpoint, save_checkpoint, write_atomically
from gradstat.nn.layers.base import Layer
from gradstat.nn.layers.dense import Dense
from gradstat.nn.layers.embedding import Embedding
from gradstat.nn.layers.recurrent import CELLS, Stacked
from gradstat.nn.layers.sequential import Sequential
from gradstat.nn.losses import CrossEntropy
from gradstat.nn.optim.optimisers import Adam, Optimiser
from gradstat.nn.training.callbacks import Callback
from gradstat.nn.training.lock import DirectoryLock
from gradstat.nn.training.trainer import Trainer

CHECKPOINT = "charmodel.safetensors"
VOCABULARY = "vocabulary.json"


class Vocabulary:
    """The characters of a text, sorted; ``encode`` maps text → ids, ``decode`` ids → text."""

    def __init__(self, chars: str) -> None:
        self.chars = "".join(sorted(set(chars)))
        if not self.chars:
            raise ValueError("a vocabulary needs at least one character")
        self._index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        unknown = sorted(set(text) - set(self._index))
        if unknown:
            raise ValueError(f"characters {unknown!r} are not in the vocabulary {self.chars!r}")
        return np.array([self._index[c] for c in text], dtype=np.int64)

    def decode(self, ids: np.ndarray | list[int]) -> str:
        ids = np.asarray(ids)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"token ids must lie in 0..{len(self) - 1}")
        return "".join(self.chars[i] for i in ids.ravel())


class CharModel:
    """Character language model trained by truncated BPTT with Adam and gradient clipping.

    ``fit(text)`` learns ``vocabulary_``, ``network_`` (a ``Sequential``, trained by the
    ``Trainer``) and ``history_`` (loss, accuracy and perplexity per epoch); with
    ``checkpoint_dir`` it saves after every epoch, and ``resume=True`` continues from the
    last saved epoch with the same settings. ``sample`` generates text.
    """

    vocabulary_: Vocabulary
    network_: Sequential
    optimiser_: Optimiser
    rng_: np.random.Generator
    epoch_: int

    def __init__(
        self,
        arch: str = "lstm",
        hidden_size: int = 128,
        num_layers: int = 1,
        embedding_dim: int = 32,
        seq_length: int = 50,
        batch_size: int = 32,
        lr: float = 2e-3,
        clip_norm: float | None = 5.0,
        epochs: int = 1,
        seed: int = 0,
    ) -> None:
        self.arch = arch
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.embedding_dim = embedding_dim
        self.seq_length = seq_length
        self.batch_size = batch_size
        self.lr = lr
        self.clip_norm = clip_norm
        self.epochs = epochs
        self.seed = seed

    # -- building ---------------------------------------------------------------------------
    def _validate(self) -> None:
        if self.arch not in CELLS:
            raise ValueError(f"arch must be one of {sorted(CELLS)}, got {self.arch!r}")
        for name in ("hidden_size", "num_layers", "embedding_dim", "seq_length", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 0:
            raise ValueError(f"epochs must be a non-negative integer, got {self.epochs!r}")

    def _build(self, vocab: int) -> Sequential:
        if self.num_layers == 1:
            rec: Layer = CELLS[self.arch](self.embedding_dim, self.hidden_size, seed=self.seed + 1)
        else:
            rec = Stacked(
                self.arch, self.embedding_dim, self.hidden_size, self.num_layers, seed=self.seed + 1
            )
        return Sequential(
            [
                Embedding(vocab, self.embedding_dim, seed=self.seed),
                rec,
                Dense(self.hidden_size, vocab, seed=self.seed + 2),
            ]
        )

    # -- training ---------------------------------------------------------------------------
    def fit(
        self,
        text: str,
        checkpoint_dir: str | pathlib.Path | None = None,
        resume: bool = False,
        verbose: int = 1,
        callbacks: Sequence[Callback] = (),
    ) -> CharModel:
        """Train for ``epochs`` passes over ``text`` (continuing a saved run if ``resume``).

        The ``Trainer`` runs with ``carry_state=True``: truncated BPTT over the chunks.
        ``checkpoint_dir`` is locked while training (``DirectoryLock``) and gets a checkpoint
        after every epoch. ``verbose`` and ``callbacks`` as in ``Trainer``.
        """
        self._validate()
        directory = None if checkpoint_dir is None else pathlib.Path(checkpoint_dir)
        if resume and (directory is None or not (directory / CHECKPOINT).exists()):
            raise FileNotFoundError(f"resume=True but no {CHECKPOINT} in {checkpoint_dir}")
        lock: contextlib.AbstractContextManager[Any] = (
            contextlib.nullcontext() if directory is None else DirectoryLock(directory)
        )
        with lock:
            if resume:
                assert directory is not None
                self._restore(directory)
                data = self.vocabulary_.encode(text)
            else:
                self.vocabulary_ = Vocabulary(text)
                data = self.vocabulary_.encode(text)
                self.network_ = self._build(len(self.vocabulary_))
                self.optimiser_ = Adam(self.network_, lr=self.lr, clip_norm=self.clip_norm)
                self.rng_ = np.random.default_rng(self.seed)
                self.epoch_ = 0
                self.network_.history_ = {}
            streams = len(data) - 1
            per_stream = streams // self.batch_size
            if per_stream < 1:
                raise ValueError(
                    f"text of {len(data)} characters is too short for batch_size {self.batch_size}"
                )
            cut = per_stream * self.batch_size
            inputs = data[:cut].reshape(self.batch_size, per_stream)  # parallel streams
            targets = data[1 : cut + 1].reshape(self.batch_size, per_stream)

            def chunks(epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
                for start in range(0, per_stream, self.seq_length):
                    end = start + self.seq_length
                    yield inputs[:, start:end], targets[:, start:end]

            if self.epoch_ < self.epochs:
                saving = [] if directory is None else [_SaveEveryEpoch(self, directory)]
                trainer = Trainer(
                    self.network_,
                    loss=CrossEntropy(),
                    optimiser=self.optimiser_,
                    callbacks=[*saving, *callbacks],
                    verbose=verbose,
                    carry_state=True,
                    history=self.network_.history_,
                )
                trainer.fit_batches(chunks, epochs=self.epochs, initial_epoch=self.epoch_, rng=self.rng_)
                self.epoch_ = trainer.epoch
        return self

    @property
    def history_(self) -> pd.DataFrame:
        """Per epoch: ``epoch``, ``loss`` (mean cross-entropy, nats per character), ``accuracy``
        (of the next-character guess) and ``perplexity`` = e^loss."""
        hist = self.network_.history_
        losses = hist.get("loss", [])
        frame = pd.DataFrame({"epoch": range(1, len(losses) + 1), "loss": losses, **hist})
        frame["perplexity"] = np.exp(frame["loss"].astype(float))
        return frame

    # -- persistence ------------------------------------------------------------------------
    def save(self, directory: str | pathlib.Path) -> None:
        """Weights, optimiser and generator state (safetensors) plus vocabulary and settings."""
        directory = pathlib.Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        settings = {k: getattr(self, k) for k in self._settings()}
        # atomic, as the checkpoint: a save killed midway never leaves a truncated vocabulary
        content = {"chars": self.vocabulary_.chars, "settings": settings}
        write_atomically(directory / VOCABULARY, json.dumps(content).encode())
        save_checkpoint(directory / CHECKPOINT, self.network_, self.optimiser_, self.rng_, self.epoch_)

    def _settings(self) -> list[str]:
        return [
            "arch",
            "hidden_size",
            "num_layers",
            "embedding_dim",
            "seq_length",
            "batch_size",
            "lr",
            "clip_norm",
            "seed",
        ]

    @staticmethod
    def saved_settings(directory: str | pathlib.Path) -> dict[str, Any]:
        """The settings a model in ``directory`` was trained with."""
        path = pathlib.Path(directory) / VOCABULARY
        try:
            settings = json.loads(path.read_text())["settings"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path} is not a character model's settings file: {exc}") from None
        if not isinstance(settings, dict):
            raise ValueError(f"{path} is not a character model's settings file")
        return settings

    def _restore(self, directory: pathlib.Path) -> None:
        """Continue the run saved in ``directory``; every setting but ``epochs`` must match it."""
        for key, value in self.saved_settings(directory).items():
            if getattr(self, key, value) != value:
                raise ValueError(
                    f"{directory} was trained with {key}={value!r}, "
                    f"this model has {key}={getattr(self, key)!r}: "
                    "resume with the same settings (only epochs may change)"
                )
        meta = json.loads((directory / VOCABULARY).read_text())
        self.vocabulary_ = Vocabulary(meta["chars"])
        ck, _ = resume_checkpoint(directory / CHECKPOINT)  # a corrupt last save falls back to .prev
        assert isinstance(ck.model, Sequential) and ck.optimiser is not None and ck.rng is not None
        self.network_, self.optimiser_, self.rng_, self.epoch_ = ck.model, ck.optimiser, ck.rng, ck.epoch
        self.network_.history_ = ck.history

    @classmethod
    def load(cls, directory: str | pathlib.Path) -> CharModel:
        """A trained model saved by ``fit(checkpoint_dir=…)`` or ``save``."""
        directory = pathlib.Path(directory)
        meta = json.loads((directory / VOCABULARY).read_text())
        model = cls(**meta["settings"])
        model._restore(directory)
        model.epochs = model.epoch_
        return model

    # -- generation -------------------------------------------------------------------------
    def sample(
        self, n_chars: int, temperature: float = 1.0, prime: str = "\n", seed: int | None = None
    ) -> str:
        """Generate ``n_chars`` characters after ``prime``, drawing from softmax(z / temperature).

        Temperature < 1 sharpens the distribution (safer, more repetitive), > 1 flattens it.
        """
        if not hasattr(self, "network_"):
            raise RuntimeError("CharModel.sample called before fit")
        if not (isinstance(temperature, int | float) and temperature > 0 and math.isfinite(temperature)):
            raise ValueError(f"temperature must be a positive number, got {temperature!r}")
        if isinstance(n_chars, bool) or not isinstance(n_chars, int) or n_chars < 0:
            raise ValueError(f"n_chars must be a non-negative integer, got {n_chars!r}")
        if not prime:
            raise ValueError("prime must hold at least one character")
        rng = np.random.default_rng(seed)
        ids = self.vocabulary_.encode(prime)[None]
        net = self.network_
        net.reset_state().carry_state()  # each character continues from the state the last one left
        try:
            logits = net.forward(ids)[0, -1]
            chosen: list[int] = []
            for _ in range(n_chars):
                z = logits.astype(np.float64) / temperature
                p = np.exp(z - z.max())
                p /= p.sum()  # softmax(z / T)
                nxt = int(rng.choice(len(p), p=p))
                chosen.append(nxt)
                logits = net.forward(np.array([[nxt]]))[0, -1]
        finally:
            net.carry_state(False).reset_state()
        return self.vocabulary_.decode(chosen)

    def get_params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in [*self._settings(), "epochs"]}


class _SaveEveryEpoch(Callback):
    """Save the character model (checkpoint, vocabulary, settings) after every epoch."""

    def __init__(self, model: CharModel, directory: pathlib.Path) -> None:
        self.model, self.directory = model, directory

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        self.model.epoch_ = epoch + 1
        self.model.save(self.directory)
