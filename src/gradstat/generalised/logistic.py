"""Logistic regression as a scikit-learn classifier: the binomial (two classes) and multinomial
(softmax, K classes) GLMs with an L2 penalty, fitted by Newton's method.

It lives beside :func:`gradstat.glm` because it is the same model: with ``C=np.inf`` the binary
fit is ``glm("y ~ x", family="binomial")``. Objective (scikit-learn's scaling), with sample
weights sᵢ, linear predictors ηᵢ = b + W xᵢ and the intercept b not penalised:

* two classes: C Σ sᵢ [log(1 + e^ηᵢ) − yᵢ ηᵢ] + ½ ‖w‖²   (one vector w, class 1 against class 0);
* K > 2 classes: C Σ sᵢ [log Σₖ e^ηᵢₖ − ηᵢ,yᵢ] + ½ Σₖ ‖wₖ‖²   (a vector per class).

The softmax parameters are identified only up to a vector added to every class; the penalty
fixes the slopes, and the minimum-norm Newton step keeps Σₖ bₖ = 0 (and Σₖ wₖ = 0 without a
penalty), which is where scikit-learn's L-BFGS, started from zero, ends as well. Gradient
g = C Z'(S (P − Y)) + penalty and Hessian C Σᵢ sᵢ (diag pᵢ − pᵢpᵢ') ⊗ zᵢzᵢ' + penalty are exact, so
Newton's steps (with backtracking) converge quadratically.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Self

import numpy as np
import scipy.linalg
from scipy.special import expit, log_expit, logsumexp, softmax

from gradstat.estimator import ClassifierMixin, Estimator
from gradstat.validation import ConvergenceWarning, check_y

_ARMIJO = 1e-4


def _objective(
    theta: np.ndarray, Z: np.ndarray, Y: np.ndarray, s: np.ndarray, c: float, mask: np.ndarray, binary: bool
) -> tuple[float, np.ndarray, np.ndarray]:
    """Objective, gradient and probabilities at ``theta`` (q,) (binary) or (K, q)."""
    if binary:
        eta = Z @ theta
        loss = float(np.sum(s * (-log_expit(eta) + (1.0 - Y) * eta)))  # log(1 + e^η) − yη
        prob = expit(eta)
        grad = c * (Z.T @ (s * (prob - Y)))
    else:
        eta = Z @ theta.T
        loss = float(np.sum(s * (logsumexp(eta, axis=1) - np.sum(eta * Y, axis=1))))
        prob = softmax(eta, axis=1)
        grad = c * ((prob - Y) * s[:, None]).T @ Z
    penalty = 0.5 * float(np.sum((theta * mask) ** 2))
    return c * loss + penalty, grad + theta * mask, prob


def _hessian(
    Z: np.ndarray, prob: np.ndarray, s: np.ndarray, c: float, mask: np.ndarray, binary: bool
) -> np.ndarray:
    if binary:
        h = c * (Z.T @ (Z * (s * prob * (1.0 - prob))[:, None]))
        return h + np.diag(mask.astype(np.float64))
    k, q = prob.shape[1], Z.shape[1]
    h = np.empty((k, q, k, q))
    for a in range(k):
        for b in range(a, k):
            weight = s * prob[:, a] * ((a == b) - prob[:, b])  # pₐ(δₐᵦ − pᵦ)
            block = c * (Z.T @ (Z * weight[:, None]))
            h[a, :, b, :] = block
            h[b, :, a, :] = block.T
    h = h.reshape(k * q, k * q)
    return h + np.diag(mask.ravel().astype(np.float64))


def _newton_step(h: np.ndarray, g: np.ndarray, binary: bool) -> np.ndarray:
    """−H⁻¹g: by Cholesky for two classes; for softmax, whose H is singular along the vector added
    to every class, the minimum-norm solution (eigenvalues below 1e-12 of the largest dropped)."""
    if binary:
        try:
            return -scipy.linalg.cho_solve(scipy.linalg.cho_factor(h), g)
        except np.linalg.LinAlgError:
            pass
    values, vectors = np.linalg.eigh(h)
    keep = values > 1e-12 * values[-1]
    return -(vectors[:, keep] @ ((vectors[:, keep].T @ g) / values[keep]))


class LogisticRegression(ClassifierMixin, Estimator):
    """L2-penalised logistic regression (scikit-learn's parameters; the module docstring has the objective).

    Parameters
    ----------
    C : inverse penalty strength (> 0); ``np.inf`` fits without a penalty (the GLM's MLE).
    fit_intercept : add an unpenalised intercept.
    tol : stop after a Newton step whose decrement ½ g'H⁻¹g is below ``tol`` times (1 + |objective|)
        (the error left is then of order the square of that step).
    max_iter : largest number of Newton steps.
    """

    def __init__(
        self, *, C: float = 1.0, fit_intercept: bool = True, tol: float = 1e-12, max_iter: int = 100
    ) -> None:
        self.C = C
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter

    def _check_params(self) -> float:
        c = self.C
        if isinstance(c, bool) or not isinstance(c, int | float | np.floating | np.integer) or not c > 0:
            raise ValueError(f"C must be a positive number (np.inf for no penalty), got {c!r}")
        if not (isinstance(self.max_iter, int | np.integer) and self.max_iter >= 1):
            raise ValueError(f"max_iter must be a positive integer, got {self.max_iter!r}")
        if not (isinstance(self.tol, int | float) and self.tol > 0):
            raise ValueError(f"tol must be positive, got {self.tol!r}")
        return float(c)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:
        c = self._check_params()
        Xa, ya = self._validate_fit(X, y, numeric_y=False)
        labels = self._encode_labels(ya)
        k = self.classes_.shape[0]
        if k < 2:
            raise ValueError(
                "LogisticRegression needs samples of at least 2 classes, but the data contain only "
                f"one class: {self.classes_[0]!r}"
            )
        n = Xa.shape[0]
        s = np.ones(n) if sample_weight is None else check_y(sample_weight, n)
        if np.any(s < 0):
            raise ValueError("sample_weight must be non-negative")
        if not np.any(s > 0):
            raise ValueError("sample_weight are all zero: there is nothing to fit")
        Z = np.column_stack([np.ones(n), Xa]) if self.fit_intercept else Xa
        q = Z.shape[1]
        binary = k == 2
        # the penalty's scale: scikit-learn's C Σ loss + ½‖w‖², i.e. loss + ‖w‖²/(2C); C = ∞: no penalty
        c_loss, penalised = (1.0, False) if math.isinf(c) else (c, True)
        mask = np.zeros(q if binary else (k, q), dtype=bool)
        if penalised:
            mask[..., int(self.fit_intercept) :] = True
        Y = labels.astype(np.float64) if binary else np.eye(k)[labels]
        theta = np.zeros(q if binary else (k, q))
        self.converged_ = False
        iterations = 0
        f, g, prob = _objective(theta, Z, Y, s, c_loss, mask, binary)
        for _ in range(self.max_iter):
            iterations += 1
            h = _hessian(Z, prob, s, c_loss, mask, binary)
            step = _newton_step(h, g.ravel(), binary).reshape(theta.shape)
            decrement = -float(g.ravel() @ step.ravel())  # g'H⁻¹g
            t = 1.0
            while True:
                candidate = theta + t * step
                f_new, g_new, prob_new = _objective(candidate, Z, Y, s, c_loss, mask, binary)
                if f_new <= f - _ARMIJO * t * decrement or t < 1e-10:
                    break
                t /= 2.0
            if f_new <= f:
                theta, f, g, prob = candidate, f_new, g_new, prob_new
            if decrement / 2.0 <= self.tol * (1.0 + abs(f)):
                self.converged_ = True  # the step just taken was a full Newton step near the optimum
                break
        if not self.converged_:
            warnings.warn(
                f"LogisticRegression: Newton's method did not converge in {self.max_iter} iterations "
                f"(last decrement {decrement:.3g}); without a penalty (C=inf) this happens when the "
                "classes are separable, and the coefficients diverge",
                ConvergenceWarning,
                stacklevel=2,
            )
        coef = np.atleast_2d(theta)
        if self.fit_intercept:
            self.intercept_ = coef[:, 0].copy()
            self.coef_ = coef[:, 1:].copy()
        else:
            self.intercept_ = np.zeros(coef.shape[0])
            self.coef_ = coef.copy()
        self.n_iter_ = np.array([iterations])
        self.objective_ = f
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """η = b + Xw: (n,) for two classes (the log-odds of ``classes_[1]``), (n, K) otherwise."""
        Xa = self._validate_predict(X, "coef_")
        scores = Xa @ self.coef_.T + self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict_proba(self, X: Any) -> np.ndarray:
        """P(class k | x): sigmoid of the log-odds (two classes) or softmax of η; columns as ``classes_``."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p1 = expit(scores)
            return np.column_stack([1.0 - p1, p1])
        return softmax(scores, axis=1)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """log P(class k | x), computed without forming the probabilities."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([log_expit(-scores), log_expit(scores)])
        return scores - logsumexp(scores, axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        scores = self.decision_function(X)
        index = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[index]
