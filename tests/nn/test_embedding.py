"""Embedding against torch.nn.Embedding, and as the row-gather form of one-hot @ W."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gradstat.nn.layers.embedding import Embedding


def test_forward_and_backward_equal_pytorch():
    torch.manual_seed(0)
    ref = torch.nn.Embedding(7, 3).double()
    ids = torch.tensor([[0, 3, 3, 6], [1, 3, 0, 0]])
    out = ref(ids)
    up = torch.randn_like(out)
    (out * up).sum().backward()
    layer = Embedding(7, 3, dtype="float64")
    layer.params["weight"][...] = ref.weight.detach().numpy()
    np.testing.assert_array_equal(layer.forward(ids.numpy()), out.detach().numpy())
    layer.backward(up.numpy())
    np.testing.assert_allclose(layer.grads["weight"], ref.weight.grad.numpy(), rtol=1e-14)
    assert layer.output_shape((None, 4)) == (None, 4, 3)


def test_equals_one_hot_times_weight():
    layer = Embedding(5, 2, dtype="float64", seed=1)
    ids = np.array([[4, 0, 2]])
    one_hot = np.eye(5)[ids]
    np.testing.assert_allclose(layer.forward(ids), one_hot @ layer.params["weight"])


def test_ids_outside_vocabulary_and_non_integers_are_clear_errors():
    layer = Embedding(5, 2)
    with pytest.raises(ValueError, match=r"token id 5 is outside the vocabulary 0\.\.4"):
        layer.forward(np.array([[1, 5]]))
    with pytest.raises(ValueError, match="outside"):
        layer.forward(np.array([-1]))
    with pytest.raises(TypeError, match="integer token ids"):
        layer.forward(np.array([0.5]))
    with pytest.raises(ValueError, match="positive integer"):
        Embedding(0, 2)
