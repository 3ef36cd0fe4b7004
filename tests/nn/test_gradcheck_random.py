"""gradcheck on layers that draw random numbers: the same dropout mask in every evaluation,
so a correct Dropout passes and a wrong one still fails."""

from __future__ import annotations

import numpy as np
import pytest

from gradstat.nn import Dense, Dropout, Sequential, Tanh, gradcheck


class ScaleForgettingDropout(Dropout):
    """Drops the 1/(1 − rate) factor in backward: a gradient that is wrong by that factor."""

    def backward(self, grad_output: np.ndarray, *, input_grad: bool = True) -> np.ndarray:
        return super().backward(grad_output) * (1.0 - self.rate)


X = np.random.default_rng(0).normal(size=(4, 6))


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_a_correct_dropout_passes(rate):
    result = gradcheck(Dropout(rate, seed=1), X)
    assert result, result.to_frame()
    assert result.errors["input"][1] < 1e-6


def test_a_network_with_dropout_passes_for_every_parameter():
    model = Sequential([Dense(6, 8, seed=0), Dropout(0.5, seed=2), Tanh(), Dense(8, 3, seed=1)])
    result = gradcheck(model, X, target=np.zeros((4, 3)))
    assert result
    assert set(result.errors) == {"0.weight", "0.bias", "3.weight", "3.bias", "input"}


def test_a_wrong_dropout_backward_still_fails():
    result = gradcheck(ScaleForgettingDropout(0.5, seed=1), X)
    assert not result
    assert result.errors["input"][1] == pytest.approx(0.5)  # off by the factor 1 − rate


def test_the_checked_layer_keeps_its_own_generator():
    layer = Dropout(0.5, seed=4)
    twin = Dropout(0.5, seed=4)
    gradcheck(layer, X)
    np.testing.assert_array_equal(layer.forward(X), twin.forward(X))
