"""The notes' sigmoid / softmax cross-entropy network *is* the logistic model.

A single ``Dense`` layer trained full-batch in float64 by plain gradient descent on
``CrossEntropy`` reaches the maximum-likelihood logistic regression:

* two classes: Dense(p, 2) with the class-0 row pinned at zero has logits (0, η), so
  softmax gives P(y = 1) = 1 / (1 + e^−η), the logit model; its weights are the GLM's β̂;
* K classes: softmax over K logits is over-parameterised (adding one vector to every class
  changes nothing), so the unpinned network is compared by its fitted probabilities, and
  the pinned one (class 0 as reference) by its coefficients, the baseline-category logits
  that statsmodels' MNLogit reports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm

import gradstat
from gradstat.nn import SGD, CrossEntropy, Dense


def _train(X: np.ndarray, y: np.ndarray, classes: int, steps: int, lr: float, pin_reference: bool) -> Dense:
    layer = Dense(X.shape[1], classes, dtype="float64", seed=0)
    if pin_reference:
        layer.params["weight"][0] = 0.0
        layer.params["bias"][0] = 0.0
    loss = CrossEntropy()  # mean over rows of −log softmax(Xw' + b)_y
    opt = SGD(layer, lr=lr)
    for _ in range(steps):
        loss.forward(layer.forward(X), y)
        layer.backward(loss.backward(), input_grad=False)
        if pin_reference:  # class 0's logit stays 0: the reference category
            layer.grads["weight"][0] = 0.0
            layer.grads["bias"][0] = 0.0
        opt.step()
    return layer


def _data(classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 3))
    beta = rng.normal(scale=0.8, size=(3, classes))
    logits = 0.2 + X @ beta
    prob = np.exp(logits - logits.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    y = np.array([rng.choice(classes, p=p) for p in prob])
    return X, y


def test_sigmoid_cross_entropy_network_is_the_logistic_glm():
    X, y = _data(2, seed=0)
    layer = _train(X, y, 2, steps=2000, lr=2.0, pin_reference=True)
    network = np.r_[layer.params["bias"][1], layer.params["weight"][1]]
    frame = pd.DataFrame(X, columns=["x1", "x2", "x3"]).assign(y=y)
    fit = gradstat.glm("y ~ x1 + x2 + x3", frame, family="binomial")
    np.testing.assert_allclose(network, fit.coef.to_numpy(), atol=1e-6)
    oracle = sm.Logit(y, sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-14)
    np.testing.assert_allclose(network, oracle.params, atol=1e-6)


def test_softmax_cross_entropy_network_is_the_multinomial_logit():
    X, y = _data(3, seed=1)
    pinned = _train(X, y, 3, steps=3000, lr=2.0, pin_reference=True)
    oracle = sm.MNLogit(y, sm.add_constant(X)).fit(disp=0, method="newton", tol=1e-14, maxiter=100)
    # MNLogit's params: (1 + p, K − 1), class k's logit minus class 0's
    network = np.vstack([pinned.params["bias"][1:], pinned.params["weight"][1:].T])
    np.testing.assert_allclose(network, oracle.params, atol=1e-6)

    free = _train(X, y, 3, steps=3000, lr=2.0, pin_reference=False)
    logits = X @ free.params["weight"].T + free.params["bias"]
    prob = np.exp(logits - logits.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    clf = gradstat.LogisticRegression(C=np.inf).fit(X, y)
    np.testing.assert_allclose(prob, clf.predict_proba(X), atol=1e-7)
    np.testing.assert_allclose(prob, oracle.predict(sm.add_constant(X)), atol=1e-7)
