"""Sequential, fit and the optimisers (PyTorch's optimisers as the oracle)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradstat.nn import (
    MSE,
    SGD,
    Adam,
    CrossEntropy,
    Dense,
    EarlyStopping,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    TrainingDiverged,
    gradcheck,
)


def small_model(dtype: str = "float64") -> Sequential:
    return Sequential([Dense(4, 5, seed=0, dtype=dtype), Tanh(), Dense(5, 3, seed=1, dtype=dtype)])


def torch_copy(model: Sequential) -> torch.nn.Sequential:
    net = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3)).double()
    with torch.no_grad():
        for name, p in net.named_parameters():
            p.copy_(torch.from_numpy(model.params[name]))
    return net


def test_parameters_are_named_and_live():
    model = small_model()
    assert list(model.params) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert model.params["0.weight"] is model.layers[0].params["weight"]
    assert model.n_params == 4 * 5 + 5 + 5 * 3 + 3


def test_sequential_is_a_layer_gradcheck():
    x = np.random.default_rng(0).standard_normal((3, 4))
    assert gradcheck(small_model(), x, np.array([0, 2, 1]), CrossEntropy())
    nested = Sequential([small_model(), Sigmoid()])
    assert gradcheck(nested, x)
    assert "0.2.weight" in nested.params


def test_shape_mismatch_names_both_layers():
    with pytest.raises(ValueError, match=r"layer 2 \(Dense\(in_features=64.*layer 1 \(ReLU.*63"):
        Sequential([Dense(10, 63), ReLU(), Dense(64, 2)], input_shape=(10,))
    model = Sequential([Dense(10, 63), ReLU(), Dense(64, 2)])  # found on the first call
    with pytest.raises(ValueError, match=r"layer 2 \(Dense\(in_features=64.*\(None, 63\)"):
        model.forward(np.zeros((1, 10)))
    with pytest.raises(ValueError, match="the input"):
        Sequential([Dense(10, 2)]).forward(np.zeros((1, 9)))


def test_summary_before_any_data():
    model = Sequential([Dense(64, 32), ReLU(), Dense(32, 10)], input_shape=(64,))
    frame = model.summary()
    assert list(frame["output_shape"]) == ["(None, 32)", "(None, 32)", "(None, 10)"]
    assert list(frame["params"]) == [64 * 32 + 32, 0, 32 * 10 + 10]
    assert frame.attrs["total_params"] == model.n_params
    with pytest.raises(ValueError, match="input_shape"):
        Sequential([Dense(3, 2)]).summary()


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_matches_torch(momentum):
    rng = np.random.default_rng(0)
    model = small_model()
    net = torch_copy(model)
    opt = SGD(model, lr=0.1, momentum=momentum)
    topt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=momentum)
    for _ in range(3):
        x, y = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)
        loss = CrossEntropy()
        loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        opt.step()
        topt.zero_grad()
        torch.nn.functional.cross_entropy(net(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        topt.step()
    for name, p in net.named_parameters():
        np.testing.assert_allclose(model.params[name], p.detach().numpy(), rtol=1e-12)


def test_adam_and_clipping_match_torch():
    rng = np.random.default_rng(1)
    model = small_model()
    net = torch_copy(model)
    opt = Adam(model, lr=0.01, clip_norm=0.5)
    topt = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(4):
        x, y = rng.standard_normal((6, 4)) * 3, rng.standard_normal((6, 3)) * 5
        loss = MSE()
        loss.forward(model.forward(x), y)
        model.backward(loss.backward())
        opt.step()
        topt.zero_grad()
        torch.nn.functional.mse_loss(net(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 0.5)
        topt.step()
    assert opt.last_grad_norm > 0.5  # clipping was active
    for name, p in net.named_parameters():
        np.testing.assert_allclose(model.params[name], p.detach().numpy(), rtol=1e-10)


@pytest.mark.parametrize("make", [lambda m: SGD(m, lr=0.1, momentum=0.9), lambda m: Adam(m)])
def test_update_of_large_parameters_matches_torch(make):
    rng = np.random.default_rng(2)
    layer = Dense(300, 256, seed=0, dtype="float64")  # 76,800 weights
    lin = torch.nn.Linear(300, 256).double()
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(layer.params["weight"]))
        lin.bias.copy_(torch.from_numpy(layer.params["bias"]))
    opt = make(layer)
    topt = (torch.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9) if isinstance(opt, SGD)
            else torch.optim.Adam(lin.parameters()))  # fmt: skip
    for _ in range(2):
        x, g = rng.standard_normal((5, 300)), rng.standard_normal((5, 256))
        layer.forward(x)
        layer.backward(g)
        opt.step()
        topt.zero_grad()
        lin(torch.from_numpy(x)).backward(torch.from_numpy(g))
        topt.step()
    np.testing.assert_allclose(layer.params["weight"], lin.weight.detach().numpy(), rtol=1e-10)


@pytest.mark.parametrize("lr", [0.0, -0.1, float("nan")])
def test_learning_rate_must_be_positive(lr):
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        SGD(small_model(), lr=lr)
    with pytest.raises(ValueError, match="lr"):
        Adam(small_model(), lr=lr)


def test_fit_validates_its_input():
    model = small_model()
    X = np.zeros((4, 4))
    X[1, 2] = np.nan
    with pytest.raises(ValueError, match="X contains 1 NaN"):
        model.fit(X, np.zeros(4, dtype=int), verbose=0)
    with pytest.raises(ValueError, match=r"label 7 is outside the classes 0\.\.2"):
        model.fit(np.zeros((4, 4)), np.array([0, 1, 7, 2]), verbose=0)
    with pytest.raises(ValueError, match="X has 4 samples but y has 3"):
        model.fit(np.zeros((4, 4)), np.zeros(3, dtype=int), verbose=0)
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(np.zeros((4, 4)), np.zeros(4, dtype=int), batch_size=0, verbose=0)


def test_fit_learns_and_records_history():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1).astype(int)
    model = small_model("float32")
    optimiser = Adam(model, lr=0.02)
    model.fit(
        X,
        y,
        epochs=15,
        batch_size=32,
        validation_data=(X[:50], y[:50]),
        optimiser=optimiser,
        verbose=0,
    )
    # the optimiser given is the one that trained: one Adam step per batch, ceil(300 / 32) = 10 an epoch
    assert optimiser.steps == 15 * 10
    h = model.history_
    assert set(h) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(h["loss"]) == 15
    assert h["loss"][-1] < 0.5 * h["loss"][0]
    assert h["accuracy"][-1] > 0.9
    assert model.evaluate(X, y)["accuracy"] > 0.9


def test_fit_is_reproducible_from_the_seed():
    X = np.random.default_rng(0).standard_normal((64, 4))
    y = np.random.default_rng(1).integers(0, 3, 64)
    a = small_model().fit(X, y, epochs=3, batch_size=8, rng=5, verbose=0)
    b = small_model().fit(X, y, epochs=3, batch_size=8, rng=5, verbose=0)
    c = small_model().fit(X, y, epochs=3, batch_size=8, rng=6, verbose=0)
    np.testing.assert_array_equal(a.params["0.weight"], b.params["0.weight"])
    assert not np.array_equal(a.params["0.weight"], c.params["0.weight"])


def test_early_stopping_restores_the_best_weights():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)  # noise: validation can't improve
    Xv, yv = rng.standard_normal((40, 4)), rng.integers(0, 3, 40)
    model = small_model()
    model.fit(
        X,
        y,
        epochs=200,
        batch_size=8,
        validation_data=(Xv, yv),
        callbacks=[EarlyStopping(patience=3)],
        optimiser=Adam(model, lr=0.05),
        verbose=0,
    )
    val = model.history_["val_loss"]
    assert len(val) < 200
    assert model.evaluate(Xv, yv)["loss"] == pytest.approx(min(val), rel=1e-12)


def test_divergence_stops_with_the_last_good_weights():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 4)) * 100
    y = rng.standard_normal((64, 3)) * 100
    model = Sequential([Dense(4, 16, seed=0, dtype="float64"), ReLU(), Dense(16, 3, seed=1, dtype="float64")])
    with pytest.raises(TrainingDiverged, match=r"loss became (nan|inf)"):
        model.fit(X, y, epochs=50, batch_size=8, loss=MSE(), optimiser=SGD(model, lr=10.0), verbose=0)
    assert all(np.all(np.isfinite(p)) for p in model.params.values())
    assert np.isfinite(MSE().forward(model.forward(X[:8]), y[:8]))


def test_per_step_cross_entropy_for_sequences():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 7, 4))
    y = (X[..., 0] > 0).astype(int)  # one label per time step
    model = Sequential([Dense(4, 8, seed=0), Tanh(), Dense(8, 2, seed=1)])
    model.fit(X, y, epochs=20, batch_size=10, optimiser=Adam(model, lr=0.05), verbose=0)
    assert model.history_["accuracy"][-1] > 0.9
    assert model.predict(X).shape == (30, 7, 2)


def test_progress_bar_is_tqdm(capsys):
    X = np.zeros((8, 4))
    small_model().fit(X, np.zeros(8, dtype=int), epochs=1, batch_size=4, verbose=1)
    err = capsys.readouterr().err
    assert "1/1" in err and "epoch" in err and "loss=" in err
