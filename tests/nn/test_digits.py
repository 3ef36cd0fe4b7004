"""Accuracy: an MLP on scikit-learn's digits reaches ≥ 97% on held-out data."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from gradstat.nn import Adam, CrossEntropy, Dense, ReLU, Sequential
from gradstat.nn.estimators.mlp import MLPClassifier


def split():
    digits = load_digits()
    X = (digits.data / 16.0).astype(np.float32)
    return train_test_split(X, digits.target, test_size=0.25, stratify=digits.target, random_state=0)


def test_sequential_mlp_on_digits():
    X_train, X_test, y_train, y_test = split()
    model = Sequential(
        [Dense(64, 128, init="he_uniform", seed=0), ReLU(), Dense(128, 10, seed=1)], input_shape=(64,)
    )
    model.fit(
        X_train,
        y_train,
        epochs=30,
        batch_size=32,
        loss=CrossEntropy(),
        optimiser=Adam(model, lr=0.003),
        validation_data=(X_test, y_test),
        rng=0,
        verbose=0,
    )
    accuracy = np.mean(model.predict(X_test).argmax(axis=1) == y_test)
    assert accuracy >= 0.97, accuracy
    assert model.history_["val_accuracy"][-1] == accuracy


def test_sklearn_wrapper_on_digits():
    X_train, X_test, y_train, y_test = split()
    clf = MLPClassifier(hidden_layer_sizes=(64,), lr=0.003, epochs=40, random_state=0)
    assert clf.fit(X_train, y_train).score(X_test, y_test) >= 0.97
