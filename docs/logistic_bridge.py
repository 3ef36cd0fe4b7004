"""The notes' sigmoid cross-entropy network is logistic regression: the same coefficients.

    python docs/logistic_bridge.py      # prints the three fits side by side

A single ``Dense(3, 2)`` layer whose class-0 row is held at zero has logits (0, η), so its
softmax gives P(y = 1 | x) = 1 / (1 + e^−η): the logit model. Trained full-batch in float64 by
plain gradient descent on ``CrossEntropy`` (mean log-loss), it converges to the maximum-
likelihood estimate that ``gradstat.glm(..., family="binomial")`` finds by IRLS in a handful of
steps, and to ``gradstat.LogisticRegression(C=np.inf)`` (Newton's method). With K > 2 classes
the softmax layer is the multinomial logit; left free it is over-parameterised (one vector
added to every class changes nothing), so compare its probabilities, or pin a reference class
(``tests/generalised/test_nn_bridge.py`` does both).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import gradstat
from gradstat.nn import SGD, CrossEntropy, Dense


def main() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    eta = 0.3 + X @ np.array([1.0, -0.7, 0.4])
    y = (rng.uniform(size=300) < 1 / (1 + np.exp(-eta))).astype(int)

    layer = Dense(3, 2, dtype="float64", seed=0)
    layer.params["weight"][0] = 0.0  # class 0 is the reference: its logit stays 0
    layer.params["bias"][0] = 0.0
    loss, opt = CrossEntropy(), SGD(layer, lr=2.0)
    for _ in range(2000):
        loss.forward(layer.forward(X), y)
        layer.backward(loss.backward(), input_grad=False)
        layer.grads["weight"][0] = 0.0
        layer.grads["bias"][0] = 0.0
        opt.step()

    frame = pd.DataFrame(X, columns=["x1", "x2", "x3"]).assign(y=y)
    fit = gradstat.glm("y ~ x1 + x2 + x3", frame, family="binomial")
    clf = gradstat.LogisticRegression(C=np.inf).fit(X, y)
    table = pd.DataFrame(
        {
            "Dense + CrossEntropy (GD)": np.r_[layer.params["bias"][1], layer.params["weight"][1]],
            "glm, binomial (IRLS)": fit.coef.to_numpy(),
            "LogisticRegression (Newton)": np.r_[clf.intercept_, clf.coef_[0]],
        },
        index=fit.coef.index,
    )
    print(table.to_string(float_format="{:.10f}".format))
    gap = np.abs(table.iloc[:, 0] - table.iloc[:, 1]).max()
    print(f"\nlargest difference, network vs GLM: {gap:.1e}")
    print(fit.summary())


if __name__ == "__main__":
    main()
