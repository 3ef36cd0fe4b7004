"""The notes' CNN examples (lecture-notes.md, CNN; corrections in errata.md) as tests."""

from __future__ import annotations

import numpy as np
import pytest

from gradstat.nn.layers.conv import Conv1D, Conv2D
from gradstat.nn.layers.pool import MaxPool2D

# Exactly representable values: every sum below is exact in float64.
X1, X2, X3, X4 = 2.0, 3.0, 5.0, 7.0
W1, W2, B = 11.0, 13.0, 17.0
D1, D2, D3 = 0.5, -1.25, 2.0  # ∂E/∂net_1, ∂E/∂net_2, ∂E/∂net_3


@pytest.fixture
def one_d() -> tuple[Conv1D, np.ndarray]:
    layer = Conv1D(1, 1, 2, dtype="float64")
    layer.params["weight"] = np.array([[[W1, W2]]])
    layer.params["bias"] = np.array([B])
    net = layer.forward(np.array([[[X1, X2, X3, X4]]]))
    return layer, net


def test_1d_forward_is_the_three_written_out_nets(one_d):
    _, net = one_d
    expected = [X1 * W1 + X2 * W2 + B, X2 * W1 + X3 * W2 + B, X3 * W1 + X4 * W2 + B]
    np.testing.assert_array_equal(net[0, 0], expected)


def test_1d_backward_matches_the_notes_with_the_erratum(one_d):
    layer, _ = one_d
    dx = layer.backward(np.array([[[D1, D2, D3]]]))
    # ∂E/∂b = ∂E/∂net1 + ∂E/∂net2 + ∂E/∂net3
    assert layer.grads["bias"][0] == D1 + D2 + D3
    # ∂E/∂w = [d1 x1 + d2 x2 + d3 x3,  d1 x2 + d2 x3 + d3 x4] (errata: second entry)
    dw = layer.grads["weight"][0, 0]
    assert dw[0] == D1 * X1 + D2 * X2 + D3 * X3
    assert dw[1] == D1 * X2 + D2 * X3 + D3 * X4
    assert dw[1] != D2 * X2 + D3 * X3 + D3 * X4  # the notes' misprint is not what we compute
    # ∂E/∂x = [d1 w1, d1 w2 + d2 w1, d2 w2 + d3 w1, d3 w2]: the full convolution
    np.testing.assert_array_equal(dx[0, 0], [D1 * W1, D1 * W2 + D2 * W1, D2 * W2 + D3 * W1, D3 * W2])


def test_2d_net_is_the_notes_cross_correlation():
    rng = np.random.default_rng(0)
    x = rng.integers(-9, 10, size=(4, 4)).astype(float)
    w = rng.integers(-9, 10, size=(2, 2)).astype(float)
    b = 3.0
    layer = Conv2D(1, 1, 2, dtype="float64")
    layer.params["weight"] = w[None, None]
    layer.params["bias"] = np.array([b])
    net = layer.forward(x[None, None])[0, 0]
    assert net.shape == (3, 3)  # ⇒ 3 × 3 output volume
    # net_ij = Σ_k Σ_l w_kl x_{i+k−1, j+l−1} + b, indices from 1 as in the notes
    for i in range(1, 4):
        for j in range(1, 4):
            expected = sum(w[k - 1, l - 1] * x[i + k - 2, j + l - 2] for k in (1, 2) for l in (1, 2))
            assert net[i - 1, j - 1] == expected + b
    # net_11 = w11 x11 + w12 x12 + w21 x21 + w22 x22 + b, written out
    assert net[0, 0] == w[0, 0] * x[0, 0] + w[0, 1] * x[0, 1] + w[1, 0] * x[1, 0] + w[1, 1] * x[1, 1] + b


@pytest.mark.parametrize("filters", [1, 2])
def test_32x32x3_to_28x28_by_5x5x3_filters(filters):
    layer = Conv2D(3, filters, 5, stride=1)
    assert layer.params["weight"].shape == (filters, 3, 5, 5)  # each filter is 5×5×3
    assert layer.output_shape((None, 3, 32, 32)) == (None, filters, 28, 28)
    assert layer.forward(np.zeros((1, 3, 32, 32))).shape == (1, filters, 28, 28)


def test_padding_keeps_the_size():
    # P = (K − 1)/2: a 7×7 filter needs padding 3 (a 38×38 input) to keep 32×32 ...
    assert Conv2D(3, 3, 7, padding=3).output_shape((None, 3, 32, 32)) == (None, 3, 32, 32)
    # ... the notes' padding 2 (36×36) is right for a 5×5 filter; with 7×7 it shrinks to 30×30
    assert Conv2D(3, 3, 5, padding=2).output_shape((None, 3, 32, 32)) == (None, 3, 32, 32)
    assert Conv2D(3, 3, 7, padding=2).output_shape((None, 3, 32, 32)) == (None, 3, 30, 30)
    x = np.random.default_rng(1).normal(size=(1, 3, 32, 32))
    assert Conv2D(3, 3, 7, padding=3).forward(x).shape == (1, 3, 32, 32)


def test_larger_stride_reduces_the_dimension_more():
    sizes = [Conv2D(1, 1, 3, stride=s).output_shape((None, 1, 31, 31))[2] for s in (1, 2, 4)]
    assert sizes == [29, 15, 8]  # O = (31 − 3)/S + 1


def test_max_pool_example_and_its_backward():
    x = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)  # the grid 1…16
    layer = MaxPool2D(2, stride=2)
    np.testing.assert_array_equal(layer.forward(x)[0, 0], [[6, 8], [14, 16]])
    dx = layer.backward(np.array([[[[10.0, 20.0], [30.0, 40.0]]]]))[0, 0]
    expected = np.zeros((4, 4))
    expected[1, 1], expected[1, 3], expected[3, 1], expected[3, 3] = 10, 20, 30, 40
    np.testing.assert_array_equal(dx, expected)  # each gradient goes to its window's arg-max
