"""``tiling="floor"``: convolution and pooling with PyTorch's output size ⌊(W − K + 2P)/S⌋ + 1,
against PyTorch autograd (float64) on sizes that do not tile; the default still refuses them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from gradstat.nn import AvgPool2D, Conv1D, Conv2D, MaxPool1D, MaxPool2D, gradcheck

RTOL = 1e-10


def close(actual: np.ndarray, expected: torch.Tensor) -> None:
    """Equal to 1e-10 relative to the largest entry (entries near 0 are sums that cancel)."""
    e = expected.detach().numpy()
    scale = max(float(np.abs(e).max(initial=0.0)), 1e-300)
    np.testing.assert_allclose(actual, e, rtol=RTOL, atol=RTOL * scale)


@st.composite
def axis(draw: st.DrawFn, padding: bool = True) -> tuple[int, int, int, int]:
    """(W, K, P, S) with W + 2P ≥ K, whether or not the windows tile."""
    k = draw(st.integers(1, 6))
    s = draw(st.integers(1, 4))
    p = draw(st.integers(0, (k - 1) // 2 + 1)) if padding else 0
    w = draw(st.integers(max(1, k - 2 * p), k - 2 * p + 3 * s + 2))
    return w, k, p, s


@settings(max_examples=40, deadline=None)
@given(
    height=axis(), width=axis(), c_in=st.integers(1, 4), c_out=st.integers(1, 4), seed=st.integers(0, 2**16)
)
def test_conv2d_floor_matches_torch(height, width, c_in, c_out, seed):
    (h, kh, ph, sh), (w, kw, pw, sw) = height, width
    rng = np.random.default_rng(seed)
    layer = Conv2D(c_in, c_out, (kh, kw), (sh, sw), (ph, pw), dtype="float64", seed=seed, tiling="floor")
    layer.params["bias"] = rng.normal(size=c_out)
    x = rng.normal(size=(2, c_in, h, w))
    out = layer.forward(x)
    g = rng.normal(size=out.shape)
    dx = layer.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(layer.params["weight"], requires_grad=True)
    bt = torch.tensor(layer.params["bias"], requires_grad=True)
    ref = F.conv2d(xt, wt, bt, stride=(sh, sw), padding=(ph, pw))
    ref.backward(torch.tensor(g))
    assert layer.output_shape((None, c_in, h, w)) == (None, *ref.shape[1:])
    close(out, ref)
    close(dx, xt.grad)
    close(layer.grads["weight"], wt.grad)
    close(layer.grads["bias"], bt.grad)


@settings(max_examples=40, deadline=None)
@given(length=axis(), c_in=st.integers(1, 4), c_out=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_conv1d_floor_matches_torch(length, c_in, c_out, seed):
    w, k, p, s = length
    rng = np.random.default_rng(seed)
    layer = Conv1D(c_in, c_out, k, s, p, dtype="float64", seed=seed, tiling="floor")
    layer.params["bias"] = rng.normal(size=c_out)
    x = rng.normal(size=(3, c_in, w))
    out = layer.forward(x)
    g = rng.normal(size=out.shape)
    dx = layer.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(layer.params["weight"], requires_grad=True)
    bt = torch.tensor(layer.params["bias"], requires_grad=True)
    ref = F.conv1d(xt, wt, bt, stride=s, padding=p)
    ref.backward(torch.tensor(g))
    assert layer.output_shape((None, c_in, w)) == (None, *ref.shape[1:])
    close(out, ref)
    close(dx, xt.grad)
    close(layer.grads["weight"], wt.grad)
    close(layer.grads["bias"], bt.grad)


@settings(max_examples=40, deadline=None)
@given(
    height=axis(padding=False),
    width=axis(padding=False),
    average=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_pool2d_floor_matches_torch(height, width, average, seed):
    (h, kh, _, sh), (w, kw, _, sw) = height, width
    rng = np.random.default_rng(seed)
    layer = (AvgPool2D if average else MaxPool2D)((kh, kw), (sh, sw), tiling="floor")
    x = rng.normal(size=(2, 3, h, w))
    out = layer.forward(x)
    g = rng.normal(size=out.shape)
    dx = layer.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    ref = (F.avg_pool2d if average else F.max_pool2d)(xt, (kh, kw), (sh, sw))
    ref.backward(torch.tensor(g))
    assert layer.output_shape((None, 3, h, w)) == (None, *ref.shape[1:])
    close(out, ref)
    close(dx, xt.grad)


@settings(max_examples=30, deadline=None)
@given(length=axis(padding=False), seed=st.integers(0, 2**16))
def test_maxpool1d_floor_matches_torch(length, seed):
    w, k, _, s = length
    rng = np.random.default_rng(seed)
    layer = MaxPool1D(k, s, tiling="floor")
    x = rng.normal(size=(2, 3, w))
    out = layer.forward(x)
    g = rng.normal(size=out.shape)
    dx = layer.backward(g)
    xt = torch.tensor(x, requires_grad=True)
    ref = F.max_pool1d(xt, k, s)
    ref.backward(torch.tensor(g))
    assert layer.output_shape((None, 3, w)) == (None, *ref.shape[1:])
    close(out, ref)
    close(dx, xt.grad)


@pytest.mark.parametrize(
    ("strict", "shape", "numbers", "floor_shape"),
    [
        (Conv2D(1, 2, 3, stride=2), (1, 1, 8, 9), "W=8, K=3, P=0, S=2", (1, 2, 3, 4)),
        (Conv1D(1, 2, 4, stride=3, padding=1), (1, 1, 10), "W=10, K=4, P=1, S=3", (1, 2, 3)),
        (MaxPool2D(2), (1, 1, 4, 5), "W=5, K=2, P=0, S=2", (1, 1, 2, 2)),
        (AvgPool2D(3), (1, 1, 7, 6), "W=7, K=3, P=0, S=3", (1, 1, 2, 2)),
        (MaxPool1D(2), (1, 1, 5), "W=5, K=2, P=0, S=2", (1, 1, 2)),
    ],
)
def test_the_default_refuses_what_floor_accepts(strict, shape, numbers, floor_shape):
    with pytest.raises(ValueError, match="does not tile") as info:
        strict.forward(np.zeros(shape))
    assert numbers in str(info.value) and "tiling='floor'" in str(info.value)
    config = {**strict.config(), "tiling": "floor"}
    floor = type(strict)(**config)
    assert floor.forward(np.zeros(shape)).shape == floor_shape  # ⌊(W − K + 2P)/S⌋ + 1


def test_floor_still_refuses_a_kernel_larger_than_the_padded_input():
    with pytest.raises(ValueError, match=r"W=3, K=5, P=0, S=1") as info:
        Conv1D(1, 1, 5, tiling="floor").forward(np.zeros((1, 1, 3)))
    assert "tiling='floor'" not in str(info.value)
    with pytest.raises(ValueError, match=r"tiling must be one of \('strict', 'floor'\), got 'ceil'"):
        MaxPool2D(2, tiling="ceil")


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (Conv2D(2, 3, 3, stride=2, padding=1, seed=0, tiling="floor"), (2, 2, 6, 7)),
        (Conv1D(2, 3, 3, stride=2, seed=0, tiling="floor"), (2, 2, 8)),
        (MaxPool2D(2, tiling="floor"), (2, 2, 5, 5)),
        (AvgPool2D((2, 3), tiling="floor"), (2, 2, 5, 7)),
        (MaxPool1D(3, 2, tiling="floor"), (2, 2, 8)),
    ],
)
def test_gradcheck(layer, shape):
    assert gradcheck(layer, np.random.default_rng(0).normal(size=shape))
