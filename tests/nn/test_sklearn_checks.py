"""scikit-learn's estimator checks for the MLP wrappers and the perceptrons."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.utils.estimator_checks import parametrize_with_checks

from gradstat.nn.estimators.mlp import MLPClassifier, MLPRegressor
from gradstat.nn.estimators.perceptron import MulticlassPerceptron, Perceptron
from gradstat.validation import ConvergenceWarning


@parametrize_with_checks(
    [
        MLPClassifier(hidden_layer_sizes=(16,), lr=0.01, epochs=60, random_state=0),
        MLPRegressor(hidden_layer_sizes=(16,), lr=0.01, epochs=100, random_state=0),
        MulticlassPerceptron(max_epochs=20),
        Perceptron(max_epochs=20),
    ],
)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        # the checks' data are not separable: a perceptron warns about that by design
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def test_binary_perceptron_is_a_classifier():
    X, y = make_classification(
        100, 4, n_informative=3, n_redundant=0, n_clusters_per_class=1, flip_y=0, class_sep=3, random_state=0
    )
    clf = Perceptron(max_epochs=500).fit(X, y)
    assert clf.converged_ and clf.score(X, y) == 1.0
    assert clf.get_params()["bias_update"] == "R"


def test_classifier_probabilities_and_regressor_fit():
    X, y = make_classification(200, 5, n_informative=3, n_classes=3, random_state=0)
    clf = MLPClassifier(hidden_layer_sizes=(16,), lr=0.01, epochs=100, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))
    assert clf.score(X, y) > 0.85
    Xr, yr = make_regression(200, 4, noise=1.0, random_state=0)
    reg = MLPRegressor(hidden_layer_sizes=(32,), lr=0.01, epochs=200, random_state=0)
    assert reg.fit(Xr, yr / yr.std()).score(Xr, yr / yr.std()) > 0.95
    with pytest.raises(ValueError, match="activation"):
        MLPClassifier(activation="swish").fit(X, y)
