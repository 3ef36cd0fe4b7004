"""``Sequential``: layers chained into a network, itself a layer, with ``fit`` (by ``Trainer``).

forward: out = f_L(… f_2(f_1(x)));  backward: the chain rule from the loss
gradient back through each layer in reverse order.
"""

from __future__ import annotations

import pathlib
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from gradstat.nn.layers.base import Container, Layer, Shape, layer_class, qualified_name
from gradstat.nn.losses import MSE, CrossEntropy, Loss
from gradstat.nn.optim.optimisers import Adam, Optimiser
from gradstat.nn.threads import NetworkPass
from gradstat.nn.training.data import check_inputs, check_targets

if TYPE_CHECKING:
    import pandas as pd

    from gradstat.nn.inspection.explain import Explanation
    from gradstat.nn.training.callbacks import Callback


def _sample_shape(input_shape: Any) -> tuple[int, ...]:
    """``input_shape`` as positive ints; an error that explains the batch axis is left out."""
    dims = tuple(input_shape) if isinstance(input_shape, tuple | list) else None
    if dims is None or any(isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 1 for d in dims):
        raise ValueError(
            "Sequential input_shape is the shape of one sample, without the batch axis, as positive "
            f"ints (e.g. (3,) for rows of 3 features, (1, 28, 28) for images); got {input_shape!r}"
        )
    return tuple(int(d) for d in dims)


