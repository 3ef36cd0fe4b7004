"""scikit-learn estimators around ``Sequential``: ``MLPClassifier`` and ``MLPRegressor``.

The network is Dense → activation → … → Dense, trained by ``Sequential.fit`` (the one
``Trainer``: mini-batches, seeded shuffling; ``n_iter_no_change`` epochs without a lower
training loss stop it with the best weights); classification minimises softmax
cross-entropy, regression the mean squared error.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstat.estimator import ClassifierMixin, Estimator, RegressorMixin
from gradstat.nn.layers.activations import ReLU, Sigmoid, Tanh
from gradstat.nn.layers.base import Layer
from gradstat.nn.layers.dense import Dense
from gradstat.nn.layers.sequential import Sequential
from gradstat.nn.losses import MSE, CrossEntropy, Loss
from gradstat.nn.optim.optimisers import SGD, Adam, Optimiser
from gradstat.nn.training.callbacks import EarlyStopping

ACTIVATIONS: dict[str, type[Layer]] = {"relu": ReLU, "tanh": Tanh, "logistic": Sigmoid}


class _MLP(Estimator):
    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (100,),
        activation: str = "relu",
        optimiser: str = "adam",
        lr: float = 0.001,
        momentum: float = 0.9,
        batch_size: int = 32,
        epochs: int = 200,
        n_iter_no_change: int | None = 10,
        random_state: int | None = None,
        verbose: int = 0,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimiser = optimiser
        self.lr = lr
        self.momentum = momentum
        self.batch_size = batch_size
        self.epochs = epochs
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.verbose = verbose

    def _train(self, X: np.ndarray, y: np.ndarray, n_out: int, loss: Loss) -> None:
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")
        if self.optimiser not in ("adam", "sgd"):
            raise ValueError(f"optimiser must be 'adam' or 'sgd', got {self.optimiser!r}")
        sizes = [int(h) for h in np.atleast_1d(self.hidden_layer_sizes)]
        if any(h < 1 for h in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive, got {self.hidden_layer_sizes}")
        rng = np.random.default_rng(self.random_state)
        init = "he_uniform" if self.activation == "relu" else "xavier_uniform"
        layers: list[Layer] = []
        width = X.shape[1]
        for h in sizes:
            seed = int(rng.integers(2**31))
            layers += [Dense(width, h, init=init, seed=seed, dtype="float64"), ACTIVATIONS[self.activation]()]
            width = h
        layers.append(Dense(width, n_out, seed=int(rng.integers(2**31)), dtype="float64"))
        model = Sequential(layers, input_shape=(X.shape[1],))
        opt: Optimiser = (
            Adam(model, lr=self.lr)
            if self.optimiser == "adam"
            else SGD(model, lr=self.lr, momentum=self.momentum)
        )
        stopping = [] if self.n_iter_no_change is None else [EarlyStopping("loss", self.n_iter_no_change)]
        model.fit(
            X,
            y,
            epochs=self.epochs,
            batch_size=min(self.batch_size, len(X)),
            loss=loss,
            optimiser=opt,
            rng=int(rng.integers(2**31)),
            callbacks=stopping,
            verbose=int(self.verbose),
        )
        self.model_ = model
        self.loss_curve_ = list(model.history_["loss"])
        self.n_iter_ = len(self.loss_curve_)

    def _forward(self, X: np.ndarray) -> np.ndarray:
        X = self._validate_predict(X, "model_")
        return self.model_.predict(X)


class MLPClassifier(ClassifierMixin, _MLP):
    """Multilayer perceptron classifier: softmax over ``len(classes_)`` outputs."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> MLPClassifier:
        X, y = self._validate_fit(X, y, numeric_y=False)
        index = self._encode_labels(y)
        self._train(X, index, len(self.classes_), CrossEntropy())
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        z = self._forward(X)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)  # softmax

    def predict_log_proba(self, X: np.ndarray) -> np.ndarray:
        z = self._forward(X)
        z = z - z.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    def predict(self, X: np.ndarray) -> np.ndarray:
        index = self._forward(X).argmax(axis=1)
        return self.classes_[index]


class MLPRegressor(RegressorMixin, _MLP):
    """Multilayer perceptron regressor (mean squared error); y may have several columns."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> MLPRegressor:
        X, y = self._validate_fit(X, y, multi_output=True)
        self._y_ndim = y.ndim
        y2 = y.reshape(len(y), -1).astype(np.float64)
        self._train(X, y2, y2.shape[1], MSE())
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        out = self._forward(X)
        return out[:, 0] if self._y_ndim == 1 else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
