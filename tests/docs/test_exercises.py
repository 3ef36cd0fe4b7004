"""Answers to the exercises at the end of each chapter of the course (docs/course).

Each answer is checked against something the chapter's reader does not compute the same way:
the errata's published figures, scipy's distributions, or a second route to the same number.
"""

import dask.dataframe as dd
import mpmath
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.anova import anova_lm

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


def test_linear_2_holding_hp_fixed_by_residuals(cars):
    fit = gradstat.ols("mpg ~ wt + hp", data=cars)
    assert fit.coef["hp"] == pytest.approx(-0.03177, abs=5e-6)  # R: lm(mpg ~ wt + hp), hp -0.03177
    # Frisch–Waugh–Lovell: residualise mpg and hp on wt, then one slope through the origin
    mpg_rest = gradstat.ols("mpg ~ wt", data=cars).resid.to_numpy()
    hp_rest = gradstat.ols("hp ~ wt", data=cars).resid.to_numpy()
    assert hp_rest @ mpg_rest / (hp_rest @ hp_rest) == pytest.approx(-0.0317729470, rel=1e-8)


# -- inference (docs/course/inference.md) -------------------------------------------------------


def test_inference_1_r_squared_adjusted_and_f_from_the_anova_table(cars):
    fit = gradstat.ols("mpg ~ wt + hp", data=cars)
    table = fit.anova()
    ssr, sse = table["sum_sq"].iloc[0], table["sum_sq"].iloc[1]
    r2 = ssr / (ssr + sse)
    assert r2 == pytest.approx(0.8268, abs=5e-5)  # R: Multiple R-squared 0.8268
    adj = 1 - (1 - r2) * (32 - 1) / 29
    assert adj == pytest.approx(0.8148, abs=5e-5)  # R: Adjusted R-squared 0.8148
    oracle = sm.OLS(cars["mpg"], sm.add_constant(cars[["wt", "hp"]])).fit()
    assert fit.adj_r_squared == pytest.approx(oracle.rsquared_adj, rel=1e-12)
    f = (r2 / 2) / ((1 - r2) / 29)
    assert f == pytest.approx(69.21, abs=5e-3)  # R: F-statistic 69.21 on 2 and 29 DF
    assert stats.f.sf(f, 2, 29) == pytest.approx(fit.f_p_value, rel=1e-9)


def test_inference_2_confidence_and_prediction_intervals(cars):
    fit = gradstat.ols("mpg ~ wt + hp", data=cars)
    new = pd.DataFrame({"wt": [3.0], "hp": [150]})
    mean = fit.predict(new, interval="confidence").iloc[0]
    one_car = fit.predict(new, interval="prediction").iloc[0]
    oracle = (
        sm.OLS(cars["mpg"], sm.add_constant(cars[["wt", "hp"]]))
        .fit()
        .get_prediction(np.array([[1.0, 3.0, 150.0]]))
        .summary_frame(alpha=0.05)
        .iloc[0]
    )
    assert mean["fit"] == pytest.approx(oracle["mean"], rel=1e-12)
    expected = oracle[["mean_ci_lower", "mean_ci_upper", "obs_ci_lower", "obs_ci_upper"]].to_numpy()
    got = [mean["lower"], mean["upper"], one_car["lower"], one_car["upper"]]
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    assert (mean["lower"], mean["upper"]) == pytest.approx((19.84, 21.82), abs=0.005)
    assert (one_car["lower"], one_car["upper"]) == pytest.approx((15.43, 26.22), abs=0.005)
    # the prediction interval adds σ̂² to the variance of the fitted mean
    ratio = (one_car["upper"] - one_car["lower"]) / (mean["upper"] - mean["lower"])
    sigma2 = sm.OLS(cars["mpg"], sm.add_constant(cars[["wt", "hp"]])).fit().scale
    assert ratio == pytest.approx(np.sqrt(oracle["mean_se"] ** 2 + sigma2) / oracle["mean_se"], rel=1e-10)
    assert ratio == pytest.approx(5.44, abs=0.005)


def test_inference_3_dummies_and_the_nested_f(cars):
    full = gradstat.ols("mpg ~ wt + hp + C(cyl)", data=cars)
    assert len(full.coef) == 5  # intercept, wt, hp, and k − 1 = 2 dummies for 3 levels of cyl
    reduced = gradstat.ols("mpg ~ wt + hp", data=cars)
    table = gradstat.compare(reduced, full)
    assert table["df"].iloc[1] == 2
    oracle = anova_lm(
        smf.ols("mpg ~ wt + hp", data=cars).fit(), smf.ols("mpg ~ wt + hp + C(cyl)", data=cars).fit()
    )
    assert table["F"].iloc[1] == pytest.approx(oracle["F"].iloc[1], rel=1e-10)
    assert table["p_value"].iloc[1] == pytest.approx(oracle["Pr(>F)"].iloc[1], rel=1e-8)


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


