"""Shared estimator plumbing: parameters, input checks, centring, prediction.

The estimators follow scikit-learn's protocol (``Estimator`` gives
``get_params``/``set_params``, ``RegressorMixin`` the R² ``score``) without
importing it; the input checks name what is wrong.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradstat.estimator import Estimator, RegressorMixin
from gradstat.validation import Array, check_flag


class LinearRegressor(RegressorMixin, Estimator):
    """Base for penalised linear models ``f(x) = x'β + b``."""

    coef_: Array
    intercept_: float
    n_features_in_: int

    # -- output ------------------------------------------------------------
    def predict(self, X: Any) -> Array:
        """Fitted values ``Xβ̂ + b̂``."""
        Xa = self._validate_predict(X, "coef_")
        return Xa @ self.coef_ + self.intercept_


def center_scale(
    X: Array, y: Array, fit_intercept: bool, standardize: bool
) -> tuple[Array, Array, Array, float, Array]:
    """Centre (for an unpenalised intercept) and optionally standardise.

    Returns ``(Xs, yc, x_offset, y_offset, x_scale)`` (``Xs`` may be ``X`` itself) with
    ``Xs = (X − x_offset) / x_scale``; a model ``β_s`` fitted on ``Xs`` maps
    back as ``β = β_s / x_scale``, ``b = y_offset − x_offset'β``.
    """
    p = X.shape[1]
    fit_intercept = check_flag(fit_intercept, "fit_intercept")
    standardize = check_flag(standardize, "standardize")
    if fit_intercept:
        x_offset = X.mean(axis=0)
        y_offset = float(y.mean())
        Xs = X - x_offset
        yc = y - y_offset
    else:
        x_offset = np.zeros(p)
        y_offset = 0.0
        Xs = X
        yc = y
    x_scale = np.ones(p)
    if standardize:
        if X.shape[0] < 2:
            raise ValueError(f"standardising needs at least 2 samples; got n_samples={X.shape[0]}")
        # root mean square of the (centred) columns: the population SD with an
        # intercept, the uncentred RMS without one (glmnet's convention)
        x_scale = np.sqrt(np.mean(Xs**2, axis=0))
        const = np.flatnonzero((X.max(axis=0) == X.min(axis=0)) if fit_intercept else (x_scale == 0))
        if const.size:
            raise ValueError(
                f"column(s) {const.tolist()} of X are "
                f"{'constant' if fit_intercept else 'all zero'}; they cannot be standardised "
                "(drop them, or pass standardize=False)"
            )
        Xs = Xs / x_scale
    return Xs, yc, x_offset, y_offset, x_scale
