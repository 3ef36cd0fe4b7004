"""The perceptron rule: Novikoff's bound, non-separable data, multi-class."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Perceptron as SkPerceptron

from gradstat.nn.estimators.perceptron import MulticlassPerceptron, Perceptron
from gradstat.validation import ConvergenceWarning


def separable(seed: int, n: int = 60, d: int = 3, margin: float = 0.3):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(d)
    w /= np.linalg.norm(w)
    b = rng.uniform(-1, 1)
    X = rng.uniform(-3, 3, size=(n, d))
    score = X @ w + b
    keep = np.abs(score) >= margin
    return X[keep], np.where(score[keep] > 0, 1, -1), w, b


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["R", "R2"]))
def test_mistakes_respect_novikoff_bound(seed, bias_update):
    X, y, w, b = separable(seed)
    if len(np.unique(y)) < 2:
        return
    clf = Perceptron(max_epochs=10_000, bias_update=bias_update).fit(X, y)
    assert clf.converged_
    assert clf.mistakes_per_epoch_[-1] == 0
    np.testing.assert_array_equal(clf.predict(X), y)
    # the rule is the perceptron on x̃ = (x, c) with c² = R (notes) or c = R (textbook)
    R = np.max(np.linalg.norm(X, axis=1))
    c = np.sqrt(R) if bias_update == "R" else R
    X_aug = np.column_stack([X, np.full(len(X), c)])
    u = np.append(w, b / c)  # the known separator in the augmented space
    gamma = np.min(y * (X_aug @ u)) / np.linalg.norm(u)
    R_aug = np.max(np.linalg.norm(X_aug, axis=1))
    assert clf.n_mistakes_ <= (R_aug / gamma) ** 2


def test_update_rule_by_hand():
    X = np.array([[1.0, 0.0], [0.0, 2.0]])
    with pytest.warns(ConvergenceWarning):
        clf = Perceptron(max_epochs=1).fit(X, np.array([-1, 1]))
    # R = 2. x1 (y=−1): 0 ≤ 0 is a mistake: w = −x1, b = −2; x2 (y=+1): −2 ≤ 0: w += x2, b += 2
    np.testing.assert_array_equal(clf.coef_, [-1.0, 2.0])
    np.testing.assert_array_equal(clf.intercept_, [0.0])
    assert clf.mistakes_per_epoch_ == [2]
    textbook = Perceptron(max_epochs=1, bias_update="R2")
    with pytest.warns(ConvergenceWarning):
        textbook.fit(X, np.array([-1, 1]))
    np.testing.assert_array_equal(textbook.intercept_, [0.0])
    assert textbook.radius_ == 2.0


def test_agrees_with_sklearn_on_separable_data():
    X, y, _, _ = separable(1, n=200)
    ours = Perceptron(max_epochs=1000).fit(X, y)
    theirs = SkPerceptron(tol=None, max_iter=1000, shuffle=False, random_state=0).fit(X, y)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))  # both separate the data
    # intercept_ is held as scikit-learn holds it: an array of shape (1,), not a scalar
    assert type(ours.intercept_) is type(theirs.intercept_) is np.ndarray
    assert ours.intercept_.shape == theirs.intercept_.shape == (1,)
    assert ours.intercept_.dtype == theirs.intercept_.dtype


def test_xor_is_not_separable():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([-1, 1, 1, -1])
    with pytest.warns(ConvergenceWarning, match="not separated"):
        clf = Perceptron(max_epochs=25).fit(X, y)
    assert not clf.converged_
    assert len(clf.mistakes_per_epoch_) == 25 and min(clf.mistakes_per_epoch_) > 0


def test_string_labels_and_errors():
    X, y, _, _ = separable(2)
    labels = np.where(y > 0, "spam", "ham")
    clf = Perceptron().fit(X, labels)
    assert set(clf.predict(X)) <= {"spam", "ham"}
    np.testing.assert_array_equal(clf.predict(X), labels)
    with pytest.raises(ValueError, match="exactly 2 classes, got 3 classes"):
        Perceptron().fit(X[:3], np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="bias_update"):
        Perceptron(bias_update="R3").fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        Perceptron().fit(np.array([[np.nan, 1.0], [0.0, 1.0]]), np.array([1, -1]))


def test_multiclass_rule_and_convergence():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 5], [5, 0], [-5, -5]])
    y = rng.integers(0, 3, 150)
    X = centres[y] + rng.uniform(-1, 1, (150, 2))
    clf = MulticlassPerceptron(max_epochs=100).fit(X, y)
    assert clf.converged_ and clf.coef_.shape == (3, 2)
    np.testing.assert_array_equal(clf.predict(X), y)
    # by hand: x1 scores all 0 → predicted 0, true 1: w1 = x1, w0 = −x1, b1 = R, b0 = −R;
    # x2 then scores class 1 highest, true 0: w0 += x2, w1 −= x2, biases back to 0
    one = MulticlassPerceptron(max_epochs=1)
    with pytest.warns(ConvergenceWarning):
        one.fit(np.array([[1.0, 2.0], [0.0, 1.0]]), np.array([1, 0]))
    np.testing.assert_array_equal(one.coef_, [[-1.0, -1.0], [1.0, 1.0]])
    np.testing.assert_allclose(one.intercept_, [0.0, 0.0], atol=1e-15)
    assert one.mistakes_per_epoch_ == [2]
