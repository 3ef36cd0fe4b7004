"""The chain-rule trace of the worked example."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

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
    np.testing.assert_allclose(
        frame.loc[["w5", "w6", "w7", "w8"], "updated"],
        [0.358916480, 0.408666186, 0.511301270, 0.561370121],
        atol=5e-10,
    )
    assert frame.loc["w5", "to"] == "o1" and frame.loc["w5", "from"] == "h1"
    assert "w5⁺ = 0.40000000 − 0.5 × 0.08216704 = 0.35891648" in explanation.text


def autograd_factors() -> dict[str, tuple[float, float, float, float]]:
    """Each factor of the chain, from PyTorch autograd (float64) on the notes' network.

    ∂E/∂out is the gradient at the unit's output, ∂out/∂net the derivative of the sigmoid at the
    unit's input, ∂net/∂param the gradient of the unit's input with respect to the parameter, and
    the gradient the parameter's own gradient: four independent autograd computations.
    """
    x = torch.tensor(X, dtype=torch.float64)
    t = torch.tensor(TARGET, dtype=torch.float64)
    weights = [
        torch.tensor([[0.15, 0.20], [0.25, 0.30]], dtype=torch.float64, requires_grad=True),
        torch.tensor([[0.40, 0.45], [0.50, 0.55]], dtype=torch.float64, requires_grad=True),
    ]
    biases = [torch.full((2,), b, dtype=torch.float64, requires_grad=True) for b in (0.35, 0.60)]
    nets, outs, h = [], [], x
    for w, b in zip(weights, biases, strict=True):
        net = h @ w.T + b
        net.retain_grad()
        h = torch.sigmoid(net)
        h.retain_grad()
        nets.append(net)
        outs.append(h)
    error = 0.5 * ((outs[-1] - t) ** 2).sum()
    error.backward(retain_graph=True)
    names = {
        0: (["w1", "w2"], ["w3", "w4"], ["b_h1", "b_h2"]),
        1: (["w5", "w6"], ["w7", "w8"], ["b_o1", "b_o2"]),
    }
    factors = {}
    for layer, (row0, row1, bias_names) in names.items():
        net, out, w, b = nets[layer], outs[layer], weights[layer], biases[layer]
        at = net.detach().clone().requires_grad_(True)
        (dout_dnet,) = torch.autograd.grad(torch.sigmoid(at).sum(), at)
        for unit, row in enumerate((row0, row1)):
            dnet_dw, dnet_db = torch.autograd.grad(net[0, unit], (w, b), retain_graph=True)
            for j, name in enumerate(row):
                factors[name] = (
                    float(out.grad[0, unit]),
                    float(dout_dnet[0, unit]),
                    float(dnet_dw[unit, j]),
                    float(w.grad[unit, j]),
                )
            factors[bias_names[unit]] = (
                float(out.grad[0, unit]),
                float(dout_dnet[0, unit]),
                float(dnet_db[unit]),
                float(b.grad[unit]),
            )
    return factors


def test_every_factor_of_the_trace_is_pytorch_autograd():
    frame = notes_network().explain(X, TARGET).to_frame()
    expected = pd.DataFrame.from_dict(
        autograd_factors(), orient="index", columns=["dE_dout", "dout_dnet", "dnet_dparam", "gradient"]
    )
    assert sorted(frame.index) == sorted(expected.index)
    for column in expected.columns:
        np.testing.assert_allclose(
            frame.loc[expected.index, column], expected[column], rtol=1e-13, atol=1e-17, err_msg=column
        )


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
