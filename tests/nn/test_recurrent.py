"""RNN, LSTM (and the GRU where noted) against PyTorch autograd (float64): outputs and every gradient."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gradstat.nn import CrossEntropy, Dense, Sequential, gradcheck
from gradstat.nn.layers.recurrent import GRU, LSTM, RNN, Stacked

TORCH = {RNN: torch.nn.RNN, LSTM: torch.nn.LSTM, GRU: torch.nn.GRU}


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def torch_reference(cls, batch, steps, inp, hid, seed, layers=1):
    """Run PyTorch with random weights, input, initial state and upstream gradient."""
    torch.manual_seed(seed)
    net = TORCH[cls](inp, hid, num_layers=layers, batch_first=True).double()
    x = torch.randn(batch, steps, inp, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(layers, batch, hid, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(layers, batch, hid, dtype=torch.float64, requires_grad=True)
    out, _ = net(x, h0 if cls is RNN else (h0, c0))
    upstream = torch.randn_like(out)
    (out * upstream).sum().backward()
    return net, x, h0, c0, out, upstream


def np_(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy()


@pytest.mark.parametrize("cls", [RNN, LSTM])
@given(
    batch=st.integers(1, 5),
    steps=st.integers(1, 12),
    inp=st.integers(1, 6),
    hid=st.integers(1, 9),
    seed=st.integers(0, 10_000),
)
@settings(max_examples=30, deadline=None)
def test_gradients_equal_pytorch(cls, batch, steps, inp, hid, seed):
    net, x, h0, c0, out, upstream = torch_reference(cls, batch, steps, inp, hid, seed)
    layer = cls(inp, hid, dtype="float64").load_state_dict(net.state_dict())
    state = np_(h0[0]) if cls is RNN else (np_(h0[0]), np_(c0[0]))
    ours = layer.forward(np_(x), state=state)
    assert ours.shape == (batch, steps, hid)
    assert rel_err(ours, np_(out)) < 1e-12
    dx = layer.backward(np_(upstream))
    assert rel_err(dx, np_(x.grad)) < 1e-10
    for name, grad in layer.grads.items():
        assert rel_err(grad, np_(getattr(net, name).grad)) < 1e-10, name
    if cls is RNN:
        assert rel_err(layer.grad_state, np_(h0.grad[0])) < 1e-10
    else:
        assert rel_err(layer.grad_state[0], np_(h0.grad[0])) < 1e-10
        assert rel_err(layer.grad_state[1], np_(c0.grad[0])) < 1e-10


@pytest.mark.parametrize("cell, cls", [("rnn", RNN), ("lstm", LSTM)])
def test_stacked_equals_pytorch_num_layers(cell, cls):
    net, x, h0, c0, out, upstream = torch_reference(cls, 3, 6, 4, 5, seed=1, layers=3)
    stack = Stacked(cell, 4, 5, num_layers=3, dtype="float64").load_state_dict(net.state_dict())
    assert set(stack.params) == set(net.state_dict())
    state = np_(h0) if cell == "rnn" else (np_(h0), np_(c0))
    assert rel_err(stack.forward(np_(x), state=state), np_(out)) < 1e-12
    assert rel_err(stack.backward(np_(upstream)), np_(x.grad)) < 1e-10
    for name, grad in stack.grads.items():
        assert rel_err(grad, np_(getattr(net, name).grad)) < 1e-10, name
    gh = stack.grad_state if cell == "rnn" else stack.grad_state[0]
    assert rel_err(gh, np_(h0.grad)) < 1e-10


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_chunks_with_carried_state_equal_one_pass(cls):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 9, 3))
    layer = cls(3, 4, dtype="float64", seed=0)
    whole = layer.forward(x)
    final = layer.state
    first = layer.forward(x[:, :4])
    second = layer.forward(x[:, 4:], state=layer.state)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-13)
    for a, b in zip(np.atleast_3d(layer.state), np.atleast_3d(final), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13)


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_final_state_gradient_equals_pytorch(cls):
    """Gradient flowing into the final state (the truncated-BPTT boundary) is handled."""
    torch.manual_seed(3)
    net = TORCH[cls](3, 4, batch_first=True).double()
    x = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    out, final = net(x)
    finals = (final,) if cls is RNN else final
    weights = [torch.randn_like(f) for f in finals]
    up = torch.randn_like(out)
    ((out * up).sum() + sum((f * w).sum() for f, w in zip(finals, weights, strict=True))).backward()
    layer = cls(3, 4, dtype="float64").load_state_dict(net.state_dict())
    layer.forward(np_(x))
    gs = np_(weights[0][0]) if cls is RNN else (np_(weights[0][0]), np_(weights[1][0]))
    assert rel_err(layer.backward(np_(up), grad_state=gs), np_(x.grad)) < 1e-10


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_backward_reads_a_time_major_gradient_without_changing_it(cls):
    """The gradient from a Dense on a recurrent output is a time-major view: backward reads
    it in place, adds the final-state gradient, and leaves the caller's array as it was."""
    torch.manual_seed(5)
    net = TORCH[cls](3, 4, batch_first=True).double()
    x = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    out, final = net(x)
    finals = (final,) if cls is not LSTM else final
    weights = [torch.randn_like(f) for f in finals]
    up = torch.randn_like(out)
    ((out * up).sum() + sum((f * w).sum() for f, w in zip(finals, weights, strict=True))).backward()
    layer = cls(3, 4, dtype="float64").load_state_dict(net.state_dict())
    layer.forward(np_(x))
    upstream = np.ascontiguousarray(np_(up).transpose(1, 0, 2)).transpose(1, 0, 2)  # time-major memory
    kept = upstream.copy()
    gs = np_(weights[0][0]) if cls is not LSTM else (np_(weights[0][0]), np_(weights[1][0]))
    assert rel_err(layer.backward(upstream, grad_state=gs), np_(x.grad)) < 1e-10
    for name, param in net.named_parameters():
        assert rel_err(layer.grads[name], np_(param.grad)) < 1e-10, name
    np.testing.assert_array_equal(upstream, kept)

