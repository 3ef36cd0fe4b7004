"""Dense and activation layers: gradcheck and PyTorch autograd (float64) as oracles."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gradstat.nn import Dense, ReLU, Sequential, Sigmoid, Softmax, Tanh, gradcheck

RTOL = 1e-10


def _torch_linear(layer: Dense) -> torch.nn.Linear:
    lin = torch.nn.Linear(layer.in_features, layer.out_features, dtype=torch.float64)
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(layer.params["weight"]))
        lin.bias.copy_(torch.from_numpy(layer.params["bias"]))
    return lin


@pytest.mark.parametrize("shape", [(5, 4), (3, 6, 4), (1, 4)])
def test_dense_matches_torch_linear(shape):
    rng = np.random.default_rng(1)
    layer = Dense(4, 3, seed=0, dtype="float64")
    layer.params["bias"][:] = rng.standard_normal(3)
    x = rng.standard_normal(shape)
    g = rng.standard_normal((*shape[:-1], 3))
    lin = _torch_linear(layer)
    xt = torch.from_numpy(x).requires_grad_(True)
    out_t = lin(xt)
    out_t.backward(torch.from_numpy(g))
    out = layer.forward(x)
    grad_x = layer.backward(g)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(grad_x, xt.grad.numpy(), rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(layer.grads["weight"], lin.weight.grad.numpy(), rtol=RTOL)
    np.testing.assert_allclose(layer.grads["bias"], lin.bias.grad.numpy(), rtol=RTOL)


@pytest.mark.parametrize("x_layout", ["C", "time-major", "F", "every other row"])
@pytest.mark.parametrize("g_layout", ["C", "time-major", "F"])
def test_dense_on_inputs_in_any_memory_order_matches_torch_linear(x_layout, g_layout):
    """A (batch, time, features) input that is a view in another memory order (an RNN's
    time-major output), Fortran-ordered or strided, and a gradient in yet another order."""

    def laid_out(a: np.ndarray, layout: str) -> np.ndarray:
        if layout == "time-major":
            return np.ascontiguousarray(a.transpose(1, 0, 2)).transpose(1, 0, 2)
        if layout == "F":
            return np.asfortranarray(a)
        if layout == "every other row":
            return np.repeat(a, 2, axis=1)[:, ::2]
        return a

    rng = np.random.default_rng(7)
    layer = Dense(4, 3, seed=0, dtype="float64")
    layer.params["bias"][:] = rng.standard_normal(3)
    x, g = rng.standard_normal((5, 6, 4)), rng.standard_normal((5, 6, 3))
    lin = _torch_linear(layer)
    xt = torch.from_numpy(x).requires_grad_(True)
    out_t = lin(xt)
    out_t.backward(torch.from_numpy(g))
    out = layer.forward(laid_out(x, x_layout))
    grad_x = layer.backward(laid_out(g, g_layout))
    assert out.shape == (5, 6, 3) and grad_x.shape == (5, 6, 4)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(grad_x, xt.grad.numpy(), rtol=RTOL, atol=1e-14)
    np.testing.assert_allclose(layer.grads["weight"], lin.weight.grad.numpy(), rtol=RTOL)
    np.testing.assert_allclose(layer.grads["bias"], lin.bias.grad.numpy(), rtol=RTOL)


def test_dense_layout_and_dtype():
    layer = Dense(7, 2)
    assert layer.params["weight"].shape == (2, 7)
    assert layer.params["bias"].shape == (2,)
    assert layer.params["weight"].dtype == np.float32
    out = layer.forward(np.ones((3, 7)))  # float64 input is computed in the layer's float32
    assert out.dtype == np.float32
    assert Dense(7, 2, dtype="float64").params["weight"].dtype == np.float64


def test_backward_overwrites_grads():
    layer = Dense(3, 2, seed=0, dtype="float64")
    x = np.ones((4, 3))
    layer.forward(x)
    layer.backward(np.ones((4, 2)))
    first = layer.grads["weight"].copy()
    layer.forward(x)
    layer.backward(np.ones((4, 2)))
    np.testing.assert_array_equal(layer.grads["weight"], first)  # not 2 × first


def test_dense_seeded_init_is_reproducible_and_scaled():
    a, b = Dense(400, 300, seed=3), Dense(400, 300, seed=3)
    np.testing.assert_array_equal(a.params["weight"], b.params["weight"])
    he = Dense(400, 300, init="he_normal", seed=0, dtype="float64").params["weight"]
    assert abs(he.var() / (2 / 400) - 1) < 0.02  # He: Var = 2 / fan_in
    xa = Dense(400, 300, seed=0, dtype="float64").params["weight"]
    assert abs(xa.var() / (2 / 700) - 1) < 0.02  # Xavier: Var = 2 / (fan_in + fan_out)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (Sigmoid(), torch.sigmoid),
        (Tanh(), torch.tanh),
        (ReLU(), torch.relu),
        (Softmax(), lambda t: torch.softmax(t, dim=-1)),
    ],
)
def test_activation_matches_torch(ours, theirs):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3, 5)) * 3
    g = rng.standard_normal(x.shape)
    xt = torch.from_numpy(x).requires_grad_(True)
    out_t = theirs(xt)
    out_t.backward(torch.from_numpy(g))
    np.testing.assert_allclose(ours.forward(x), out_t.detach().numpy(), rtol=RTOL, atol=1e-15)
    np.testing.assert_allclose(ours.backward(g), xt.grad.numpy(), rtol=RTOL, atol=1e-15)


@pytest.mark.parametrize("layer", [Sigmoid(), Tanh(), Softmax(), Dense(5, 3, seed=0)])
def test_gradcheck_layers(layer):
    x = np.random.default_rng(0).standard_normal((4, 5))
    result = gradcheck(layer, x)
    assert result, result.to_frame()


def test_gradcheck_detects_a_wrong_backward():
    class Broken(Tanh):
        def backward(self, grad_output):
            return grad_output * (1 - self._out)  # missing the square

    assert not gradcheck(Broken(), np.random.default_rng(0).standard_normal((3, 4)))


def test_sigmoid_saturates_without_overflow():
    out = Sigmoid().forward(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(out, [0.0, 0.5, 1.0])


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**31))
def test_network_gradient_matches_torch(batch, hidden, out, seed):
    rng = np.random.default_rng(seed)
    model = Sequential(
        [
            Dense(3, hidden, seed=seed, dtype="float64"),
            Tanh(),
            Dense(hidden, out, seed=seed + 1, dtype="float64"),
            Sigmoid(),
        ]
    )
    for p in model.params.values():
        p[...] = rng.standard_normal(p.shape)
    x = rng.standard_normal((batch, 3))
    g = rng.standard_normal((batch, out))
    net = torch.nn.Sequential(
        _torch_linear(model.layers[0]), torch.nn.Tanh(), _torch_linear(model.layers[2]), torch.nn.Sigmoid()
    )
    net(torch.from_numpy(x)).backward(torch.from_numpy(g))
    model.forward(x)
    model.backward(g)
    torch_grads = dict(net.named_parameters())
    for name, grad in model.grads.items():
        np.testing.assert_allclose(grad, torch_grads[name].grad.numpy(), rtol=RTOL, atol=1e-15)
