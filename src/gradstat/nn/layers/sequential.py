"""``Sequential``: layers chained into a network, itself a layer, with ``fit`` (by ``Trainer``).

forward: out = f_L(… f_2(f_1(x)));  backward: the chain rule from the loss
gradient back through each layer in reverse order.
"""

from __future__ import annotations

import copy
import pathlib
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from gradstat.nn.layers.base import Container, Layer, Shape, layer_class, qualified_name
from gradstat.nn.losses import MSE, CrossEntropy, Loss
from gradstat.nn.optim.optimisers import Adam, Optimiser
from gradstat.nn.training.data import check_inputs, check_targets
from gradstat.threads import SPLIT_PART, NetworkPass, batch_workers, on_threads

if TYPE_CHECKING:
    import pandas as pd

    from gradstat.nn.inspection.explain import Explanation
    from gradstat.nn.training.callbacks import Callback


def _leaves(layer: Layer) -> Iterator[Layer]:
    """The layers that hold arrays, in order: a container's children's, recursively."""
    if isinstance(layer, Container):
        for _, child in layer.named_children():
            yield from _leaves(child)
    else:
        yield layer


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
    """A network of layers applied in order, itself a layer, with ``fit``, ``predict`` and ``evaluate``.

    Forward: out = f_L(… f_2(f_1(x))). Backward: the chain rule in reverse order,
    δ_L = ∂E/∂out and δ_{k−1} = layer_k.backward(δ_k), each layer filling its own
    gradients on the way (``backward(g, input_grad=False)`` spares the first layer ∂E/∂x).
    Parameters are named ``"{index}.{name}"`` (``"0.weight"``, ``"2.bias"`` …).

    PyTorch: ``torch.nn.Sequential``; the same ``state_dict`` keys, so weights cross in
    both directions unchanged. ``fit`` / ``predict`` / ``evaluate`` are Keras-like
    conveniences on top (driven by ``gradstat.nn.Trainer``).

    Parameters
    ----------
    layers : iterable of Layer
        The layers, first applied first; at least one.
    input_shape : sequence of int or None, default None
        The shape of one sample without the batch axis, e.g. ``(64,)`` or ``(1, 28, 28)``.
        When given, the shapes are checked through the layers now and `summary` works
        before any data flows; otherwise the check happens on the first call.

    Attributes
    ----------
    layers : list of Layer
        The layers; ``model[i]`` is ``model.layers[i]``.
    params, grads, buffers : dict
        The layers' arrays under ``"{index}.{name}"``, the live ones.
    history_ : dict[str, list of float]
        After `fit`: each metric (``loss``, ``accuracy`` for class labels, ``val_loss`` …)
        per epoch.
    loss_, optimiser_ : Loss, Optimiser
        After `fit`: what it used; the next ``fit`` continues with them.
    rng_ : numpy.random.Generator
        After `fit`: the generator that shuffles the batches.
    epoch_ : int
        After `fit`: the number of epochs completed.

    Raises
    ------
    ValueError
        If ``layers`` is empty, or the shapes do not chain (both layers and the shape
        named).
    TypeError
        If an element of ``layers`` is not a `Layer`.

    See Also
    --------
    gradstat.nn.save, gradstat.nn.load : files with the weights and the architecture.
    MLPClassifier, MLPRegressor : scikit-learn estimators around a network.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat.nn import SGD, Dense, Sequential, Tanh
    >>> model = Sequential([Dense(4, 8, seed=0), Tanh(), Dense(8, 3, seed=1)], input_shape=(4,))
    >>> print(model.summary())
       layer output_shape  params
    0  Dense    (None, 8)      40
    1   Tanh    (None, 8)       0
    2  Dense    (None, 3)      27
    >>> list(model.state_dict())
    ['0.weight', '0.bias', '2.weight', '2.bias']

    Fitting y = 2x + 1 with one unit:

    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(64, 1))
    >>> line = Sequential([Dense(1, 1, seed=0)])
    >>> _ = line.fit(X, 2 * X + 1, epochs=100, batch_size=16, optimiser=SGD(line, lr=0.1), verbose=0)
    >>> line.params["0.weight"].round(3).tolist(), line.params["0.bias"].round(3).tolist()
    ([[2.0]], [1.0])
    >>> line.predict(np.array([[0.5]])).round(3).tolist()
    [[2.0]]
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
        self._parts: list[tuple[Sequential, slice]] | None = None  # a split pass's copies and rows

    def named_children(self) -> Iterator[tuple[str, Layer]]:
        """The layers keyed by position, so parameters are named ``"{index}.{name}"``."""
        for i, layer in enumerate(self.layers):
            yield str(i), layer

    # --- the layer contract -----------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        """out = f_L(… f_1(x)), each layer caching what its backward pass needs.

        On several cores, a network of small products (LeNet's: its last pass kept BLAS on
        one thread) splits a large enough batch into consecutive parts, one per core, each
        run through a copy of the network (`replica`); `backward` then adds the parts'
        gradients. The outputs and gradients are those of the whole batch.

        Parameters
        ----------
        x : numpy.ndarray
            A batch of inputs, (batch, ``*input_shape``).

        Returns
        -------
        numpy.ndarray
            The last layer's output.

        Raises
        ------
        TypeError
            For non-numeric input.
        ValueError
            If the input's shape does not chain through the layers.
        """
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":
            raise TypeError(f"Sequential expects a numeric array, got dtype {x.dtype} of shape {x.shape}")
        shape = (None, *x.shape[1:])
        if shape != self._checked:
            self._check_chain(shape)
        self._parts = self._split(x)
        if self._parts:
            parts = self._parts
            return np.concatenate(on_threads(lambda k: parts[k][0].forward(x[parts[k][1]]), len(parts)))
        with NetworkPass(start_limited=self._one_thread) as blas_pass:
            for layer in self.layers:
                x = layer.forward(x)
        self._one_thread = blas_pass.ended_limited
        return x

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        """Backpropagate ∂E/∂out through the layers in reverse, filling every layer's ``grads``.

        Parameters
        ----------
        grad_output : numpy.ndarray
            ∂E/∂out, the shape of the last output (a loss's ``backward()``).
        input_grad : bool, default True
            False lets the first layer skip ∂E/∂input.

        Returns
        -------
        numpy.ndarray
            ∂E/∂input; an empty array when ``input_grad`` is False and the first layer
            skips it.
        """
        g = grad_output
        if self._parts:  # the forward pass was split: each copy takes back its part
            parts = self._parts
            dxs = on_threads(
                lambda k: parts[k][0].backward(g[parts[k][1]], input_grad=input_grad), len(parts)
            )
            self._add_part_gradients([twin for twin, _ in parts])
            return np.concatenate(dxs) if input_grad or dxs[0].size else dxs[0]  # empty: skipped
        with NetworkPass(start_limited=self._one_thread) as blas_pass:
            for i in range(len(self.layers) - 1, -1, -1):
                g = self.layers[i].backward(g, input_grad=input_grad or i > 0)
        self._one_thread = blas_pass.ended_limited
        return g

    def replica(self, part: int = 0) -> Sequential | None:
        """A copy of the network that takes one part of a batch on another thread: each layer's
        `replica` (the same weights, its own caches and gradients); None if a layer has none.

        Parameters
        ----------
        part : int, default 0
            Which part of the batch the copy takes (copies of one part reuse scratch arrays).

        Returns
        -------
        Sequential or None
            The copy, or None.
        """
        layers = [layer.replica(part) for layer in self.layers]
        if any(layer is None for layer in layers):
            return None
        twin = copy.copy(self)
        twin.layers = [layer for layer in layers if layer is not None]
        twin._parts = None
        return twin

    def _split(self, x: np.ndarray) -> list[tuple[Sequential, slice]] | None:
        """The copies and rows of a split pass, or None: the pass runs whole when the last one
        used BLAS's threads (large products: BLAS splits them better), when the user chose a
        thread count, when a part would be small, or when a layer cannot be split."""
        if not self._one_thread or x.size < 2 * SPLIT_PART:
            return None
        workers = min(batch_workers(len(x)), x.size // SPLIT_PART)
        copies = self._copies(workers)
        if copies is None:
            return None
        bounds = [len(x) * k // workers for k in range(workers + 1)]
        return [(twin, slice(bounds[k], bounds[k + 1])) for k, twin in enumerate(copies)]

    def _copies(self, workers: int) -> list[Sequential] | None:
        """One `replica` per worker, or None for fewer than two workers or a network that has
        none (it stops at the first layer without one)."""
        copies: list[Sequential] = []
        for k in range(workers if workers > 1 else 0):
            twin = self.replica(k)
            if twin is None:
                return None
            copies.append(twin)
        return copies or None

    def _add_part_gradients(self, copies: list[Sequential]) -> None:
        """Each parameter's ∂E/∂θ = the sum of the parts' (the loss adds over samples)."""
        leaves_of_copies = zip(*(_leaves(twin) for twin in copies), strict=True)
        for layer, twins in zip(_leaves(self), leaves_of_copies, strict=True):
            for name in twins[0].grads:
                total = layer.grad_buffer(name)
                np.copyto(total, twins[0].grads[name])
                for twin in twins[1:]:
                    total += twin.grads[name]

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
        """One row per layer: its class, output shape (batch axis None) and parameter count.

        Parameters
        ----------
        input_shape : sequence of int or None, default None
            One sample's shape; None uses the constructor's ``input_shape`` or the shape of
            the first call.

        Returns
        -------
        pandas.DataFrame
            Columns ``layer``, ``output_shape``, ``params``, indexed by position; the total
            is in ``frame.attrs["total_params"]``.

        Raises
        ------
        ValueError
            If no input shape is known yet, or it does not chain.
        """
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
        one weight of any network (``weight="2.weight[3, 5]"``).

        Parameters
        ----------
        x, target : numpy.ndarray
            One sample (or a small batch) and its target.
        loss : Loss or None, default None
            The error E; None is the notes' E = ½ Σ (target − out)².
        lr : float or None, default None
            γ, to show the updates w⁺ = w − γ ∂E/∂w too.
        weight : str or None, default None
            One weight to trace, as ``"{param}[{index}]"``.

        Returns
        -------
        Explanation
            See `gradstat.nn.explain`, which this calls.
        """
        from gradstat.nn.inspection.explain import explain

        return explain(self, x, target, loss, lr=lr, weight=weight)

    def save(self, path: str | pathlib.Path) -> None:
        """Write the weights as safetensors, the architecture as JSON in its metadata.

        Parameters
        ----------
        path : str or pathlib.Path
            The file to write; see `gradstat.nn.save`, which this calls.
        """
        from gradstat.nn.io import save

        save(self, path)

    # --- training -----------------------------------------------------------------------------
    def predict(self, X: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Outputs for ``X`` in evaluation mode (no dropout, running statistics), in batches.

        The model's mode is restored afterwards. With several cores the batches are shared
        out: each of as many threads as BLAS has (``gradstat.threads.batch_workers``)
        runs a stretch of consecutive batches through a copy of the network (`replica`: the
        same weights, its own caches), with BLAS on one thread each. A network with a layer
        that has no copy (a recurrent one), or a thread count the user set
        (``OMP_NUM_THREADS`` …), runs on the calling thread. The outputs are the same
        either way.

        Parameters
        ----------
        X : numpy.ndarray
            Inputs, (n, ``*input_shape``).
        batch_size : int, default 1024
            Rows per forward pass (memory, not results).

        Returns
        -------
        numpy.ndarray
            The last layer's outputs, n rows (logits for a classifier ending in ``Dense``).
        """
        X = check_inputs(X, "X")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or batch_size < 1:
            raise ValueError(f"predict batch_size must be a positive int, got {batch_size!r}")
        starts = list(range(0, len(X), batch_size))
        was_training = self.training
        self.eval()
        try:
            copies = self._copies(batch_workers(len(starts)))
            if copies is None:
                parts = [self.forward(X[i : i + batch_size]) for i in starts]
            else:  # a run of consecutive batches for each copy, on a core of its own
                runs = np.array_split(np.array(starts), len(copies))

                def run(k: int) -> list[np.ndarray]:
                    return [copies[k].forward(X[i : i + batch_size]) for i in runs[k]]

                parts = [part for run_parts in on_threads(run, len(copies)) for part in run_parts]
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
        """Mini-batch training: forward, loss, backward and an optimiser step per batch.

        Driven by `gradstat.nn.Trainer`; the metrics per epoch are kept in ``history_``.

        Parameters
        ----------
        X : numpy.ndarray
            Inputs, (n, ``*input_shape``).
        y : numpy.ndarray
            Targets, n rows: integer class labels or values of the output's shape.
        epochs : int, default 10
            The number of passes over the data (the last epoch index + 1 when resuming).
        batch_size : int, default 32
            Rows per update.
        validation_data : tuple (X_val, y_val) or None, default None
            Data scored after every epoch (``val_loss`` …).
        validation_split : float, default 0.0
            Hold out this last fraction of the rows (before shuffling) as validation data.
        loss : Loss or None, default None
            None: the last one used, else `CrossEntropy` for integer labels and `MSE`
            otherwise.
        optimiser : Optimiser or None, default None
            None: the last one used, else ``Adam(self)``.
        rng : int, numpy.random.Generator or None, default 0
            Seed or generator of the shuffling (kept as ``rng_``).
        shuffle : bool, default True
            Draw the batches in a new random order each epoch.
        callbacks : sequence of Callback, default ()
            Early stopping, checkpoints, learning-rate schedules, loggers.
        initial_epoch : int, default 0
            Resume a run from a checkpoint at this epoch (with its optimiser and ``rng``).
        verbose : int, default 1
            0 silent, 1 a progress bar, 2 a log line per epoch.

        Returns
        -------
        Sequential
            The model itself, trained, with ``history_``, ``loss_``, ``optimiser_``,
            ``rng_`` and ``epoch_`` set.

        Raises
        ------
        TrainingDiverged
            If the loss becomes NaN or infinite; it carries the last weights that gave a
            finite loss.
        ValueError
            For inputs and targets whose shapes or lengths do not fit (named).
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
        """The loss (and the accuracy, for class labels) on ``(X, y)`` in evaluation mode.

        Parameters
        ----------
        X : numpy.ndarray
            Inputs, (n, ``*input_shape``).
        y : numpy.ndarray
            Targets, n rows.
        loss : Loss or None, default None
            None: the loss of the last `fit`, else `MSE`.

        Returns
        -------
        dict[str, float]
            ``{"loss": …}``, plus ``"accuracy"`` (the share of argmax predictions equal
            to the label) for `CrossEntropy` with integer labels.
        """
        from gradstat.nn.training.trainer import evaluate

        loss = loss if loss is not None else getattr(self, "loss_", None) or MSE()
        X = check_inputs(X, "X")
        y = check_targets(y, len(X), "y", "X")
        return evaluate(self, X, y, loss)