@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_float32_default_and_pytorch_parameter_shapes(cls):
    layer = cls(7, 3)
    net = TORCH[cls](7, 3, batch_first=True)
    for name, p in layer.params.items():
        assert p.dtype == np.float32
        assert p.shape == tuple(getattr(net, name).shape)
    out = layer.forward(np.zeros((2, 4, 7), np.float32))
    assert out.dtype == np.float32
    assert layer.output_shape((None, None, 7)) == (None, None, 3)
    assert cls(**layer.config()).config() == layer.config()


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_bad_input_is_a_clear_error(cls):
    layer = cls(3, 4)
    with pytest.raises(ValueError, match="rank 3"):
        layer.forward(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="3 input features"):
        layer.forward(np.zeros((2, 5, 2)))
    with pytest.raises(ValueError, match="length"):
        layer.forward(np.zeros((2, 0, 3)))
    bad_state = np.zeros((2, 5))
    with pytest.raises(ValueError, match=r"\(batch, hidden\)"):
        layer.forward(np.zeros((2, 5, 3)), state=bad_state if cls is RNN else (bad_state, bad_state))
    layer.forward(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match="grad_output"):
        layer.backward(np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="positive integer"):
        cls(0, 4)
    with pytest.raises(ValueError, match="state"):
        Stacked("lstm" if cls is LSTM else "rnn", 3, 4).forward(np.zeros((2, 5, 3)), state=np.zeros((2, 5)))


@pytest.mark.parametrize(
    "layer",
    [RNN(3, 4, seed=0), LSTM(3, 4, seed=1), Stacked("lstm", 3, 4, 2, seed=2)],
    ids=["rnn", "lstm", "stacked-lstm"],
)
def test_gradcheck(layer):
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    result = gradcheck(layer, x)
    assert result, result.to_frame()
    assert layer.params["weight_hh_l0"].dtype == np.float32


def test_sequential_with_time_distributed_dense_equals_pytorch():
    """LSTM → Dense per step → cross-entropy over (batch, time, classes), as in a char model."""
    torch.manual_seed(5)
    lstm, lin = torch.nn.LSTM(4, 6, batch_first=True).double(), torch.nn.Linear(6, 4).double()
    x = torch.randn(3, 7, 4, dtype=torch.float64)
    y = torch.randint(0, 4, (3, 7))
    loss = torch.nn.functional.cross_entropy(lin(lstm(x)[0]).reshape(-1, 4), y.reshape(-1))
    loss.backward()
    model = Sequential(
        [LSTM(4, 6, dtype="float64").load_state_dict(lstm.state_dict()), Dense(6, 4, dtype="float64")]
    )
    model.layers[1].params["weight"][...] = np_(lin.weight)
    model.layers[1].params["bias"][...] = np_(lin.bias)
    crit = CrossEntropy()
    assert crit(model.forward(np_(x)), y.numpy()) == pytest.approx(loss.item(), rel=1e-12)
    model.backward(crit.backward())
    assert rel_err(model.grads["0.weight_hh_l0"], np_(lstm.weight_hh_l0.grad)) < 1e-10
    assert rel_err(model.grads["1.weight"], np_(lin.weight.grad)) < 1e-10
