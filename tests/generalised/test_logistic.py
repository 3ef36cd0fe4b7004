"""LogisticRegression against scikit-learn's (L-BFGS, tight tolerance) and against the binomial GLM."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression
from sklearn.metrics import log_loss
from sklearn.utils.estimator_checks import parametrize_with_checks

import gradstat
from gradstat import LogisticRegression
from gradstat.validation import ConvergenceWarning


@parametrize_with_checks(
    [
        LogisticRegression(),
        LogisticRegression(C=0.1, fit_intercept=False),
        LogisticRegression(C=1e4, max_iter=30),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _objective(model, X, y, C):
    """scikit-learn's objective C Σ log-loss + ½‖w‖² (log-loss alone for C = ∞), by its log_loss."""
    loss = log_loss(y, model.predict_proba(X), normalize=False)
    return loss if np.isinf(C) else C * loss + 0.5 * np.sum(model.coef_**2)


def _reference(**kwargs):
    return SklearnLogisticRegression(tol=1e-13, max_iter=100_000, **kwargs)


@pytest.mark.parametrize("n_classes", [2, 3, 4])
@pytest.mark.parametrize("C", [0.05, 1.0, np.inf])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_matches_sklearn(n_classes, C, fit_intercept):
    X, y = make_classification(
        400, 5, n_informative=4, n_redundant=0, n_classes=n_classes, class_sep=0.6, random_state=n_classes
    )
    X[:, 0] += 2.0  # an off-centre column
    ours = LogisticRegression(C=C, fit_intercept=fit_intercept).fit(X, y)
    ref = _reference(C=C, fit_intercept=fit_intercept).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6, rtol=0)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6, rtol=0)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    # scikit-learn's L-BFGS stops with a gradient of ~1e-6; Newton's optimum is at least as good
    assert _objective(ours, X, y, C) <= _objective(ref, X, y, C) + 1e-12 * abs(_objective(ref, X, y, C))
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(ours.predict_log_proba(X), ref.predict_log_proba(X), rtol=1e-6, atol=1e-6)
    assert ours.coef_.shape == ref.coef_.shape and ours.intercept_.shape == ref.intercept_.shape


def test_sample_weight_and_string_labels_match_sklearn():
    X, y = make_classification(300, 4, n_informative=3, n_redundant=0, n_classes=3, random_state=5)
    labels = np.array(["cat", "dog", "emu"])[y]
    w = np.random.default_rng(0).uniform(0.2, 3.0, 300)
    ours = LogisticRegression(C=0.3).fit(X, labels, sample_weight=w)
    ref = _reference(C=0.3).fit(X, labels, sample_weight=w)
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)


def test_unpenalised_binary_fit_is_the_binomial_glm():
    X, y = make_classification(250, 3, n_informative=3, n_redundant=0, class_sep=0.5, random_state=1)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(y=y)
    fit = gradstat.glm("y ~ a + b + c", frame, family="binomial")
    clf = LogisticRegression(C=np.inf).fit(frame[["a", "b", "c"]], y)
    np.testing.assert_allclose(clf.intercept_[0], fit.coef["Intercept"], rtol=1e-9)
    np.testing.assert_allclose(clf.coef_[0], fit.coef[["a", "b", "c"]], rtol=1e-9)


def test_separable_classes_without_penalty_warn():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    with pytest.warns(ConvergenceWarning, match="separable"):
        LogisticRegression(C=np.inf, max_iter=20).fit(X, [0, 0, 1, 1])


@pytest.mark.parametrize("bad", [0, -1.0, "1", None])
def test_bad_c_is_named(bad):
    with pytest.raises(ValueError, match="C must be a positive number"):
        LogisticRegression(C=bad).fit(np.eye(3), [0, 1, 0])
