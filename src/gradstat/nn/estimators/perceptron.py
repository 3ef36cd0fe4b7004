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
        scores = self.decision_function(X)
        index = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[index]

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class Perceptron(_PerceptronBase):
    """Binary perceptron; the two classes map to y = −1 (first) and +1 (second).

    Attributes: ``coef_`` (w), ``intercept_`` (b), ``mistakes_per_epoch_``,
    ``converged_`` (False, with a ``ConvergenceWarning``, if ``max_epochs`` ran out).
    """

    def fit(self, X: np.ndarray, y: np.ndarray) -> Perceptron:
        X, y_index = self._validate(X, y)
        if len(self.classes_) != 2:
            n = len(self.classes_)
            raise ValueError(
                f"Only binary classification is supported. Perceptron needs "
                f"exactly 2 classes, got {n} class{'es' if n != 1 else ''}: "
                "use MulticlassPerceptron"
            )
        self.coef_ = np.zeros(X.shape[1])
        self.intercept_ = 0.0
        self._run(X, np.where(y_index == 1, 1, -1))
        return self

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def _visit(self, x: np.ndarray, y: int) -> bool:
        if y * (self.intercept_ + x @ self.coef_) > 0:
            return False
        self.coef_ += y * x  # w ← w + y x
        self.intercept_ += y * self._bias_step()  # b ← b + y R  (or y R²)
        return True

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        X = self._validate_predict(X, "coef_")
        return self.intercept_ + X @ self.coef_  # b + w·x


class MulticlassPerceptron(_PerceptronBase):
    """One weight vector per class; predict argmax_k (b_k + w_k·x). On a mistake
    add x to the true class and subtract it from the predicted one (biases ± R)."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> MulticlassPerceptron:
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
        index = self._scores(X).argmax(axis=1)
        return self.classes_[index]

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Scores b_k + w_k·x, (n, K); for two classes the difference s_1 − s_0, (n,)."""
        scores = self._scores(X)
        return scores[:, 1] - scores[:, 0] if scores.shape[1] == 2 else scores

    def _scores(self, X: np.ndarray) -> np.ndarray:
        X = self._validate_predict(X, "coef_")
        return self.intercept_ + X @ self.coef_.T
