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
    """L2-penalised logistic regression, binary or multinomial, fitted by Newton's method.

    It minimises, with sample weights sᵢ and linear predictors ηᵢ = b + W xᵢ (the intercept b
    not penalised),

    * two classes: C Σ sᵢ [log(1 + e^ηᵢ) − yᵢ ηᵢ] + ½ ‖w‖² (class 1 against class 0);
    * K > 2 classes: C Σ sᵢ [log Σₖ e^ηᵢₖ − ηᵢ,yᵢ] + ½ Σₖ ‖wₖ‖² (softmax).

    The parameters and scaling are scikit-learn's ``LogisticRegression(penalty="l2")``; with
    ``C=np.inf`` the binary fit is the binomial GLM's maximum-likelihood estimate,
    ``glm("y ~ x", family="binomial")`` (R's ``glm(family=binomial)``).

    Parameters
    ----------
    C : float, default 1.0
        Inverse penalty strength (> 0); ``np.inf`` fits without a penalty.
    fit_intercept : bool, default True
        Add an unpenalised intercept.
    tol : float, default 1e-12
        Stop after a Newton step whose decrement ½ g'H⁻¹g is below ``tol`` times
        (1 + abs(objective)) (the error left is then of order the square of that step).
    max_iter : int, default 100
        Largest number of Newton steps.

    Attributes
    ----------
    classes_ : numpy.ndarray
        The class labels, sorted.
    coef_ : numpy.ndarray of shape (1, n_features) or (K, n_features)
        w (two classes: the log-odds slopes of ``classes_[1]``), else one row per class.
    intercept_ : numpy.ndarray of shape (1,) or (K,)
        b (zeros without an intercept).
    n_iter_ : numpy.ndarray of shape (1,)
        Newton steps taken.
    converged_ : bool
        Whether the decrement fell below ``tol`` within ``max_iter`` steps.
    objective_ : float
        The objective at the estimate.
    n_features_in_ : int
        Number of columns of X.
    feature_names_in_ : numpy.ndarray
        The column names, when X was a DataFrame.

    See Also
    --------
    glm : the binomial GLM with its inference (standard errors, deviance, tests).
    gradstat.nn.MLPClassifier : a softmax network with hidden layers.

    Examples
    --------
    >>> import numpy as np
    >>> from gradstat import LogisticRegression, datasets
    >>> cars = datasets.load("mtcars")
    >>> X, y = cars[["wt"]], cars["am"]
    >>> mle = LogisticRegression(C=np.inf).fit(X, y)        # = glm("am ~ wt", family="binomial")
    >>> mle.intercept_.round(4).tolist(), mle.coef_.round(4).tolist()
    ([12.0404], [[-4.024]])
    >>> LogisticRegression(C=1.0).fit(X, y).coef_.round(4).tolist()   # shrunk towards 0
    [[-1.9898]]
    >>> mle.predict_proba(X.iloc[:2]).round(4).tolist()
    [[0.1828, 0.8172], [0.3843, 0.6157]]
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
        """Minimise the penalised negative log-likelihood by Newton's method with backtracking.

        The gradient C Z'(S (P − Y)) + penalty and the Hessian are exact, so the steps converge
        quadratically; for softmax the minimum-norm step keeps Σₖ bₖ = 0.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The predictors.
        y : array-like of shape (n_samples,)
            Class labels (at least two classes).
        sample_weight : array-like of shape (n_samples,), optional
            sᵢ ≥ 0 (not all zero); default 1.

        Returns
        -------
        LogisticRegression
            self, fitted.

        Raises
        ------
        ValueError
            For ``C`` ≤ 0, ``tol`` ≤ 0 or ``max_iter`` < 1, X or y with NaN, infinite or
            mismatched rows, a single class, or negative or all-zero weights.

        Warns
        -----
        ConvergenceWarning
            When ``max_iter`` steps did not converge (without a penalty: separable classes,
            whose coefficients diverge).
        """
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
        """η = b + Xw: (n,) for two classes (the log-odds of ``classes_[1]``), (n, K) otherwise.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with the columns seen in ``fit``.

        Returns
        -------
        numpy.ndarray of shape (n_samples,) or (n_samples, K)
            The linear predictors.
        """
        Xa = self._validate_predict(X, "coef_")
        scores = Xa @ self.coef_.T + self.intercept_
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict_proba(self, X: Any) -> np.ndarray:
        """P(class k | x): sigmoid of the log-odds (two classes) or softmax of η; columns as ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with the columns seen in ``fit``.

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_classes)
            Probabilities; each row sums to 1.
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p1 = expit(scores)
            return np.column_stack([1.0 - p1, p1])
        return softmax(scores, axis=1)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """log P(class k | x), computed without forming the probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with the columns seen in ``fit``.

        Returns
        -------
        numpy.ndarray of shape (n_samples, n_classes)
            log σ(∓η) for two classes, η − log Σₖ e^ηₖ otherwise.
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([log_expit(-scores), log_expit(scores)])
        return scores - logsumexp(scores, axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class: η > 0 for two classes, argmaxₖ ηₖ otherwise.

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
