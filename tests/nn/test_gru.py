"""GRU against torch.nn.GRU autograd (float64, same weights): outputs and every gradient."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gradstat.nn import GRU, CrossEntropy, Dense, Sequential, Stacked, gradcheck


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def np_(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy()


def torch_gru(batch, steps, inp, hid, seed, layers=1):
    """torch.nn.GRU with random weights, input, initial state and upstream gradient."""
    torch.manual_seed(seed)
    net = torch.nn.GRU(inp, hid, num_layers=layers, batch_first=True).double()
    x = torch.randn(batch, steps, inp, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(layers, batch, hid, dtype=torch.float64, requires_grad=True)
    out, final = net(x, h0)
    upstream = torch.randn_like(out)
    final_weight = torch.randn_like(final)
    ((out * upstream).sum() + (final * final_weight).sum()).backward()
    return net, x, h0, out, final, upstream, final_weight


@given(
    batch=st.integers(1, 5),
    steps=st.integers(1, 12),
    inp=st.integers(1, 6),
    hid=st.integers(1, 9),
    seed=st.integers(0, 10_000),
)
@settings(max_examples=30, deadline=None)
def test_gru_equals_pytorch(batch, steps, inp, hid, seed):
    net, x, h0, out, final, upstream, final_weight = torch_gru(batch, steps, inp, hid, seed)
    layer = GRU(inp, hid, dtype="float64").load_state_dict(net.state_dict())
    ours = layer.forward(np_(x), state=np_(h0[0]))
    assert ours.shape == (batch, steps, hid)
    assert rel_err(ours, np_(out)) < 1e-12
    assert rel_err(layer.state, np_(final[0])) < 1e-12
    dx = layer.backward(np_(upstream), grad_state=np_(final_weight[0]))
    assert rel_err(dx, np_(x.grad)) < 1e-10
    assert set(layer.grads) == {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"}
    for name, grad in layer.grads.items():
        assert rel_err(grad, np_(getattr(net, name).grad)) < 1e-10, name
    assert rel_err(layer.grad_state, np_(h0.grad[0])) < 1e-10


def test_stacked_gru_equals_pytorch_num_layers():
    net, x, h0, out, _, upstream, final_weight = torch_gru(3, 6, 4, 5, seed=2, layers=3)
    stack = Stacked("gru", 4, 5, num_layers=3, dtype="float64").load_state_dict(net.state_dict())
    assert set(stack.params) == set(net.state_dict())
    assert rel_err(stack.forward(np_(x), state=np_(h0)), np_(out)) < 1e-12
    assert rel_err(stack.backward(np_(upstream), grad_state=np_(final_weight)), np_(x.grad)) < 1e-10
    for name, grad in stack.grads.items():
        assert rel_err(grad, np_(getattr(net, name).grad)) < 1e-10, name
    assert rel_err(stack.grad_state, np_(h0.grad)) < 1e-10


def test_gru_char_model_loss_and_gradients_equal_pytorch():
    """GRU → Dense per step → cross-entropy over (batch, time, classes)."""
    torch.manual_seed(7)
    gru, lin = torch.nn.GRU(5, 6, batch_first=True).double(), torch.nn.Linear(6, 5).double()
    x = torch.randn(3, 8, 5, dtype=torch.float64)
    y = torch.randint(0, 5, (3, 8))
    loss = torch.nn.functional.cross_entropy(lin(gru(x)[0]).reshape(-1, 5), y.reshape(-1))
    loss.backward()
    rec = GRU(5, 6, dtype="float64").load_state_dict(gru.state_dict())
    model = Sequential([rec, Dense(6, 5, dtype="float64")])
    model.layers[1].params["weight"][...] = np_(lin.weight)
    model.layers[1].params["bias"][...] = np_(lin.bias)
    crit = CrossEntropy()
    assert crit(model.forward(np_(x)), y.numpy()) == pytest.approx(loss.item(), rel=1e-12)
    model.backward(crit.backward())
    for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
        assert rel_err(model.grads[f"0.{name}"], np_(getattr(gru, name).grad)) < 1e-10, name


def test_gru_float32_pytorch_shapes_and_outputs():
    torch.manual_seed(0)
    net = torch.nn.GRU(7, 3, batch_first=True)
    layer = GRU(7, 3).load_state_dict(net.state_dict())
    for name, p in layer.params.items():
        assert p.dtype == np.float32
        assert p.shape == tuple(getattr(net, name).shape)
    x = torch.randn(2, 4, 7)
    out = layer.forward(x.numpy())
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, np_(net(x)[0]), atol=1e-6)
    assert layer.output_shape((None, None, 7)) == (None, None, 3)
    assert GRU(**layer.config()).config() == layer.config()


def test_gru_bad_state_is_a_clear_error():
    layer = GRU(3, 4)
    with pytest.raises(ValueError, match=r"\(batch, hidden\)"):
        layer.forward(np.zeros((2, 5, 3)), state=np.zeros((2, 5)))
    with pytest.raises(ValueError, match="3 input features"):
        layer.forward(np.zeros((2, 5, 2)))


@pytest.mark.parametrize(
    "layer", [GRU(3, 4, seed=0), Stacked("gru", 3, 4, 2, seed=1)], ids=["gru", "stacked-gru"]
)
def test_gru_gradcheck(layer):
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    result = gradcheck(layer, x)
    assert result, result.to_frame()
