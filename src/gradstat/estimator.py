"""The scikit-learn estimator protocol without importing scikit-learn at run time.

``get_params``/``set_params`` read the constructor's signature (hyper-parameters
are constructor arguments, stored unchanged); ``__sklearn_tags__`` is only ever
called by scikit-learn itself, so it may import it.
"""

from __future__ import annotations

import copy
import functools
import inspect
import sys
from typing import Any

import numpy as np

from gradstat.validation import check_feature_names, check_n_features, check_X, check_y, feature_names


class NotFittedError(ValueError, AttributeError):
    """Raised when a method needs a fitted estimator (as scikit-learn's NotFittedError)."""


@functools.cache
def _with_sklearn_error(sklearn_error: type[Exception]) -> type[Exception]:
    return type("NotFittedError", (NotFittedError, sklearn_error), {})


def _not_fitted_error() -> type[Exception]:
    """Our NotFittedError, also an instance of scikit-learn's when scikit-learn is loaded
    (code that catches scikit-learn's error must have imported it)."""
    sklearn_exceptions = sys.modules.get("sklearn.exceptions")
    if sklearn_exceptions is None:
        return NotFittedError
    return _with_sklearn_error(sklearn_exceptions.NotFittedError)


class Estimator:
    """Base of gradstat's estimators: parameters, repr, tags, validation at the boundary."""

    n_features_in_: int

    _estimator_type: str = ""

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values() if p.name != "self" and p.kind != p.VAR_KEYWORD]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Estimator:
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"invalid parameter {name!r} for {type(self).__name__}; valid: {valid}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _validate_fit(
        self, X: Any, y: Any, *, min_samples: int = 1, numeric_y: bool = True, multi_output: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Check X and y once, at the boundary; remember ``n_features_in_`` and ``feature_names_in_``."""
        names = feature_names(X)
        Xa = check_X(X, min_samples=min_samples)
        ya = check_y(y, Xa.shape[0], numeric=numeric_y, multi_output=multi_output)
        self.n_features_in_ = Xa.shape[1]
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return Xa, ya

    def _validate_predict(self, X: Any, fitted_attribute: str) -> np.ndarray:
        """X for a fitted estimator: same features, same names as in fit."""
        self._check_fitted(fitted_attribute)
        check_feature_names(self, X)
        Xa = check_X(X)
        check_n_features(Xa, self.n_features_in_, type(self).__name__)
        return Xa

    def _check_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            raise _not_fitted_error()(
                f"This {type(self).__name__} instance is not fitted yet; call 'fit' first."
            )

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import ClassifierTags, RegressorTags, Tags, TargetTags

        tags = Tags(estimator_type=self._estimator_type or None, target_tags=TargetTags(required=True))
        if self._estimator_type == "regressor":
            tags.regressor_tags = RegressorTags()
        elif self._estimator_type == "classifier":
            tags.classifier_tags = ClassifierTags()
        return tags


def clone(estimator: Any) -> Any:
    """A new unfitted estimator with the same hyper-parameters (nested estimators cloned too)."""
    params = {
        name: clone(value) if isinstance(value, Estimator) else copy.deepcopy(value)
        for name, value in estimator.get_params().items()
    }
    return type(estimator)(**params)


class RegressorMixin:
    """``score`` is R² of the predictions, as scikit-learn's regressors."""

    _estimator_type = "regressor"

    def score(self, X: Any, y: Any) -> float:
        y_true = np.asarray(y, dtype=float)
        resid = y_true - self.predict(X)  # type: ignore[attr-defined]
        centred = y_true - y_true.mean()
        return float(1.0 - (resid @ resid) / (centred @ centred))


class ClassifierMixin:
    """``score`` is accuracy; ``_encode_labels`` learns ``classes_`` and checks the targets."""

    _estimator_type = "classifier"
    classes_: np.ndarray

    def score(self, X: Any, y: Any) -> float:
        return float(np.mean(self.predict(X) == np.asarray(y)))  # type: ignore[attr-defined]

    def _encode_labels(self, y: np.ndarray) -> np.ndarray:
        """Set ``classes_`` (sorted) and return y as indices into it; continuous targets are refused."""
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or inf values (non-finite)")
        if y.dtype.kind == "f" and np.any(y != np.round(y)):
            raise ValueError(
                "Unknown label type: continuous. A classifier needs discrete class labels "
                "(integers or strings); use a regressor for a continuous target."
            )
        if y.dtype.kind == "O" and len({type(v) for v in y}) > 1:  # e.g. 1 and "a" together
            raise ValueError(
                "Unknown label type: mixed types in y; labels must all be numbers or all strings"
            )
        self.classes_, indices = np.unique(y, return_inverse=True)
        return indices
