"""ReLU, LeakyReLU and GELU against PyTorch autograd (float64), and gradcheck on each."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

from gradstat.nn import GELU, LeakyReLU, ReLU, gradcheck, layer_class

RTOL = 1e-10


@pytest.mark.parametrize("memory", [(0, 1, 2, 3), (0, 2, 3, 1), (2, 0, 3, 1), (3, 2, 1, 0)])
@pytest.mark.parametrize("grad_memory", [(0, 1, 2, 3), (1, 3, 0, 2)])
def test_relu_on_any_memory_order_matches_torch(memory, grad_memory):
    """ReLU runs over its input in memory order (channels-last feature maps without a copy);
    inputs and gradients laid out along any permutation of the axes, with zeros and ties."""

    def laid_out(a: np.ndarray, order: tuple[int, ...]) -> np.ndarray:
        # the same values, stored with the axes in `order` from slowest to fastest
        return np.ascontiguousarray(a.transpose(order)).transpose(np.argsort(order))

    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 3, 4, 5)).round(1)
    g = rng.standard_normal(x.shape)
    xt = torch.from_numpy(x).requires_grad_(True)
    torch.relu(xt).backward(torch.from_numpy(g))
    layer = ReLU()
    out = layer.forward(laid_out(x, memory))
    grad_x = layer.backward(laid_out(g, grad_memory))
    np.testing.assert_array_equal(out, torch.relu(torch.from_numpy(x)).numpy())
    np.testing.assert_array_equal(grad_x, xt.grad.numpy())


@settings(max_examples=40, deadline=None)
@given(
    shape=array_shapes(min_dims=1, max_dims=4, max_side=5),
    slope=st.sampled_from([0.01, 0.2, 0.0, -0.5, 3.0]),
    scale=st.sampled_from([1e-3, 1.0, 30.0]),
    seed=st.integers(0, 2**16),
)
def test_leaky_relu_matches_torch(shape, slope, scale, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape) * scale
    x.reshape(-1)[0] = 0.0  # PyTorch's slope at 0 is the negative one
    g = rng.normal(size=shape)
    xt = torch.tensor(x, requires_grad=True)
    out_t = torch.nn.LeakyReLU(slope)(xt)
    out_t.backward(torch.tensor(g))
    layer = LeakyReLU(slope)
    np.testing.assert_allclose(layer.forward(x), out_t.detach().numpy(), rtol=RTOL, atol=0)
    np.testing.assert_allclose(layer.backward(g), xt.grad.numpy(), rtol=RTOL, atol=0)


@settings(max_examples=40, deadline=None)
@given(
    shape=array_shapes(min_dims=1, max_dims=4, max_side=5),
    approximate=st.sampled_from(["none", "tanh"]),
    scale=st.sampled_from([1e-3, 1.0, 4.0, 30.0]),
    seed=st.integers(0, 2**16),
)
def test_gelu_matches_torch(shape, approximate, scale, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape) * scale
    g = rng.normal(size=shape)
    xt = torch.tensor(x, requires_grad=True)
    out_t = torch.nn.GELU(approximate=approximate)(xt)
    out_t.backward(torch.tensor(g))
    layer = GELU(approximate)
    out, dx = layer.forward(x), layer.backward(g)
    # x Φ(x) and Φ(x) + x φ(x) cancel to nearly 0 for negative x: there each is compared to
    # 1e-10 of the terms that make it (|x|, and |g| since Φ ≤ 1 and |x φ(x)| < 1)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=RTOL, atol=RTOL * float(np.abs(x).max()))
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=RTOL, atol=RTOL * float(np.abs(g).max()))


@pytest.mark.parametrize("layer", [LeakyReLU(), LeakyReLU(0.3), GELU(), GELU("tanh")])
def test_gradcheck(layer):
    x = np.random.default_rng(1).normal(size=(4, 5)) * 2
    assert gradcheck(layer, x)


def test_config_rebuilds_the_layer():
    for layer in (LeakyReLU(0.2), GELU("tanh")):
        assert layer_class(type(layer).__name__)(**layer.config()).config() == layer.config()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"GELU approximate must be one of \('none', 'tanh'\), got 'erf'"):
        GELU("erf")
    with pytest.raises(TypeError, match=r"LeakyReLU negative_slope must be a number, got '0\.1'"):
        LeakyReLU("0.1")  # type: ignore[arg-type]


def test_leaky_relu_of_integers_keeps_the_negative_slope():
    expected = torch.nn.LeakyReLU(0.5)(torch.tensor([-2.0, 3.0])).numpy()
    np.testing.assert_array_equal(LeakyReLU(0.5).forward(np.array([-2, 3])), expected)
