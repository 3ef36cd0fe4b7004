"""The chain-rule trace of the worked example."""

from __future__ import annotations

import numpy as np
import pytest

from gradstat.nn import CrossEntropy, Dense, ReLU, Sequential, Tanh
from tests.nn.test_worked_example import TARGET, X, forward_backward, notes_network


def test_trace_of_w5_is_the_notes_line():
    text = str(notes_network().explain(X[0], TARGET[0]))
    assert (
        "∂E/∂w5 = ∂E/∂out_o1 (0.74136507) × ∂out_o1/∂net_o1 (0.18681560) × "
        "∂net_o1/∂w5 (0.59326999) = 0.08216704"
    ) in text
    assert "E = 0.29837111" in text
    assert (
        "∂E_o1/∂out_h1 = ∂E/∂out_o1 (0.74136507) × ∂out_o1/∂net_o1 (0.18681560) × "
        "∂net_o1/∂out_h1 (0.40000000) = 0.05539942" in text
    )
    assert "∂E/∂w1 = ∂E/∂out_h1 (" in text and ") = 0.00043857" in text


def test_hidden_gradient_is_the_sum_over_paths():
    explanation = notes_network().explain(X, TARGET)
    paths = explanation.paths_frame()
    h1 = paths[paths["unit"] == "h1"]
    assert list(h1["through"]) == ["o1", "o2"]
    frame = explanation.to_frame()
    assert frame.loc["w1", "dE_dout"] == pytest.approx(h1["contribution"].sum(), rel=1e-15)
    assert h1["contribution"].iloc[0] == pytest.approx(0.055399425, abs=5e-10)


def test_frame_matches_backward_and_update():
    model = notes_network()
    explanation = model.explain(X, TARGET, lr=0.5)
    frame = explanation.to_frame()
    forward_backward(model)
    weights = [f"w{i}" for i in range(1, 9)]
    np.testing.assert_allclose(
        frame.loc[weights, "gradient"],
        np.concatenate([model.grads["0.weight"].ravel(), model.grads["2.weight"].ravel()]),
        rtol=1e-14,
    )
    product = frame["dE_dout"] * frame["dout_dnet"] * frame["dnet_dparam"]
    np.testing.assert_allclose(product, frame["gradient"], rtol=1e-15)
    np.testing.assert_allclose(
        frame.loc[["w5", "w6", "w7", "w8"], "updated"],
        [0.358916480, 0.408666186, 0.511301270, 0.561370121],
        atol=5e-10,
    )
    assert frame.loc["w5", "to"] == "o1" and frame.loc["w5", "from"] == "h1"
    assert "w5⁺ = 0.40000000 − 0.5 × 0.08216704 = 0.35891648" in explanation.text


def test_deeper_network_and_cross_entropy_match_backward():
    rng = np.random.default_rng(0)
    model = Sequential(
        [
            Dense(3, 3, seed=0, dtype="float64"),
            Tanh(),
            Dense(3, 2, seed=1, dtype="float64"),
            ReLU(),
            Dense(2, 3, seed=2, dtype="float64"),
        ]
    )
    for p in model.params.values():
        p[...] = rng.standard_normal(p.shape)
    x = rng.standard_normal(3)
    frame = model.explain(x, np.array(2), CrossEntropy()).to_frame()
    loss = CrossEntropy()
    loss.forward(model.forward(x[None]), np.array([2]))
    model.backward(loss.backward())
    expected = np.concatenate([model.grads[f"{i}.weight"].ravel() for i in (0, 2, 4)])
    np.testing.assert_allclose(
        frame.loc[[f"w{i}" for i in range(1, 22)], "gradient"], expected, rtol=1e-12, atol=1e-15
    )
    np.testing.assert_allclose(
        frame.loc[["b_o1", "b_o2", "b_o3"], "gradient"], model.grads["4.bias"], rtol=1e-12, atol=1e-15
    )


def test_explain_refuses_what_it_cannot_trace():
    with pytest.raises(ValueError, match="small networks"):
        Sequential([Dense(100, 10)]).explain(np.zeros(100), np.zeros(10))
    with pytest.raises(ValueError, match="one sample of 2 features"):
        notes_network().explain(np.zeros(3), TARGET)
