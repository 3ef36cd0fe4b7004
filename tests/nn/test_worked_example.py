"""The notes' 2-2-2 sigmoid network: every figure in errata.md to 9 decimals."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradstat.nn import SGD, Dense, HalfSquaredError, Sequential, Sigmoid

X = np.array([[0.05, 0.10]])  # i1, i2
TARGET = np.array([[0.01, 0.99]])  # o1, o2


def notes_network() -> Sequential:
    model = Sequential([Dense(2, 2, dtype="float64"), Sigmoid(), Dense(2, 2, dtype="float64"), Sigmoid()])
    model.layers[0].params["weight"][:] = [[0.15, 0.20], [0.25, 0.30]]  # w1 w2 / w3 w4
    model.layers[0].params["bias"][:] = 0.35  # b1
    model.layers[2].params["weight"][:] = [[0.40, 0.45], [0.50, 0.55]]  # w5 w6 / w7 w8
    model.layers[2].params["bias"][:] = 0.60  # b2
    return model


def forward_backward(model: Sequential) -> float:
    loss = HalfSquaredError()
    error = loss.forward(model.forward(X), TARGET)
    model.backward(loss.backward())
    return error


def test_forward_figures():
    model = notes_network()
    hidden = model.layers[1].forward(model.layers[0].forward(X))
    net_o = model.layers[2].forward(hidden)
    out_o = model.layers[3].forward(net_o)
    np.testing.assert_allclose(hidden, [[0.593269992, 0.596884378]], atol=5e-10)
    np.testing.assert_allclose(net_o, [[1.105905967, 1.224921404]], atol=5e-10)
    np.testing.assert_allclose(out_o, [[0.751365070, 0.772928465]], atol=5e-10)
    assert HalfSquaredError().forward(out_o, TARGET) == pytest.approx(0.298371109, abs=5e-10)
    assert HalfSquaredError(reduction="sum").forward(out_o, TARGET) == pytest.approx(0.298371109, abs=5e-10)


def test_gradients_and_first_update():
    model = notes_network()
    assert forward_backward(model) == pytest.approx(0.298371109, abs=5e-10)
    assert model.grads["2.weight"][0, 0] == pytest.approx(0.082167041, abs=5e-10)  # ∂E/∂w5
    assert model.grads["0.weight"][0, 0] == pytest.approx(0.000438568, abs=5e-10)  # ∂E/∂w1
    # ∂E_o1/∂out_h1 = ∂E/∂out_o1 · ∂out_o1/∂net_o1 · w5
    out_o1 = model.layers[3]._out[0, 0]
    assert (out_o1 - 0.01) * out_o1 * (1 - out_o1) * 0.40 == pytest.approx(0.055399425, abs=5e-10)
    # the update touches the weights only (the notes hold the biases fixed)
    for name, p in model.params.items():
        if name.endswith("weight"):
            p -= 0.5 * model.grads[name]  # w⁺ = w − γ ∂E/∂w
    np.testing.assert_allclose(
        model.params["2.weight"].ravel(), [0.358916480, 0.408666186, 0.511301270, 0.561370121], atol=5e-10
    )
    np.testing.assert_allclose(
        model.params["0.weight"].ravel(), [0.149780716, 0.199561432, 0.249751144, 0.299502287], atol=5e-10
    )
    assert HalfSquaredError().forward(model.forward(X), TARGET) == pytest.approx(0.291027774, abs=5e-10)


def test_sgd_step_is_the_notes_update():
    model = notes_network()
    forward_backward(model)
    before = {k: p.copy() for k, p in model.params.items()}
    grads = {k: g.copy() for k, g in model.grads.items()}
    SGD(model, lr=0.5).step()
    for name, p in model.params.items():
        np.testing.assert_allclose(p, before[name] - 0.5 * grads[name], rtol=0, atol=1e-15)
    assert model.params["2.weight"][0, 0] == pytest.approx(0.358916480, abs=5e-10)  # w5⁺


def test_same_figures_from_pytorch():
    model = notes_network()
    forward_backward(model)
    net = torch.nn.Sequential(
        torch.nn.Linear(2, 2), torch.nn.Sigmoid(), torch.nn.Linear(2, 2), torch.nn.Sigmoid()
    ).double()
    with torch.no_grad():
        for name, p in net.named_parameters():
            p.copy_(torch.from_numpy(model.params[name]))
    out = net(torch.from_numpy(X))
    (0.5 * ((torch.from_numpy(TARGET) - out) ** 2).sum()).backward()
    for name, p in net.named_parameters():
        np.testing.assert_allclose(model.grads[name], p.grad.numpy(), rtol=1e-12)
