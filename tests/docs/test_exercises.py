"""Answers to the exercises at the end of each chapter of the course (docs/course).

Each answer is checked against something the chapter's reader does not compute the same way:
the errata's published figures, scipy's distributions, or a second route to the same number.
"""

import numpy as np
import pytest
from scipy import stats

import gradstat
from gradstat import datasets
from gradstat.nn import Conv1D, Conv2D, Dense, HalfSquaredError, MaxPool2D, Sequential, Sigmoid

# -- the linear model (docs/course/linear-model.md) ---------------------------------------------


@pytest.fixture(scope="module")
def cars():
    return datasets.load("mtcars")


def test_linear_1_degrees_of_freedom_and_sigma2(cars):
    fit = gradstat.ols("mpg ~ wt + hp", data=cars)
    n, p = 32, 2  # p counts predictors without the intercept (errata, DL2)
    assert (fit.nobs, fit.df_model, fit.df_resid) == (n, p, n - p - 1)
    assert fit.sse / 29 == pytest.approx(fit.sigma2, rel=1e-14)
    assert np.sqrt(fit.sigma2) == pytest.approx(2.593, abs=5e-4)  # R: residual standard error 2.593


def test_linear_2_r_squared_and_f_from_the_anova_table(cars):
    fit = gradstat.ols("mpg ~ wt + hp", data=cars)
    table = fit.anova()
    ssr, sse = table["sum_sq"].iloc[0], table["sum_sq"].iloc[1]
    r2 = ssr / (ssr + sse)
    assert r2 == pytest.approx(0.8268, abs=5e-5)  # R: Multiple R-squared 0.8268
    f = (r2 / 2) / ((1 - r2) / 29)
    assert f == pytest.approx(69.21, abs=5e-3)  # R: F-statistic 69.21 on 2 and 29 DF
    assert stats.f.sf(f, 2, 29) == pytest.approx(fit.f_p_value, rel=1e-9)


def test_linear_3_dummies_and_the_numerator_df(cars):
    full = gradstat.ols("mpg ~ wt + hp + C(cyl)", data=cars)
    assert len(full.coef) == 5  # intercept, wt, hp, and k − 1 = 2 dummies for 3 levels of cyl
    table = gradstat.compare(gradstat.ols("mpg ~ wt + hp", data=cars), full)
    assert table["df"].iloc[1] == 2


# -- backpropagation (docs/course/backpropagation.md) -------------------------------------------

X = np.array([[0.05, 0.10]])
TARGET = np.array([[0.01, 0.99]])


def notes_network() -> Sequential:
    model = Sequential([Dense(2, 2, dtype="float64"), Sigmoid(), Dense(2, 2, dtype="float64"), Sigmoid()])
    model.layers[0].params["weight"][:] = [[0.15, 0.20], [0.25, 0.30]]
    model.layers[0].params["bias"][:] = 0.35
    model.layers[2].params["weight"][:] = [[0.40, 0.45], [0.50, 0.55]]
    model.layers[2].params["bias"][:] = 0.60
    return model


def test_backprop_1_dE_dw6_by_hand_matches_the_errata():
    out_h2, out_o1 = 0.596884378, 0.751365070  # errata's forward figures
    by_hand = (out_o1 - 0.01) * out_o1 * (1 - out_o1) * out_h2
    from_errata = (0.45 - 0.408666186) / 0.5  # w6⁺ = w6 − γ ∂E/∂w6
    assert by_hand == pytest.approx(from_errata, abs=2e-9)


def test_backprop_2_the_slip_of_using_updated_weights():
    model = notes_network()
    loss = HalfSquaredError()
    loss.forward(model.forward(X), TARGET)
    model.backward(loss.backward())
    right = model.grads["0.weight"][0, 0]
    assert right == pytest.approx(0.000438568, abs=5e-10)  # errata
    # the slip: the hidden layer sees w5⁺…w8⁺ from the errata instead of w5…w8
    out_h1 = 0.593269992
    out_o = np.array([0.751365070, 0.772928465])
    delta_o = (out_o - TARGET[0]) * out_o * (1 - out_o)
    w_plus_to_h1 = np.array([0.358916480, 0.511301270])  # w5⁺, w7⁺
    slip = (delta_o @ w_plus_to_h1) * out_h1 * (1 - out_h1) * 0.05
    assert slip == pytest.approx(0.000364723, abs=5e-10)  # δ_o·(w5⁺, w7⁺) = 0.030230, × 0.241301 × 0.05
    assert slip != pytest.approx(right, rel=0.1)


def test_backprop_3_dropping_the_half_doubles_every_gradient():
    halved, full = notes_network(), notes_network()
    for model, reduction_scale in ((halved, 1.0), (full, 2.0)):
        loss = HalfSquaredError()
        loss.forward(model.forward(X), TARGET)
        model.backward(reduction_scale * loss.backward())
    for name in halved.grads:
        np.testing.assert_allclose(full.grads[name], 2 * halved.grads[name], rtol=1e-14)
    # so γ = 0.25 on Σ(target − out)² gives the errata's first update made with γ = 0.5 on E
    assert 0.40 - 0.25 * full.grads["2.weight"][0, 0] == pytest.approx(0.358916480, abs=5e-10)


# -- convolutional networks (docs/course/cnn.md) ------------------------------------------------


def _size(w, k, p, s):
    return (w - k + 2 * p) // s + 1


def test_cnn_1_lenet_heights():
    assert _size(_size(_size(_size(28, 5, 0, 1), 2, 0, 2), 5, 0, 1), 2, 0, 2) == 4
    x = np.zeros((1, 1, 28, 28), dtype=np.float32)
    for layer in (Conv2D(1, 1, 5), MaxPool2D(2), Conv2D(1, 1, 5), MaxPool2D(2)):
        x = layer.forward(x)
    assert x.shape[2:] == (4, 4)


def test_cnn_2_padding_for_a_9x9_filter():
    assert (9 - 1) // 2 == 4
    out = Conv2D(1, 1, 9, padding=4).forward(np.zeros((1, 1, 33, 33), dtype=np.float32))
    assert out.shape[2:] == (33, 33)
    out = Conv2D(1, 1, 9, stride=2, padding=4).forward(np.zeros((1, 1, 33, 33), dtype=np.float32))
    assert out.shape[2:] == (17, 17)  # (33 − 9 + 8)/2 + 1


def test_cnn_3_dE_dx2():
    # x2 feeds net1 through w2 and net2 through w1: ∂E/∂x2 = ∂E/∂net1·w2 + ∂E/∂net2·w1
    conv = Conv1D(1, 1, 2, dtype="float64")
    conv.params["weight"][:] = [[[0.5, -1.0]]]
    conv.forward(np.array([[[1.0, 2.0, 3.0, 4.0]]]))
    dx = conv.backward(np.array([[[0.3, -0.2, 0.7]]]))
    assert dx[0, 0, 1] == pytest.approx(0.3 * -1.0 + -0.2 * 0.5, abs=1e-15)
    assert dx[0, 0, 1] == pytest.approx(-0.4, abs=1e-15)
