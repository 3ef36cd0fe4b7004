"""The layer contract (gradstat.nn.layers.base), kept by every layer and by the containers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradstat.nn as gnn


def floats(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


LAYERS = {
    "Dense": (lambda: gnn.Dense(5, 3, seed=1, dtype="float64"), floats(4, 5)),
    "Conv1D": (lambda: gnn.Conv1D(2, 3, 3, padding=1, seed=2, dtype="float64"), floats(2, 2, 7)),
    "Conv2D": (lambda: gnn.Conv2D(2, 3, 3, padding=1, seed=3, dtype="float64"), floats(2, 2, 5, 5)),
    "Embedding": (lambda: gnn.Embedding(7, 4, seed=4, dtype="float64"), np.array([[0, 3, 6], [3, 3, 5]])),
    "RNN": (lambda: gnn.RNN(3, 4, seed=5, dtype="float64"), floats(2, 5, 3)),
    "LSTM": (lambda: gnn.LSTM(3, 4, seed=6, dtype="float64"), floats(2, 5, 3)),
    "Stacked": (lambda: gnn.Stacked("lstm", 3, 4, 2, seed=7, dtype="float64"), floats(2, 5, 3)),
    "ReLU": (gnn.ReLU, floats(3, 4)),
    "Sigmoid": (gnn.Sigmoid, floats(3, 4)),
    "Tanh": (gnn.Tanh, floats(3, 4)),
    "Softmax": (gnn.Softmax, floats(3, 4)),
    "Flatten": (gnn.Flatten, floats(2, 3, 4)),
    "Dropout": (lambda: gnn.Dropout(0.5, seed=0), floats(3, 4)),
    "MaxPool1D": (lambda: gnn.MaxPool1D(2), floats(2, 3, 8)),
    "MaxPool2D": (lambda: gnn.MaxPool2D(2), floats(2, 3, 4, 4)),
    "AvgPool2D": (lambda: gnn.AvgPool2D(2), floats(2, 3, 4, 4)),
    "BatchNorm1D": (lambda: gnn.BatchNorm1D(3, dtype="float64"), floats(4, 3, 2)),
    "BatchNorm2D": (lambda: gnn.BatchNorm2D(3, dtype="float64"), floats(2, 3, 2, 2)),
    "LayerNorm": (lambda: gnn.LayerNorm((3, 4), dtype="float64"), floats(2, 3, 4)),
    "LeakyReLU": (gnn.LeakyReLU, floats(3, 4)),
    "GELU": (gnn.GELU, floats(3, 4)),
    "Sequential": (
        lambda: gnn.Sequential(
            [gnn.Dense(5, 4, dtype="float64"), gnn.Tanh(), gnn.Dense(4, 2, dtype="float64")]
        ),
        floats(3, 5),
    ),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_backward_fills_every_gradient_in_place_and_takes_input_grad(name):
    make, x = LAYERS[name]
    layer = make()
    out = layer.forward(x)
    g = floats(*out.shape, seed=1)
    dx = layer.backward(g, input_grad=True)
    if x.dtype.kind == "f":
        assert dx.shape == x.shape
    grads = layer.grads
    assert set(grads) == set(layer.params)
    for key, p in layer.params.items():
        assert grads[key].shape == p.shape and grads[key].dtype == p.dtype
    first = {k: v.copy() for k, v in grads.items()}
    layer.forward(x)
    layer.backward(2 * g, input_grad=False)  # the first layer of a network skips ∂E/∂x
    for key, arr in layer.grads.items():
        assert arr is grads[key], f"{key}: a new gradient array was allocated"
        if name != "Dropout":  # the gradient is linear in ∂E/∂out: overwritten, not accumulated
            np.testing.assert_allclose(arr, 2 * first[key], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_state_dict_and_named_parameters_are_the_live_arrays(name):
    layer = LAYERS[name][0]()
    sd = layer.state_dict()
    assert dict(layer.named_parameters()).keys() <= sd.keys()
    for key, p in layer.named_parameters():
        assert sd[key] is p or np.shares_memory(sd[key], p)
    copy = LAYERS[name][0]().load_state_dict({k: v + 1.0 for k, v in sd.items()}, strict=True)
    for key, value in copy.state_dict().items():
        np.testing.assert_array_equal(value, sd[key] + 1.0)


def test_stacked_holds_no_second_copy_of_its_parameters():
    stack = gnn.Stacked("rnn", 3, 4, 3, dtype="float64")
    for k, layer in enumerate(stack.layers):
        assert stack.params[f"weight_hh_l{k}"] is layer.params["weight_hh_l0"]
    opt = gnn.SGD(stack, lr=0.1)
    x = floats(2, 5, 3)
    before = stack.layers[2].params["weight_hh_l0"].copy()
    stack.backward(np.ones_like(stack.forward(x)))
    opt.step()  # the update reaches the child's own array, no re-sync needed
    assert not np.array_equal(stack.layers[2].params["weight_hh_l0"], before)
    with pytest.raises(AttributeError, match="children"):
        stack.params = {}


def test_train_and_eval_reach_every_child():
    model = gnn.Sequential([gnn.Dense(2, 2), gnn.Dropout(0.5), gnn.Stacked("rnn", 2, 2, 2)])
    model.eval()
    assert not any(layer.training for layer in [model, *model.layers, *model.layers[2].layers])
    model.train()
    assert all(layer.training for layer in [model, *model.layers, *model.layers[2].layers])


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_carried_state_in_a_sequential_equals_pytorch_on_the_whole_sequence(cell):
    """Truncated BPTT's forward half: chunks with carried state give PyTorch's outputs for the
    whole sequence; reset_state starts again from zeros."""
    torch.manual_seed(0)
    net = (torch.nn.RNN if cell == "rnn" else torch.nn.LSTM)(3, 4, num_layers=2, batch_first=True).double()
    x = floats(2, 9, 3, seed=3)
    with torch.no_grad():
        expected = net(torch.from_numpy(x))[0].numpy()
    model = gnn.Sequential([gnn.Stacked(cell, 3, 4, 2, dtype="float64")])
    model.load_state_dict({f"0.{k}": v for k, v in net.state_dict().items()})
    model.carry_state()
    chunks = [model.forward(x[:, a:b]) for a, b in ((0, 4), (4, 7), (7, 9))]
    np.testing.assert_allclose(np.concatenate(chunks, axis=1), expected, rtol=1e-12, atol=1e-12)
    model.reset_state()
    np.testing.assert_allclose(model.forward(x[:, :4]), expected[:, :4], rtol=1e-12, atol=1e-12)
    model.carry_state(False)
    model.forward(x[:, :4])
    np.testing.assert_allclose(model.forward(x[:, :4]), expected[:, :4], rtol=1e-12, atol=1e-12)


def test_lone_recurrent_state_by_keyword_and_on_the_layer():
    torch.manual_seed(1)
    net = torch.nn.LSTM(3, 4, batch_first=True).double()
    layer = gnn.LSTM(3, 4, dtype="float64").load_state_dict(net.state_dict())
    x, h0, c0 = floats(2, 6, 3), floats(1, 2, 4, seed=1), floats(1, 2, 4, seed=2)
    with torch.no_grad():
        out, (h, c) = net(torch.from_numpy(x), (torch.from_numpy(h0), torch.from_numpy(c0)))
    ours = layer.forward(x, state=(h0[0], c0[0]))
    np.testing.assert_allclose(ours, out.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.state[0], h[0].numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.state[1], c[0].numpy(), rtol=1e-12, atol=1e-12)
