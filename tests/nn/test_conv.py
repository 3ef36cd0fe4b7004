"""Conv1D/Conv2D against PyTorch autograd (float64, same weights)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from gradstat.nn import gradcheck
from gradstat.nn.layers.conv import Conv1D, Conv2D

RTOL = 1e-10


def close(actual: np.ndarray, expected: torch.Tensor) -> None:
    """Equal to 1e-10 relative to the largest entry (entries near 0 are sums that cancel)."""
    e = expected.detach().numpy()
    scale = max(float(np.abs(e).max(initial=0.0)), 1e-300)
    np.testing.assert_allclose(actual, e, rtol=RTOL, atol=RTOL * scale)


@st.composite
def axis(draw: st.DrawFn) -> tuple[int, int, int, int]:
    """(W, K, P, S) for which O = (W − K + 2P)/S + 1 is a whole number ≥ 1."""
    k = draw(st.integers(1, 7))
    s = draw(st.integers(1, 3))
    p = draw(st.integers(0, 3))
    o_min = max(1, -(-(2 * p - k + 1) // s) + 1)  # smallest O that leaves W ≥ 1
    o = draw(st.integers(o_min, o_min + 4))
    return (o - 1) * s + k - 2 * p, k, p, s


def torch_conv(fn, x, layer, g, **kw):
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(layer.params["weight"].astype(np.float64), requires_grad=True)
    bt = torch.tensor(layer.params["bias"].astype(np.float64), requires_grad=True)
    out = fn(xt, wt, bt, **kw)
    out.backward(torch.tensor(g))
    return out, xt.grad, wt.grad, bt.grad


@settings(max_examples=40, deadline=None)
@given(
    height=axis(),
    width=axis(),
    c_in=st.integers(1, 8),
    c_out=st.integers(1, 8),
    batch=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_conv2d_matches_torch(height, width, c_in, c_out, batch, seed):
    (h, kh, ph, sh), (w, kw, pw, sw) = height, width
    rng = np.random.default_rng(seed)
    layer = Conv2D(c_in, c_out, (kh, kw), (sh, sw), (ph, pw), dtype="float64", seed=seed)
    layer.params["bias"] = rng.normal(size=c_out)
    x = rng.normal(size=(batch, c_in, h, w))
    out = layer.forward(x)
    g = rng.normal(size=out.shape)
    dx = layer.backward(g)
    ref = torch_conv(F.conv2d, x, layer, g, stride=(sh, sw), padding=(ph, pw))
    assert layer.output_shape((None, c_in, h, w)) == (None, *ref[0].shape[1:])
    close(out, ref[0])
    close(dx, ref[1])
    close(layer.grads["weight"], ref[2])
    close(layer.grads["bias"], ref[3])



@settings(max_examples=40, deadline=None)
@given(
    height=axis(),
    width=axis(),
    c_out=st.integers(1, 8),
    batch=st.integers(1, 3),
    seed=st.integers(0, 2**16),
    dtype=st.sampled_from(["float64", "float32"]),
)
def test_one_channel_conv2d_in_evaluation_mode_matches_torch(height, width, c_out, batch, seed, dtype):
    """Evaluation mode takes the direct kernel for one input channel at stride 1 (no im2col);
    a backward pass after it builds the windows then."""
    (h, kh, ph, _), (w, kw, pw, _) = height, width
    h, w = h + ph, w + pw  # the drawn sizes at stride 1 (O ≥ 1 still holds)
    rng = np.random.default_rng(seed)
    layer = Conv2D(1, c_out, (kh, kw), 1, (ph, pw), dtype=dtype, seed=seed).eval()
    layer.params["bias"][...] = rng.normal(size=c_out)
    x = rng.normal(size=(batch, 1, h, w)).astype(dtype)
    out = layer.forward(x)
    g = rng.normal(size=out.shape)
    dx = layer.backward(g)
    ref = torch_conv(F.conv2d, x.astype(np.float64), layer, g, padding=(ph, pw))
    tolerance = RTOL if dtype == "float64" else 1e-5  # float32: sums of products rounded per term
    for actual, expected in zip((out, dx, layer.grads["weight"], layer.grads["bias"]), ref, strict=True):
        e = expected.detach().numpy()
        scale = max(float(np.abs(e).max(initial=0.0)), 1e-300)
        np.testing.assert_allclose(actual, e, rtol=tolerance, atol=tolerance * scale)


def test_one_channel_conv1d_in_evaluation_mode_matches_torch():
    rng = np.random.default_rng(5)
    layer = Conv1D(1, 4, 3, padding=2, dtype="float64", seed=1).eval()
    layer.params["bias"] = rng.normal(size=4)
    x = rng.normal(size=(2, 1, 9))
    out = layer.forward(x)
    g = rng.normal(size=out.shape)
    dx = layer.backward(g)
    ref = torch_conv(F.conv1d, x, layer, g, padding=2)
    close(out, ref[0])
    close(dx, ref[1])
    close(layer.grads["weight"], ref[2])

@settings(max_examples=40, deadline=None)
@given(
    length=axis(),
    c_in=st.integers(1, 8),
    c_out=st.integers(1, 8),
    batch=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_conv1d_matches_torch(length, c_in, c_out, batch, seed):
    w, k, p, s = length
    rng = np.random.default_rng(seed)
    layer = Conv1D(c_in, c_out, k, s, p, dtype="float64", seed=seed)
    layer.params["bias"] = rng.normal(size=c_out)
    x = rng.normal(size=(batch, c_in, w))
    out = layer.forward(x)
    g = rng.normal(size=out.shape)
    dx = layer.backward(g)
    ref = torch_conv(F.conv1d, x, layer, g, stride=s, padding=p)
    assert layer.output_shape((None, c_in, w)) == (None, *ref[0].shape[1:])
    close(out, ref[0])
    close(dx, ref[1])
    close(layer.grads["weight"], ref[2])
    close(layer.grads["bias"], ref[3])


def test_weights_load_from_a_pytorch_state_dict():
    torch.manual_seed(0)
    peer = torch.nn.Conv2d(3, 4, (3, 5), stride=(2, 1), padding=(1, 2))
    layer = Conv2D(3, 4, (3, 5), stride=(2, 1), padding=(1, 2))
    for name, value in peer.state_dict().items():
        assert layer.params[name].shape == value.shape
        layer.params[name] = value.numpy().copy()
    x = np.random.default_rng(1).normal(size=(2, 3, 9, 7)).astype(np.float32)
    out = layer.forward(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, peer(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("layer", "shape", "axis", "numbers"),
    [
        (Conv2D(1, 1, 4, stride=2), (1, 1, 9, 8), "height", "(9 - 4 + 2*0)/2 + 1 = 3.5"),
        (Conv2D(1, 1, (3, 2), stride=(1, 3), padding=1), (1, 1, 5, 7), "width", "= 3.333"),
        (Conv1D(2, 1, 3, stride=2, padding=1), (1, 2, 6), "length", "W=6, K=3, P=1, S=2"),
        (Conv1D(1, 1, 7), (1, 1, 4), "length", "= -2 with W=4, K=7, P=0, S=1"),
    ],
)
def test_a_configuration_that_does_not_tile_is_an_error(layer, shape, axis, numbers):
    with pytest.raises(ValueError, match=r"W=\d+, K=\d+, P=\d+, S=\d+") as info:
        layer.forward(np.zeros(shape))
    assert axis in str(info.value) and numbers in str(info.value)
    with pytest.raises(ValueError, match=axis):
        layer.output_shape((None, *shape[1:]))


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"channels=3.*\(2, 4, 8, 8\)"):
        Conv2D(3, 1, 3).forward(np.zeros((2, 4, 8, 8)))
    with pytest.raises(ValueError, match="length"):
        Conv1D(3, 1, 3).forward(np.zeros((2, 3, 8, 8)))
    with pytest.raises(ValueError, match="kernel_size must be >= 1"):
        Conv2D(1, 1, 0)
    with pytest.raises(ValueError, match="padding must be >= 0"):
        Conv2D(1, 1, 3, padding=(1, -1))
    with pytest.raises(TypeError, match="stride must be an int or a pair"):
        Conv2D(1, 1, 3, stride=(1, 2, 3))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="floating"):
        Conv1D(1, 1, 3, dtype="int32")


def test_skipping_the_input_gradient_keeps_the_parameter_gradients():
    rng = np.random.default_rng(2)
    layer = Conv2D(2, 3, 3, padding=1, seed=0, dtype="float64")
    x = rng.normal(size=(2, 2, 5, 5))
    g = rng.normal(size=(2, 3, 5, 5))
    layer.forward(x)
    layer.backward(g)
    full = {k: v.copy() for k, v in layer.grads.items()}
    layer.forward(x)
    assert layer.backward(g, input_grad=False).size == 0
    for name, value in full.items():
        np.testing.assert_array_equal(layer.grads[name], value)


@pytest.mark.parametrize(
    "layer",
    [Conv2D(3, 8, (3, 5), stride=(1, 2), padding=(1, 0), seed=4), Conv1D(2, 5, 3, 2, 1, seed=4)],
)
def test_config_rebuilds_the_layer(layer):
    config = json.loads(json.dumps(layer.config()))
    twin = type(layer)(**config)
    np.testing.assert_array_equal(twin.params["weight"], layer.params["weight"])
    assert twin.config() == layer.config()
    assert repr(twin).startswith(type(layer).__name__ + "(in_channels=")


def test_outputs_are_fresh_arrays_while_buffers_are_reused():
    layer = Conv2D(1, 2, 3, padding=1, seed=0)
    rng = np.random.default_rng(3)
    x1, x2 = rng.normal(size=(2, 4, 1, 6, 6)).astype(np.float32)
    first = layer.forward(x1)
    kept = first.copy()
    layer.forward(x2)
    np.testing.assert_array_equal(first, kept)


def test_float32_is_the_default_and_stays_float32():
    layer = Conv2D(1, 2, 3)
    assert layer.params["weight"].dtype == np.float32
    out = layer.forward(np.ones((1, 1, 5, 5)))
    assert out.dtype == np.float32
    assert layer.backward(np.ones_like(out)).dtype == np.float32
    assert layer.grads["weight"].dtype == np.float32


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (Conv2D(2, 3, (3, 2), stride=(2, 1), padding=(1, 2), seed=0), (2, 2, 5, 4)),
        (Conv2D(1, 2, 5, padding=2, seed=1), (1, 1, 6, 7)),
        (Conv1D(3, 2, 4, stride=3, padding=3, seed=2), (2, 3, 7)),
    ],
)
def test_gradcheck(layer, shape):
    x = np.random.default_rng(5).normal(size=shape)
    result = gradcheck(layer, x)
    assert result, result.to_frame()
    assert set(result.errors) == {"weight", "bias", "input"}