# -- bias and variance (docs/course/bias-variance.md) ------------------------------------------


class ChapterSimulation:
    """The chapter's setting: one fixed design of 30 rows and 12 columns, only the noise redrawn."""

    def __init__(self) -> None:
        rng = np.random.default_rng(2)
        self.n, self.p, self.sigma = 30, 12, 1.5
        self.beta = 2.0 * 0.7 ** np.arange(self.p)
        self.X = rng.normal(size=(self.n, self.p))
        self.x0 = rng.normal(size=(40, self.p))
        self.f0 = self.x0 @ self.beta

    def __call__(self, rng):
        return self.X, self.X @ self.beta + self.sigma * rng.standard_normal(self.n)


def test_bias_variance_1_least_squares_variance_in_closed_form():
    sim = ChapterSimulation()
    measured = gradstat.bias_variance(
        lambda: gradstat.Ridge(alpha=0.0), sim, sim.x0, sim.f0, sim.sigma, n_rep=3000
    )
    # σ² x̃₀'(X̃'X̃)⁻¹x̃₀ from statsmodels' standard error of the fitted mean (scale-free: se²/σ̂²)
    y = sim(np.random.default_rng(9))[1]
    fit = sm.OLS(y, sm.add_constant(sim.X)).fit()
    leverage = fit.get_prediction(sm.add_constant(sim.x0)).se_mean ** 2 / fit.scale
    closed_form = sim.sigma**2 * leverage.mean()
    assert closed_form == pytest.approx(1.80, abs=0.005)
    assert measured.variance == pytest.approx(closed_form, rel=0.05)
    assert measured.bias2 < 0.01  # unbiased: only Monte-Carlo noise, about variance / n_rep


def test_bias_variance_2_ridge_bias_and_variance_in_closed_form():
    sim = ChapterSimulation()
    alpha = 10.0
    measured = gradstat.bias_variance(
        lambda: gradstat.Ridge(alpha=alpha, fit_intercept=False), sim, sim.x0, sim.f0, sim.sigma,
        n_rep=4000,
    )
    gram = sim.X.T @ sim.X
    A = np.linalg.inv(gram + alpha * np.eye(sim.p))  # 12 × 12, well conditioned
    bias = sim.x0 @ (A @ gram @ sim.beta - sim.beta)
    variance = sim.sigma**2 * np.einsum("ij,jk,ik->i", sim.x0, A @ gram @ A, sim.x0)
    assert measured.bias2 == pytest.approx(np.mean(bias**2), rel=0.05)
    assert measured.variance == pytest.approx(np.mean(variance), rel=0.05)


def ridge_parts_in_closed_form(sim: ChapterSimulation, alpha: float) -> tuple[float, float]:
    """Mean bias² and variance of ridge with an unpenalised intercept over the test points.

    The fit centres X and y, so f̂(x₀) = ȳ + (x₀ − x̄)'(X_c'X_c + αI)⁻¹X_c'y = h(x₀)'y, a linear
    smoother: E f̂(x₀) = h'Xβ and Var f̂(x₀) = σ² h'h on the fixed design.
    """
    xbar = sim.X.mean(axis=0)
    Xc = sim.X - xbar
    A = np.linalg.inv(Xc.T @ Xc + alpha * np.eye(sim.p))  # 12 × 12, well conditioned
    H = 1.0 / sim.n + (sim.x0 - xbar) @ A @ Xc.T  # row i: h(x₀ᵢ)'
    bias2 = np.mean((H @ sim.X @ sim.beta - sim.f0) ** 2)
    variance = sim.sigma**2 * np.mean((H**2).sum(axis=1))
    return bias2, variance


def test_bias_variance_3_the_best_alpha_buys_variance_with_bias():
    sim = ChapterSimulation()
    alphas = np.logspace(-1, 3, 13)
    curve = gradstat.bias_variance_curve(
        lambda a: gradstat.Ridge(alpha=a), alphas, sim, sim.x0, sim.f0, sim.sigma, n_rep=200
    )
    parts = np.array([ridge_parts_in_closed_form(sim, a) for a in alphas])
    mspe = parts.sum(axis=1) + sim.sigma**2
    best = int(np.argmin(mspe))
    assert alphas[best] == pytest.approx(10 ** (-1 + 4 * 4 / 12))  # α ≈ 2.15, an interior optimum
    assert curve["mspe"].idxmin() == best  # the simulation finds the same α
    np.testing.assert_allclose(curve["mspe"], mspe, rtol=0.05)
    # at the best α, more bias and less variance than at the smallest α
    assert parts[best, 0] > parts[0, 0] and parts[best, 1] < parts[0, 1]
    assert curve["bias2"].iloc[best] > curve["bias2"].iloc[0]
    assert curve["variance"].iloc[best] < curve["variance"].iloc[0]
    # the parts add up to the error measured directly against fresh responses, within 3 SE
    gap = (curve["mspe_empirical"] - curve["mspe"]).abs()
    assert (gap < 3 * curve["mspe_empirical_se"]).all()


