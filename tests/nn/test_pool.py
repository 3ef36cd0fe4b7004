"""Pooling, Flatten and Dropout against PyTorch autograd (float64)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from gradstat.nn import gradcheck
from gradstat.nn.layers.dropout import Dropout
from gradstat.nn.layers.pool import AvgPool2D, MaxPool1D, MaxPool2D
from gradstat.nn.layers.reshape import Flatten

RTOL = 1e-10


@st.composite
def axis(draw: st.DrawFn) -> tuple[int, int, int]:
    """(W, K, S) for which O = (W − K)/S + 1 is a whole number ≥ 1."""
    k = draw(st.integers(1, 7))
    s = draw(st.integers(1, 3))
    o = draw(st.integers(1, 5))
    return (o - 1) * s + k, k, s


def run_torch(fn, x, g, **kw):
    xt = torch.tensor(x, requires_grad=True)
    out = fn(xt, **kw)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), xt.grad.numpy()


@settings(max_examples=40, deadline=None)
@given(
    height=axis(),
    width=axis(),
    channels=st.integers(1, 8),
    batch=st.integers(1, 3),
    average=st.booleans(),
    evaluation=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_pool2d_matches_torch(height, width, channels, batch, average, evaluation, seed):
    """In training mode and in evaluation mode (max pooling finds the arg-max only when the
    backward pass comes); rounding to 2 digits makes ties, which go to the first maximum."""
    (h, kh, sh), (w, kw, sw) = height, width
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, channels, h, w)).round(2 if evaluation else 17)
    cls, fn = (AvgPool2D, F.avg_pool2d) if average else (MaxPool2D, F.max_pool2d)
    layer = cls((kh, kw), (sh, sw)).train(not evaluation)
    out = layer.forward(x)
    g = rng.normal(size=out.shape)
    dx = layer.backward(g)
    ref_out, ref_dx = run_torch(fn, x, g, kernel_size=(kh, kw), stride=(sh, sw))
    assert layer.output_shape((None, channels, h, w)) == (None, *ref_out.shape[1:])
    np.testing.assert_allclose(out, ref_out, rtol=RTOL, atol=RTOL)
    np.testing.assert_allclose(dx, ref_dx, rtol=RTOL, atol=RTOL)


@settings(max_examples=30, deadline=None)
@given(length=axis(), channels=st.integers(1, 8), seed=st.integers(0, 2**16))
def test_maxpool1d_matches_torch(length, channels, seed):
    w, k, s = length
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, channels, w))
    layer = MaxPool1D(k, s)
    out = layer.forward(x)
    g = rng.normal(size=out.shape)
    ref_out, ref_dx = run_torch(F.max_pool1d, x, g, kernel_size=k, stride=s)
    assert layer.output_shape((None, channels, w)) == (None, *ref_out.shape[1:])
    np.testing.assert_allclose(out, ref_out, rtol=RTOL, atol=RTOL)
    np.testing.assert_allclose(layer.backward(g), ref_dx, rtol=RTOL, atol=RTOL)


@pytest.mark.parametrize("stride", [2, 1])
def test_max_pool_routes_ties_to_the_first_maximum_like_torch(stride):
    x = np.zeros((1, 2, 4, 4))  # every window is a tie, as after a ReLU
    x[0, 1, 1:3, 1:3] = 1.0
    layer = MaxPool2D(2, stride)
    out = layer.forward(x)
    g = np.arange(1.0, out.size + 1).reshape(out.shape)
    _, ref_dx = run_torch(F.max_pool2d, x, g, kernel_size=2, stride=stride)
    np.testing.assert_array_equal(layer.backward(g), ref_dx)


def test_pool_that_does_not_tile_is_an_error():
    with pytest.raises(ValueError, match=r"height.*\(5 - 2 \+ 2\*0\)/2 \+ 1 = 2.5"):
        MaxPool2D(2).forward(np.zeros((1, 1, 5, 4)))
    with pytest.raises(ValueError, match=r"length.*W=7, K=3, P=0, S=3"):
        MaxPool1D(3).output_shape((None, 4, 7))
    with pytest.raises(ValueError, match="width"):
        AvgPool2D((1, 3)).forward(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match=r"\(batch, channels, height, width\)"):
        MaxPool2D(2).forward(np.zeros((4, 4)))


def test_pool_config_round_trips():
    for layer in (MaxPool2D((2, 3), (1, 2)), AvgPool2D(2), MaxPool1D(3, 1)):
        twin = type(layer)(**layer.config())
        assert twin.config() == layer.config()
    assert MaxPool2D(3).config() == {"kernel_size": [3, 3], "stride": [3, 3], "tiling": "strict"}


def test_flatten_matches_torch_order_and_unflattens_the_gradient():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4, 5, 2))
    layer = Flatten()
    out = layer.forward(x)
    np.testing.assert_array_equal(out, torch.flatten(torch.tensor(x), 1).numpy())
    assert layer.output_shape((None, 4, 5, 2)) == (None, 40)
    g = rng.normal(size=out.shape)
    np.testing.assert_array_equal(layer.backward(g), g.reshape(x.shape))
    # a channels-last array viewed as (B, C, H, W) flattens in (C, H, W) order too
    nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(layer.forward(nhwc.transpose(0, 3, 1, 2)), out)


def test_dropout_scales_kept_units_and_is_the_identity_in_eval_mode():
    x = np.ones((200, 500))
    layer = Dropout(0.25, seed=0)
    out = layer.forward(x)
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.01  # 100,000 Bernoulli(0.75): sd 0.0014
    g = np.full_like(x, 2.0)
    np.testing.assert_array_equal(layer.backward(g), np.where(kept, 2 / 0.75, 0.0))
    layer.eval()
    assert layer.forward(x) is x
    assert layer.backward(g) is g
    with pytest.raises(ValueError, match="rate"):
        Dropout(1.0)
    assert Dropout(0.1, seed=3).config() == {"rate": 0.1, "seed": 3}


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (MaxPool2D(2), (2, 3, 4, 6)),
        (MaxPool2D((3, 2), (1, 2)), (1, 2, 5, 6)),
        (AvgPool2D((2, 3), 1), (2, 2, 4, 5)),
        (MaxPool1D(3, 2), (2, 3, 9)),
        (Flatten(), (2, 3, 2, 2)),
    ],
)
def test_gradcheck(layer, shape):
    x = np.random.default_rng(6).normal(size=shape)  # distinct values: no ties at a kink
    result = gradcheck(layer, x)
    assert result, result.to_frame()
    assert "input" in result.errors


@pytest.mark.parametrize("training", [True, False])
def test_max_pool_propagates_nan_like_torch(training):
    x = np.array([[[[1.0, np.nan, 3.0, 4.0], [2.0, 0.0, 5.0, 6.0]], [[np.nan, 1, 2, 3], [4, 5, 6, 7]]]])
    out = MaxPool2D(2).train(training).forward(x)
    ref = F.max_pool2d(torch.tensor(x), 2).numpy()
    np.testing.assert_array_equal(out, ref)  # [[nan, 6]]: NaN is not silently dropped
