"""The perceptron learning rule, binary and multi-class (scikit-learn classifiers).

Binary, labels y = ±1: predict f(x) = sign(b + w·x); on a mistake
(y (b + w·x) ≤ 0) update w ← w + y x and b ← b + y R with R = max‖x‖ (the
notes' rule; ``bias_update="R2"`` gives the textbook b ← b + y R²). Both are the
perceptron on x augmented with a constant feature (√R, resp. R), so on data
separable with margin γ the number of mistakes is at most (R̃/γ̃)² (Novikoff).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from gradstat.estimator import ClassifierMixin, Estimator
from gradstat.validation import ConvergenceWarning

BIAS_UPDATES = ("R", "R2")


class _PerceptronBase(ClassifierMixin, Estimator):
    def __init__(
        self,
        max_epochs: int = 100,
        bias_update: str = "R",
        shuffle: bool = False,
        random_state: int | None = None,
    ) -> None:
        self.max_epochs = max_epochs
        self.bias_update = bias_update
        self.shuffle = shuffle
        self.random_state = random_state

    def _validate(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.bias_update not in BIAS_UPDATES:
            raise ValueError(f"bias_update must be one of {BIAS_UPDATES}, got {self.bias_update!r}")
        if (
            isinstance(self.max_epochs, bool)
            or not isinstance(self.max_epochs, int | np.integer)
            or self.max_epochs < 1
        ):
            raise ValueError(f"max_epochs must be a positive integer, got {self.max_epochs!r}")
        X, y = self._validate_fit(X, y, numeric_y=False)
        y_index = self._encode_labels(y)
        self.radius_ = float(np.max(np.linalg.norm(X, axis=1))) if len(X) else 0.0  # R = max‖x‖
        return X, y_index

    def _bias_step(self) -> float:
        return self.radius_ if self.bias_update == "R" else self.radius_**2

    def _run(self, X: np.ndarray, y: np.ndarray) -> None:
        """Epochs of the rule until one makes no mistake, or ``max_epochs``."""
        rng = np.random.default_rng(self.random_state)
        self.mistakes_per_epoch_: list[int] = []
        self.converged_ = False
        for _ in range(self.max_epochs):
            order = rng.permutation(len(X)) if self.shuffle else range(len(X))
            mistakes = sum(self._visit(X[i], y[i]) for i in order)
            self.mistakes_per_epoch_.append(int(mistakes))
            if mistakes == 0:
                self.converged_ = True
                break
        self.n_epochs_ = len(self.mistakes_per_epoch_)
        self.n_mistakes_ = int(sum(self.mistakes_per_epoch_))
        if not self.converged_:
            warnings.warn(
                f"{type(self).__name__} made mistakes in every one of {self.max_epochs} epochs: "
                "the data were not separated (they may not be linearly separable)",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _visit(self, x: np.ndarray, y: int) -> bool:
        raise NotImplementedError

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The predicted class: the sign of the score (two classes) or its largest entry.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with the columns seen in ``fit``.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        scores = self.decision_function(X)
        index = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[index]

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class Perceptron(_PerceptronBase):
    """Binary perceptron; the two classes map to y = −1 (first) and +1 (second).

    It predicts f(x) = sign(b + w·x). Rows are visited in turn; on a mistake,
    y (b + w·x) ≤ 0, it moves the boundary towards the row: w ← w + y x and b ← b + y R with
    R = max‖x‖ (the notes' rule; ``bias_update="R2"`` gives b ← b + y R²). An epoch without a
    mistake ends training ("repeat until f(x) = y"); on data separable with margin γ the
    number of mistakes is at most (R̃/γ̃)² for the augmented data (Novikoff), and on data that
    are not separable ``max_epochs`` ends it with a warning. scikit-learn's ``Perceptron``
    uses the step b ← b + y instead.

    Parameters
    ----------
    max_epochs : int, default 100
        Most passes over the data; the rule stops earlier after an epoch without a mistake.
    bias_update : {"R", "R2"}, default "R"
        The notes' bias step b ← b ± R with R = max‖x‖, or the textbook b ← b ± R². Both are
        the perceptron on x with a constant feature appended (√R, resp. R), so both converge
        on separable data.
    shuffle : bool, default False
        Visit the rows in a new random order each epoch (else in the order given).
    random_state : int or None, default None
        Seeds the shuffling.

    Attributes
    ----------
    classes_ : numpy.ndarray
        The two labels; ``classes_[1]`` is y = +1.
    coef_ : numpy.ndarray of shape (n_features,)
        w.
    intercept_ : numpy.ndarray of shape (1,)
        b, as scikit-learn's binary ``Perceptron`` holds it.
    radius_ : float
        R = max‖xᵢ‖ over the training rows.
    mistakes_per_epoch_ : list of int
        Updates made in each epoch.
    n_epochs_ : int
        Epochs run.
    n_mistakes_ : int
        Updates made in all.
    converged_ : bool
        Whether an epoch made no mistake (False, with a ``ConvergenceWarning``, when
        ``max_epochs`` ran out: the data may not be linearly separable).
    n_features_in_ : int
        Number of columns of X.

    See Also
    --------
    MulticlassPerceptron : one weight vector per class.
    gradstat.LogisticRegression : a probabilistic linear classifier.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import nn
    >>> X = np.array([[2.0, 1.0], [1.0, 3.0], [-1.0, -2.0], [-2.0, -1.0]])
    >>> y = np.array([1, 1, 0, 0])
    >>> p = nn.Perceptron().fit(X, y)       # one mistake on row 0: w = x₀, b = R = √10
    >>> p.coef_.tolist(), p.intercept_.round(4).tolist(), p.mistakes_per_epoch_
    ([2.0, 1.0], [3.1623], [1, 0])
    >>> p.predict(X).tolist()
    [1, 1, 0, 0]
    >>> nn.Perceptron(bias_update="R2").fit(X, y).mistakes_per_epoch_
    [2, 0]
    """

    def fit(self, X: np.ndarray, y: np.ndarray) -> Perceptron:
        """Run the perceptron rule until an epoch makes no mistake, or ``max_epochs``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The inputs.
        y : array-like of shape (n_samples,)
            Class labels (exactly two).

        Returns
        -------
        Perceptron
            self, fitted.

        Raises
        ------
        ValueError
            For X or y with NaN, infinite or mismatched rows, other than two classes, an unknown
            ``bias_update`` or ``max_epochs`` < 1.

        Warns
        -----
        ConvergenceWarning
            When every one of ``max_epochs`` epochs made a mistake.
        """
        X, y_index = self._validate(X, y)
        if len(self.classes_) != 2:
            n = len(self.classes_)
            raise ValueError(
                f"Only binary classification is supported. Perceptron needs "
                f"exactly 2 classes, got {n} class{'es' if n != 1 else ''}: "
                "use MulticlassPerceptron"
            )
        self.coef_ = np.zeros(X.shape[1])
        self.intercept_ = np.zeros(1)
        self._run(X, np.where(y_index == 1, 1, -1))
        return self

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def _visit(self, x: np.ndarray, y: int) -> bool:
        if y * (self.intercept_[0] + x @ self.coef_) > 0:
            return False
        self.coef_ += y * x  # w ← w + y x
        self.intercept_[0] += y * self._bias_step()  # b ← b + y R  (or y R²)
        return True

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """The score b + w·x; positive predicts ``classes_[1]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with the columns seen in ``fit``.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
            b + w·xᵢ for each row.
        """
        X = self._validate_predict(X, "coef_")
        return self.intercept_[0] + X @ self.coef_  # b + w·x


class MulticlassPerceptron(_PerceptronBase):
    """One weight vector per class; predict argmax_k (b_k + w_k·x). On a mistake
    add x to the true class and subtract it from the predicted one (biases ± R).

    The notes' multi-class perceptron: with true class y and predicted class ŷ ≠ y,
    w_y ← w_y + x, w_ŷ ← w_ŷ − x, b_y ← b_y + R and b_ŷ ← b_ŷ − R (R = max‖x‖, or R² with
    ``bias_update="R2"``). Training stops after an epoch without a mistake.

    Parameters
    ----------
    max_epochs : int, default 100
        Most passes over the data; the rule stops earlier after an epoch without a mistake.
    bias_update : {"R", "R2"}, default "R"
        The notes' bias step b ← b ± R with R = max‖x‖, or the textbook b ← b ± R². Both are
        the perceptron on x with a constant feature appended (√R, resp. R), so both converge
        on separable data.
    shuffle : bool, default False
        Visit the rows in a new random order each epoch (else in the order given).
    random_state : int or None, default None
        Seeds the shuffling.

    Attributes
    ----------
    classes_ : numpy.ndarray
        The labels, sorted; row k of ``coef_`` is ``classes_[k]``.
    coef_ : numpy.ndarray of shape (n_classes, n_features)
        w_k, one row per class.
    intercept_ : numpy.ndarray of shape (n_classes,)
        b_k.
    radius_ : float
        R = max‖xᵢ‖ over the training rows.
    mistakes_per_epoch_ : list of int
        Updates made in each epoch.
    n_epochs_ : int
        Epochs run.
    n_mistakes_ : int
        Updates made in all.
    converged_ : bool
        Whether an epoch made no mistake (False, with a ``ConvergenceWarning``, when
        ``max_epochs`` ran out: the data may not be linearly separable).
    n_features_in_ : int
        Number of columns of X.

    See Also
    --------
    Perceptron : two classes, one weight vector.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import nn
    >>> X = np.array([[2.0, 0.0], [0.0, 2.0], [-2.0, -2.0], [3.0, 0.5], [0.5, 3.0], [-3.0, -2.5]])
    >>> y = np.array(["a", "b", "c", "a", "b", "c"])
    >>> model = nn.MulticlassPerceptron().fit(X, y)
    >>> model.mistakes_per_epoch_, model.predict(X).tolist()
    ([3, 0], ['a', 'b', 'c', 'a', 'b', 'c'])
    >>> model.coef_.tolist()
    [[5.0, 0.5], [-3.0, 1.5], [-2.0, -2.0]]
    """

    def fit(self, X: np.ndarray, y: np.ndarray) -> MulticlassPerceptron:
        """Run the perceptron rule until an epoch makes no mistake, or ``max_epochs``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The inputs.
        y : array-like of shape (n_samples,)
            Class labels (two or more).

        Returns
        -------
        MulticlassPerceptron
            self, fitted.

        Raises
        ------
        ValueError
            For X or y with NaN, infinite or mismatched rows, a single class, an unknown
            ``bias_update`` or ``max_epochs`` < 1.

        Warns
        -----
        ConvergenceWarning
            When every one of ``max_epochs`` epochs made a mistake.
        """
        X, y_index = self._validate(X, y)
        if len(self.classes_) < 2:
            raise ValueError("MulticlassPerceptron needs at least 2 classes, got 1 class")
        self.coef_ = np.zeros((len(self.classes_), X.shape[1]))
        self.intercept_ = np.zeros(len(self.classes_))
        self._run(X, y_index)
        return self

    def _visit(self, x: np.ndarray, y: int) -> bool:
        guess = int(np.argmax(self.intercept_ + self.coef_ @ x))
        if guess == y:
            return False
        step = self._bias_step()
        self.coef_[y] += x  # w_y ← w_y + x
        self.coef_[guess] -= x  # w_ŷ ← w_ŷ − x
        self.intercept_[y] += step
        self.intercept_[guess] -= step
        return True

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The class with the largest score, argmax_k (b_k + w_k·x).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with the columns seen in ``fit``.

        Returns
        -------
        numpy.ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        index = self._scores(X).argmax(axis=1)
        return self.classes_[index]

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Scores b_k + w_k·x, (n, K); for two classes the difference s_1 − s_0, (n,).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with the columns seen in ``fit``.

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_classes) or (n_samples,)
            The scores (their difference for two classes).
        """
        scores = self._scores(X)
        return scores[:, 1] - scores[:, 0] if scores.shape[1] == 2 else scores

    def _scores(self, X: np.ndarray) -> np.ndarray:
        X = self._validate_predict(X, "coef_")
        return self.intercept_ + X @ self.coef_.T