# -- ridge, lasso and elastic net (docs/course/regularisation.md) -----------------------------


def test_regularisation_1_ridge_at_zero_is_least_squares(cars):
    X = cars[["wt", "hp", "qsec"]].to_numpy()
    y = cars["mpg"].to_numpy()
    oracle = sm.OLS(y, sm.add_constant(X)).fit()
    np.testing.assert_allclose(gradstat.Ridge(alpha=0.0).fit(X, y).coef_, oracle.params[1:], rtol=1e-10)
    path = gradstat.ridge_path(X - X.mean(0), y - y.mean(), [0.0])
    assert path.df[0] == pytest.approx(3.0, abs=1e-12)  # trace of the hat matrix of 3 centred columns


def test_regularisation_2_lasso_on_one_standardised_predictor_is_soft_thresholding():
    rng = np.random.default_rng(3)
    x = rng.normal(size=50)
    x = (x - x.mean()) / x.std()  # Σx² = n
    y = 0.7 * x + rng.normal(size=50)
    y = y - y.mean()
    z = x @ y / 50
    for alpha in (0.05, 0.3, abs(z) + 0.1):
        soft = np.sign(z) * max(abs(z) - alpha, 0.0)
        fitted = gradstat.Lasso(alpha=alpha, fit_intercept=False, tol=1e-12).fit(x[:, None], y).coef_[0]
        assert fitted == pytest.approx(soft, abs=1e-8)


# -- the perceptron (docs/course/perceptron.md) --------------------------------------------------

SIX_X = np.array([[2.0, 1.0], [3.0, 2.0], [1.0, 3.0], [-1.0, -2.0], [-2.0, -1.0], [-3.0, 1.0]])
SIX_Y = np.array([1, 1, 1, -1, -1, -1])


def test_perceptron_1_radius():
    from gradstat.nn import Perceptron

    assert Perceptron().fit(SIX_X, SIX_Y).radius_ == pytest.approx(np.sqrt(13), abs=1e-15)  # ‖(3, 2)‖


def test_perceptron_2_every_point_on_its_side():
    from gradstat.nn import Perceptron

    model = Perceptron().fit(SIX_X, SIX_Y)
    assert (np.sign(SIX_X @ model.coef_ + model.intercept_) == SIX_Y).all()


def test_perceptron_3_xor_inequalities_contradict():
    # (0,0), (1,1) → −1 and (0,1), (1,0) → +1 need  b < 0,  w1 + w2 + b < 0,  w2 + b > 0,  w1 + b > 0.
    # Adding the last two: w1 + w2 + 2b > 0; adding the first two: w1 + w2 + 2b < 0. No (w, b) exists;
    # a brute-force search over a grid finds none either.
    grid = np.linspace(-3, 3, 25)
    w1, w2, b = np.meshgrid(grid, grid, grid, indexing="ij")
    separates = (b < 0) & (w1 + w2 + b < 0) & (w2 + b > 0) & (w1 + b > 0)
    assert not separates.any()


# -- recurrent networks (docs/course/rnn.md) -----------------------------------------------------


def test_rnn_1_shapes_and_parameter_count():
    from gradstat.nn import RNN

    layer = RNN(3, 5)
    assert layer.params["weight_ih_l0"].shape == (5, 3)  # W_X is d × m
    assert layer.params["weight_hh_l0"].shape == (5, 5)  # W_H is d × d (W_Y would be k × d = 4 × 5)
    assert sum(p.size for p in layer.params.values()) == 15 + 25 + 5 + 5


def test_rnn_2_geometric_shrinking():
    # W_H = 0.9 I and h ≡ 0 (so 1 − h² = 1): every step's Jacobian has norm exactly 0.9
    from gradstat.nn import RNN, Sequential, gradient_by_lag

    layer = RNN(1, 4, dtype="float64")
    for name, value in layer.params.items():
        value[:] = 0.9 * np.eye(4) if name == "weight_hh_l0" else 0.0
    model = Sequential([layer, Dense(4, 1, dtype="float64", seed=0)], input_shape=(30, 1))
    frame = gradient_by_lag(model, np.zeros((2, 30, 1)), np.ones((2, 1))).set_index("lag")
    assert frame.loc[20, "grad_norm"] / frame.loc[0, "grad_norm"] == pytest.approx(0.1216, abs=1e-4)


