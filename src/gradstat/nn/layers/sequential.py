"""``Sequential``: layers chained into a network, itself a layer, with ``fit``.

forward: out = f_L(… f_2(f_1(x)));  backward: the chain rule from the loss
gradient back through each layer in reverse order.
"""

from __future__ import annotations

import math
import pathlib
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from gradstat.nn.layers.base import Container, Layer, Shape, layer_class, qualified_name
from gradstat.nn.losses import MSE, CrossEntropy, Loss, class_labels
from gradstat.nn.optim.optimisers import Adam, Optimiser

if TYPE_CHECKING:
    import pandas as pd

    from gradstat.nn.inspection.explain import Explanation


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite; the model holds the last weights with a finite loss."""


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
        self.input_shape = None if input_shape is None else tuple(int(d) for d in input_shape)
        self._checked: Shape | None = None
        if self.input_shape is not None:
            self._check_chain((None, *self.input_shape))
        self.history_: dict[str, list[float]] = {}

    def named_children(self) -> Iterator[tuple[str, Layer]]:
        """The layers keyed by position, so parameters are named ``"{index}.{name}"``."""
        for i, layer in enumerate(self.layers):
            yield str(i), layer

    # --- the layer contract -----------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        shape = (None, *x.shape[1:])
        if shape != self._checked:
            self._check_chain(shape)
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        """Backpropagate ∂E/∂out through the layers in reverse; returns ∂E/∂input."""
        g = grad_output
        for i in range(len(self.layers) - 1, -1, -1):
            g = self.layers[i].backward(g, input_grad=input_grad or i > 0)
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
            shape: Shape = (None, *input_shape)
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
        self, x: np.ndarray, target: np.ndarray, loss: Loss | None = None, lr: float | None = None
    ) -> Explanation:
        """The notes' chain-rule trace of ∂E/∂w for every weight of a small network."""
        from gradstat.nn.inspection.explain import explain

        return explain(self, x, target, loss, lr=lr)

    def save(self, path: str | pathlib.Path) -> None:
        """Weights as safetensors, architecture as JSON in its metadata (see ``gradstat.nn.io``)."""
        from gradstat.nn.io import save

        save(self, path)

    # --- training -----------------------------------------------------------------------------
    def predict(self, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Outputs for ``X`` in evaluation mode, computed in batches."""
        X = _check_inputs(X, "X")
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
        loss: Loss | None = None,
        optimiser: Optimiser | None = None,
        rng: int | np.random.Generator | None = 0,
        shuffle: bool = True,
        early_stopping: int | None = None,
        initial_epoch: int = 0,
        progress: bool = True,
        checkpoint: str | pathlib.Path | None = None,
    ) -> Sequential:
        """Mini-batch training; returns self with ``history_`` (per-epoch loss and metrics).

        ``loss`` defaults to ``CrossEntropy`` for integer labels, else ``MSE``;
        ``optimiser`` to the last one used or ``Adam(self)``. Batches are drawn
        from the seeded generator ``rng`` (kept as ``rng_``). ``early_stopping=k``
        stops after k epochs without improvement of the validation loss (the
        training loss without validation data) and restores the best weights. A
        NaN/inf loss raises ``TrainingDiverged`` with the last weights that gave a finite loss.
        ``checkpoint`` saves model, optimiser and generator after every epoch;
        ``initial_epoch`` resumes a run from such a checkpoint.
        """
        X = _check_inputs(X, "X")
        y = np.asarray(y)
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} samples but y has {len(y)}")
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or infinite values")
        for name, count in (("epochs", epochs), ("batch_size", batch_size)):
            if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 1:
                raise ValueError(f"{name} must be a positive integer, got {count!r}")
        if not (isinstance(initial_epoch, int) and 0 <= initial_epoch <= epochs):
            raise ValueError(f"initial_epoch must be in [0, epochs], got {initial_epoch!r}")
        if early_stopping is not None and (not isinstance(early_stopping, int) or early_stopping < 1):
            raise ValueError(f"early_stopping must be a positive integer, got {early_stopping!r}")
        loss = loss if loss is not None else getattr(self, "loss_", None)
        if loss is None:
            loss = CrossEntropy() if y.dtype.kind in "iu" else MSE()
        if optimiser is None:
            optimiser = getattr(self, "optimiser_", None) or Adam(self)
        if optimiser.target is not self:
            raise ValueError("the optimiser is bound to another model")
        out_shape = self.output_shape((None, *X.shape[1:]))
        classify = isinstance(loss, CrossEntropy) and y.shape == (len(X), *out_shape[1:-1])
        if classify:
            y = class_labels(y, int(out_shape[-1]))  # type: ignore[arg-type]
        if validation_data is not None:
            Xv = _check_inputs(validation_data[0], "validation X")
            yv = np.asarray(validation_data[1])
            if len(Xv) != len(yv):
                raise ValueError(f"validation X has {len(Xv)} samples but y has {len(yv)}")
            validation_data = (Xv, yv)
        self.loss_, self.optimiser_ = loss, optimiser
        self.rng_ = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        if initial_epoch == 0 or not self.history_:
            self.history_ = {}
        self.train()
        bar = tqdm(total=epochs, initial=initial_epoch, unit="epoch", disable=not progress)
        try:
            self._epochs(
                X,
                y,
                epochs,
                batch_size,
                validation_data,
                loss,
                optimiser,
                shuffle,
                early_stopping,
                initial_epoch,
                checkpoint,
                classify,
                bar,
            )
        finally:
            bar.close()
        self.eval()
        return self

    def _epochs(
        self,
        X: np.ndarray,
        y: np.ndarray,
        epochs: int,
        batch_size: int,
        validation_data: tuple[np.ndarray, np.ndarray] | None,
        loss: Loss,
        optimiser: Optimiser,
        shuffle: bool,
        early_stopping: int | None,
        initial_epoch: int,
        checkpoint: str | pathlib.Path | None,
        classify: bool,
        bar: tqdm,
    ) -> None:
        monitor = "val_loss" if validation_data is not None else "loss"
        best, best_weights, waited = math.inf, None, 0
        n = len(X)
        n_batches = -(-n // batch_size)
        snapshot: dict[str, np.ndarray] = {}  # weights that gave a finite batch loss
        batch = np.empty((min(batch_size, n), *X.shape[1:]), dtype=X.dtype)
        for epoch in range(initial_epoch, epochs):
            order = self.rng_.permutation(n) if shuffle else np.arange(n)
            total, correct = 0.0, 0
            for b in range(n_batches):
                idx = order[b * batch_size : (b + 1) * batch_size]
                # one buffer for all batches; mode="clip" stops numpy buffering the copy again
                xb = np.take(X, idx, axis=0, out=batch[: len(idx)], mode="clip")
                yb = y[idx]
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    out = self.forward(xb)
                    value = loss.forward(out, yb)
                if not math.isfinite(value):
                    if snapshot:
                        self.load_state_dict(snapshot)
                    raise TrainingDiverged(
                        f"loss became {value} at epoch {epoch + 1}, batch {b + 1}; the weights of "
                        "the last finite-loss step were kept — lower the learning rate or clip "
                        "gradients (clip_norm=)"
                    )
                for name, p in self.state_dict().items():  # this step's loss is finite: keep its weights
                    if name in snapshot:
                        np.copyto(snapshot[name], p)
                    else:
                        snapshot[name] = p.copy()
                with np.errstate(over="ignore", invalid="ignore"):
                    self.backward(loss.backward(), input_grad=False)
                    optimiser.step()
                weight = len(idx) if loss.reduction == "mean" else 1
                total += value * weight
                if classify:
                    correct += int(np.count_nonzero(out.argmax(axis=-1) == yb))
            record = {"loss": total / (n if loss.reduction == "mean" else 1)}
            if classify:
                record["accuracy"] = correct / y.size
            if validation_data is not None:
                record.update(self._evaluate(*validation_data, loss, classify))
                self.train()
            for key, val in record.items():
                self.history_.setdefault(key, []).append(val)
            bar.set_postfix({key: f"{val:.4f}" for key, val in record.items()}, refresh=False)
            bar.update(1)
            self.epoch_ = epoch + 1
            if checkpoint is not None:
                from gradstat.nn.io import save_checkpoint

                save_checkpoint(checkpoint, self, optimiser, self.rng_, epoch + 1)
            if early_stopping is not None:
                if record[monitor] < best:
                    best, waited = record[monitor], 0
                    best_weights = {k: p.copy() for k, p in self.state_dict().items()}
                else:
                    waited += 1
                    if waited >= early_stopping:
                        break
        if best_weights is not None:
            self.load_state_dict(best_weights)

    def evaluate(self, X: np.ndarray, y: np.ndarray, loss: Loss | None = None) -> dict[str, float]:
        """Loss (and accuracy for class labels) on ``(X, y)`` in evaluation mode."""
        loss = loss if loss is not None else getattr(self, "loss_", None) or MSE()
        X = _check_inputs(X, "X")
        y = np.asarray(y)
        out_shape = self.output_shape((None, *X.shape[1:]))
        classify = isinstance(loss, CrossEntropy) and y.shape == (len(X), *out_shape[1:-1])
        metrics = self._evaluate(X, y, loss, classify)
        return {k.removeprefix("val_"): v for k, v in metrics.items()}

    def _evaluate(self, X: np.ndarray, y: np.ndarray, loss: Loss, classify: bool) -> dict[str, float]:
        out = self.predict(X)
        record = {"val_loss": loss.forward(out, y)}
        if classify:
            record["val_accuracy"] = float(np.mean(out.argmax(axis=-1) == y))
        return record


def _check_inputs(X: Any, name: str) -> np.ndarray:
    X = np.asarray(X)
    if X.dtype.kind not in "fiub":
        raise TypeError(f"{name} must be numeric, got dtype {X.dtype}")
    if X.ndim < 2:
        raise ValueError(f"{name} must have a batch axis and features, got shape {X.shape}")
    # one pass: the sum is finite whenever all values are (an overflowing sum of finite values
    # falls through to the exact count)
    if X.dtype.kind == "f" and not math.isfinite(X.sum()):
        bad = np.count_nonzero(~np.isfinite(X))
        if bad:
            raise ValueError(f"{name} contains {bad} NaN or infinite values")
    return X