class Sequential(Container):
    """A network of layers applied in order; parameters are named ``"{index}.{name}"``.

    ``input_shape`` (without the batch axis, e.g. ``(64,)``) lets the shapes be
    checked and ``summary()`` be shown before any data flows; without it the
    check happens on the first call.
    """

    def __init__(self, layers: Iterable[Layer], input_shape: Sequence[int] | None = None) -> None:
        super().__init__()
        self.layers: list[Layer] = list(layers)
        if not self.layers:
            raise ValueError("Sequential needs at least one layer")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {i} of Sequential is {type(layer).__name__}, not a Layer")
        self.input_shape = None if input_shape is None else _sample_shape(input_shape)
        self._checked: Shape | None = None
        if self.input_shape is not None:
            self._check_chain((None, *self.input_shape))
        self.history_: dict[str, list[float]] = {}
        self._one_thread = False  # whether the last pass ended on one BLAS thread (threads.py)

    def named_children(self) -> Iterator[tuple[str, Layer]]:
        """The layers keyed by position, so parameters are named ``"{index}.{name}"``."""
        for i, layer in enumerate(self.layers):
            yield str(i), layer

    # --- the layer contract -----------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":
            raise TypeError(f"Sequential expects a numeric array, got dtype {x.dtype} of shape {x.shape}")
        shape = (None, *x.shape[1:])
        if shape != self._checked:
            self._check_chain(shape)
        with NetworkPass(start_limited=self._one_thread) as blas_pass:
            for layer in self.layers:
                x = layer.forward(x)
        self._one_thread = blas_pass.ended_limited
        return x

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        """Backpropagate ∂E/∂out through the layers in reverse; returns ∂E/∂input."""
        g = grad_output
        with NetworkPass(start_limited=self._one_thread) as blas_pass:
            for i in range(len(self.layers) - 1, -1, -1):
                g = self.layers[i].backward(g, input_grad=input_grad or i > 0)
        self._one_thread = blas_pass.ended_limited
        return g

    def output_shape(self, input_shape: Shape) -> Shape:
        return self._check_chain(tuple(input_shape))

    def _check_chain(self, shape: Shape) -> Shape:
        """Propagate ``shape`` through the layers, naming both layers where it breaks."""
        start = shape
        for i, layer in enumerate(self.layers):
            try:
                new = layer.output_shape(shape)
            except ValueError as exc:
                source = "the input" if i == 0 else f"layer {i - 1} ({self.layers[i - 1]!r})"
                raise ValueError(
                    f"shapes do not chain: layer {i} ({layer!r}) cannot take {shape} from {source}: {exc}"
                ) from None
            shape = tuple(new)
        self._checked = start
        return shape

    def config(self) -> dict[str, Any]:
        return {
            "layers": [
                {"class": qualified_name(type(layer)), "config": layer.config()} for layer in self.layers
            ],
            "input_shape": None if self.input_shape is None else list(self.input_shape),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        layers = [layer_class(spec["class"]).from_config(spec["config"]) for spec in config["layers"]]
        return cls(layers, input_shape=config.get("input_shape"))

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, index: int) -> Layer:
        return self.layers[index]

    def __repr__(self) -> str:
        inner = ",\n".join(f"  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"

    # --- inspection ---------------------------------------------------------------------------
    def summary(self, input_shape: Sequence[int] | None = None) -> pd.DataFrame:
        """One row per layer: its name, output shape (batch axis None) and parameter count."""
        import pandas as pd

        if input_shape is not None:
            shape: Shape = (None, *_sample_shape(input_shape))
        elif self.input_shape is not None:
            shape = (None, *self.input_shape)
        elif self._checked is not None:
            shape = self._checked
        else:
            raise ValueError("summary() needs input_shape= (here or in Sequential) or a first call")
        rows = []
        for layer in self.layers:
            shape = tuple(layer.output_shape(shape))
            n = layer.n_params
            rows.append({"layer": type(layer).__name__, "output_shape": str(shape), "params": n})
        frame = pd.DataFrame(rows)  # indexed by position, as model.layers[i]
        frame.attrs["total_params"] = int(frame["params"].sum())
        return frame

    def explain(
        self,
        x: np.ndarray,
        target: np.ndarray,
        loss: Loss | None = None,
        lr: float | None = None,
        *,
        weight: str | None = None,
    ) -> Explanation:
        """The notes' chain-rule trace of ∂E/∂w for every weight of a small network, or for
        one weight of any network (``weight="2.weight[3, 5]"``)."""
        from gradstat.nn.inspection.explain import explain

        return explain(self, x, target, loss, lr=lr, weight=weight)

    def save(self, path: str | pathlib.Path) -> None:
        """Weights as safetensors, architecture as JSON in its metadata (see ``gradstat.nn.io``)."""
        from gradstat.nn.io import save

        save(self, path)

    # --- training -----------------------------------------------------------------------------
    def predict(self, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Outputs for ``X`` in evaluation mode, computed in batches."""
        X = check_inputs(X, "X")
        was_training = self.training
        self.eval()
        try:
            parts = [self.forward(X[i : i + batch_size]) for i in range(0, len(X), batch_size)]
        finally:
            self.train(was_training)
        return np.concatenate(parts) if parts else self.forward(X)

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        epochs: int = 10,
        batch_size: int = 32,
        validation_data: tuple[np.ndarray, np.ndarray] | None = None,
        *,
        validation_split: float = 0.0,
        loss: Loss | None = None,
        optimiser: Optimiser | None = None,
        rng: int | np.random.Generator | None = 0,
        shuffle: bool = True,
        callbacks: Sequence[Callback] = (),
        initial_epoch: int = 0,
        verbose: int = 1,
    ) -> Sequential:
        """Mini-batch training by ``gradstat.nn.training.Trainer``; returns self with ``history_``.

        ``loss`` defaults to ``CrossEntropy`` for integer labels, else ``MSE``;
        ``optimiser`` to the last one used or ``Adam(self)``. Batches are drawn from the
        seeded generator ``rng`` (kept as ``rng_``). ``validation_split`` holds out the last
        fraction of the rows (before shuffling). ``callbacks``: early stopping,
        checkpoints, schedules, loggers (``gradstat.nn.training.callbacks``). ``verbose``:
        0 silent, 1 a progress bar, 2 a log line per epoch. A NaN/inf loss raises
        ``TrainingDiverged`` with the last weights that gave a finite loss.
        ``initial_epoch`` resumes a run from a checkpoint (with its optimiser and ``rng``).
        """
        from gradstat.nn.training.trainer import Trainer  # the trainer drives Sequential

        if loss is None:
            loss = getattr(self, "loss_", None)
        if loss is None:
            loss = CrossEntropy() if np.asarray(y).dtype.kind in "iu" else MSE()
        if optimiser is None:
            optimiser = getattr(self, "optimiser_", None) or Adam(self)
        history = self.history_ if initial_epoch else {}
        trainer = Trainer(
            self, loss=loss, optimiser=optimiser, callbacks=callbacks, verbose=verbose, history=history
        )
        self.loss_, self.optimiser_, self.history_ = loss, optimiser, trainer.history
        trainer.fit(
            X,
            y,
            epochs=epochs,
            batch_size=batch_size,
            validation_split=validation_split,
            validation_data=validation_data,
            shuffle=shuffle,
            rng=rng,
            initial_epoch=initial_epoch,
        )
        assert trainer.rng is not None
        self.rng_, self.epoch_ = trainer.rng, trainer.epoch
        return self

    def evaluate(self, X: np.ndarray, y: np.ndarray, loss: Loss | None = None) -> dict[str, float]:
        """Loss (and accuracy for class labels) on ``(X, y)`` in evaluation mode."""
        from gradstat.nn.training.trainer import evaluate

        loss = loss if loss is not None else getattr(self, "loss_", None) or MSE()
        X = check_inputs(X, "X")
        y = check_targets(y, len(X), "y", "X")
        return evaluate(self, X, y, loss)
