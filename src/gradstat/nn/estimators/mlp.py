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
    """Multilayer perceptron classifier: softmax over ``len(classes_)`` outputs.

    The network is Dense → activation → … → Dense with one output per class, trained by the
    one :class:`Trainer` (seeded mini-batches) to minimise the mean softmax cross-entropy
    −(1/n) Σᵢ log p̂ᵢ,yᵢ. The parameters follow scikit-learn's ``MLPClassifier``
    (``epochs`` is its ``max_iter``, ``lr`` its ``learning_rate_init``, ``optimiser`` its
    ``solver``); there is no L2 penalty.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (100,)
        Units of each hidden layer.
    activation : {"relu", "tanh", "logistic"}, default "relu"
        The hidden layers' activation (weights He-uniform for relu, Xavier-uniform otherwise).
    optimiser : {"adam", "sgd"}, default "adam"
        Adam, or SGD with ``momentum``.
    lr : float, default 0.001
        The learning rate γ.
    momentum : float, default 0.9
        SGD's momentum (ignored by Adam).
    batch_size : int, default 32
        Samples per mini-batch (at most the number of rows).
    epochs : int, default 200
        Most passes over the data.
    n_iter_no_change : int or None, default 10
        Stop after this many epochs without a lower training loss, keeping the best epoch's
        weights; None trains for every epoch.
    random_state : int or None, default None
        Seeds the initial weights and the shuffling.
    verbose : {0, 1, 2}, default 0
        0 silent, 1 a progress bar, 2 a log line per epoch.

    Attributes
    ----------
    classes_ : numpy.ndarray
        The class labels, sorted; output k is ``classes_[k]``.
    model_ : Sequential
        The trained network, Dense → activation → … → Dense (float64).
    loss_curve_ : list of float
        The training loss of each epoch.
    n_iter_ : int
        Epochs run.
    n_features_in_ : int
        Number of columns of X.
    feature_names_in_ : numpy.ndarray
        The column names, when X was a DataFrame.

    See Also
    --------
    MLPRegressor : the same network for regression.
    gradstat.LogisticRegression : no hidden layer.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import nn
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 2))
    >>> y = np.where(X[:, 0] * X[:, 1] > 0, "same", "diff")    # not linearly separable
    >>> clf = nn.MLPClassifier(hidden_layer_sizes=(16,), lr=0.05, epochs=60, random_state=0).fit(X, y)
    >>> clf.classes_.tolist(), clf.n_iter_, round(clf.score(X, y), 3)
    (['diff', 'same'], 60, 0.988)
    >>> clf.predict_proba(X[:2]).round(3).tolist()
    [[0.987, 0.013], [0.033, 0.967]]
    """

    def fit(self, X: np.ndarray, y: np.ndarray) -> MLPClassifier:
        """Build the network and train it on (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The inputs.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        MLPClassifier
            self, fitted.

        Raises
        ------
        ValueError
            For X or y with NaN, infinite or mismatched rows, an unknown ``activation`` or
            ``optimiser``, or hidden layer sizes below 1.
        TrainingDiverged
            When the loss becomes NaN or infinite (lower ``lr``).
        """
        X, y = self._validate_fit(X, y, numeric_y=False)
        index = self._encode_labels(y)
        self._train(X, index, len(self.classes_), CrossEntropy())
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """P(class k | x) = softmax(z)ₖ = e^zₖ / Σⱼ e^zⱼ of the network's outputs z.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with the columns seen in ``fit``.

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_classes)
            Probabilities, columns as ``classes_``.
        """
        z = self._forward(X)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)  # softmax

    def predict_log_proba(self, X: np.ndarray) -> np.ndarray:
        """log P(class k | x) = zₖ − log Σⱼ e^zⱼ, computed stably.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with the columns seen in ``fit``.

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns as ``classes_``.
        """
        z = self._forward(X)
        z = z - z.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The class with the largest output, argmaxₖ zₖ.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with the columns seen in ``fit``.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        index = self._forward(X).argmax(axis=1)
        return self.classes_[index]


class MLPRegressor(RegressorMixin, _MLP):
    """Multilayer perceptron regressor (mean squared error); y may have several columns.

    The network is Dense → activation → … → Dense with one linear output per column of y,
    trained by the one :class:`Trainer` to minimise the mean squared error over every
    entry of y, Σᵢⱼ (yᵢⱼ − ŷᵢⱼ)² / (n · outputs). The parameters follow scikit-learn's
    ``MLPRegressor`` (``epochs`` is its ``max_iter``, ``lr`` its ``learning_rate_init``);
    there is no L2 penalty.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (100,)
        Units of each hidden layer.
    activation : {"relu", "tanh", "logistic"}, default "relu"
        The hidden layers' activation (weights He-uniform for relu, Xavier-uniform otherwise).
    optimiser : {"adam", "sgd"}, default "adam"
        Adam, or SGD with ``momentum``.
    lr : float, default 0.001
        The learning rate γ.
    momentum : float, default 0.9
        SGD's momentum (ignored by Adam).
    batch_size : int, default 32
        Samples per mini-batch (at most the number of rows).
    epochs : int, default 200
        Most passes over the data.
    n_iter_no_change : int or None, default 10
        Stop after this many epochs without a lower training loss, keeping the best epoch's
        weights; None trains for every epoch.
    random_state : int or None, default None
        Seeds the initial weights and the shuffling.
    verbose : {0, 1, 2}, default 0
        0 silent, 1 a progress bar, 2 a log line per epoch.

    Attributes
    ----------
    model_ : Sequential
        The trained network, Dense → activation → … → Dense (float64).
    loss_curve_ : list of float
        The training loss of each epoch.
    n_iter_ : int
        Epochs run.
    n_features_in_ : int
        Number of columns of X.
    feature_names_in_ : numpy.ndarray
        The column names, when X was a DataFrame.

    See Also
    --------
    MLPClassifier : the same network for class labels.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import nn
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, size=(80, 1))
    >>> reg = nn.MLPRegressor(hidden_layer_sizes=(16,), activation="tanh", lr=0.02, epochs=100,
    ...                       random_state=0).fit(X, np.sin(X[:, 0]))
    >>> reg.n_iter_, round(reg.score(X, np.sin(X[:, 0])), 3)
    (100, 0.999)
    >>> reg.predict(np.array([[0.5], [1.0]])).round(3).tolist()      # sin 0.5 = 0.479, sin 1 = 0.841
    [0.504, 0.826]
    """

    def fit(self, X: np.ndarray, y: np.ndarray) -> MLPRegressor:
        """Build the network and train it on (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets.

        Returns
        -------
        MLPRegressor
            self, fitted.

        Raises
        ------
        ValueError
            For X or y with NaN, infinite or mismatched rows, an unknown ``activation`` or
            ``optimiser``, or hidden layer sizes below 1.
        TrainingDiverged
            When the loss becomes NaN or infinite (lower ``lr``).
        """
        X, y = self._validate_fit(X, y, multi_output=True)
        self._y_ndim = y.ndim
        y2 = y.reshape(len(y), -1).astype(np.float64)
        self._train(X, y2, y2.shape[1], MSE())
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The network's outputs ŷ.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with the columns seen in ``fit``.

        Returns
        -------
        numpy.ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Shaped as the y given to ``fit``.
        """
        out = self._forward(X)
        return out[:, 0] if self._y_ndim == 1 else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
