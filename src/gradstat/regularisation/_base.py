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
    X: Array, y: Array, fit_intercept: bool, standardize: bool, sample_weight: Array | None = None
) -> tuple[Array, Array, Array, float, Array]:
    """Centre (for an unpenalised intercept) and optionally standardise.

    Returns ``(Xs, yc, x_offset, y_offset, x_scale)`` (``Xs`` may be ``X`` itself) with
    ``Xs = (X − x_offset) / x_scale``; a model ``β_s`` fitted on ``Xs`` maps
    back as ``β = β_s / x_scale``, ``b = y_offset − x_offset'β``.

    With ``sample_weight`` (scikit-learn's semantics) the offsets are the weighted means
    Σwᵢxᵢ/Σwᵢ, the scales the weighted root mean squares, and the rows of ``Xs`` and ``yc``
    come multiplied by √wᵢ, so that ‖yc − Xs β‖² = Σ wᵢ(yᵢ − b − xᵢ'β)².
    """
    p = X.shape[1]
    w = sample_weight
    fit_intercept = check_flag(fit_intercept, "fit_intercept")
    standardize = check_flag(standardize, "standardize")
    if fit_intercept:
        x_offset = np.average(X, axis=0, weights=w)
        y_offset = float(np.average(y, weights=w))
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
        x_scale = np.sqrt(np.average(Xs**2, axis=0, weights=w))
        const = np.flatnonzero((X.max(axis=0) == X.min(axis=0)) if fit_intercept else (x_scale == 0))
        if const.size:
            raise ValueError(
                f"column(s) {const.tolist()} of X are "
                f"{'constant' if fit_intercept else 'all zero'}; they cannot be standardised "
                "(drop them, or pass standardize=False)"
            )
        Xs = Xs / x_scale
    if w is not None:
        root_w = np.sqrt(w)
        Xs = Xs * root_w[:, None]
        yc = yc * root_w
    return Xs, yc, x_offset, y_offset, x_scale