def test_rnn_3_forget_gate_one_keeps_the_cell():
    from gradstat.nn import LSTM

    layer = LSTM(1, 1, dtype="float64")
    w = layer.params
    # gate order i, f, g, o (PyTorch): input gate shut (i ≈ 0), forget gate open (f ≈ 1)
    w["weight_ih_l0"][:] = 0.0
    w["weight_hh_l0"][:] = 0.0
    w["bias_ih_l0"][:] = [-50.0, 50.0, 0.0, 50.0]
    w["bias_hh_l0"][:] = 0.0
    c0 = np.array([[0.8]])
    h = layer.forward(np.zeros((1, 5, 1)), state=(np.zeros((1, 1)), c0))
    assert h[0, -1, 0] == pytest.approx(np.tanh(0.8), abs=1e-12)  # h_t = o ⊙ tanh(c_t), c_t = c_0


# -- why the numbers are exact (docs/course/exact-numbers.md) ------------------------------------


def test_exact_1_normal_equations_square_the_condition_number():
    x = np.linspace(0.4, 1.4, 30)
    X = np.vander(x, 9, increasing=True)
    kappa = np.linalg.svd(X, compute_uv=False)
    kappa = kappa[0] / kappa[-1]
    # the gram matrix's condition number, from X'X formed and diagonalised in 60-digit arithmetic
    with mpmath.workdps(60):
        G = mpmath.matrix(X.tolist()).T * mpmath.matrix(X.tolist())
        eig = sorted(float(e) for e in mpmath.eigsy(G)[0])
    assert eig[-1] / eig[0] == pytest.approx(kappa**2, rel=1e-6)


def test_exact_2_powers_of_two_scale_exactly():
    v = 0.11  # one answer: (0.11 * 10) / 10 gives 0.10999999999999999
    assert (v * 10) / 10 != v
    for k in (-40, -3, 5, 60):
        assert (v * 2.0**k) / 2.0**k == v


# -- training multilayer networks (docs/course/mlp.md) -------------------------------------------


def test_mlp_1_parameter_count():
    model = Sequential([Dense(64, 64), Dense(64, 10)], input_shape=(64,))
    assert model.n_params == (64 * 64 + 64) + (64 * 10 + 10) == 4810


def test_mlp_2_softmax_shift_invariance():
    from gradstat.nn import Softmax

    z = np.array([[1.0, 2.0, -3.0, 0.5]])
    p = Softmax().forward(z)
    np.testing.assert_allclose(Softmax().forward(z + 100.0), p, rtol=1e-12)
    assert p.sum() == pytest.approx(1.0, abs=1e-15)
    np.testing.assert_allclose(p, np.exp(z) / np.exp(z).sum(), rtol=1e-12)


# -- beyond one machine (docs/course/dask.md) ----------------------------------------------------


def test_dask_1_stacked_r_factors_give_the_whole_r():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4))
    r_whole = np.linalg.qr(X, mode="r")
    stacked = np.vstack([np.linalg.qr(X[:25], mode="r"), np.linalg.qr(X[25:], mode="r")])
    r_tree = np.linalg.qr(stacked, mode="r")
    signs = np.sign(np.diag(r_whole)) * np.sign(np.diag(r_tree))
    np.testing.assert_allclose(signs[:, None] * r_tree, r_whole, atol=1e-12)
    # and both give the same least-squares solution as gradstat on the whole data
    y = X @ [1.0, -2.0, 0.5, 3.0] + rng.normal(size=40)
    fit = gradstat.OLS(fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(fit.coef_, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-10)


def test_dask_2_levels_must_be_agreed_across_partitions():
    # level "c" appears only in the second partition: dummies built per partition would disagree
    frame = pd.DataFrame({"g": ["a", "b"] * 10 + ["c"] * 10, "x": np.arange(30.0)})
    frame["y"] = frame["x"] + (frame["g"] == "c") * 5.0 + np.sin(np.arange(30.0))
    parts = dd.from_pandas(frame, npartitions=2)
    assert set(parts.partitions[0].compute()["g"]) == {"a", "b"}
    partitioned = gradstat.ols("y ~ x + C(g)", data=parts)
    oracle = smf.ols("y ~ x + C(g)", data=frame).fit()
    names = list(partitioned.coef.index)
    assert sorted(names) == sorted(oracle.params.index)  # one dummy per non-baseline level, "c" included
    np.testing.assert_allclose(partitioned.coef, oracle.params[names], rtol=1e-10)
    np.testing.assert_allclose(partitioned.std_err, oracle.bse[names], rtol=1e-10)
