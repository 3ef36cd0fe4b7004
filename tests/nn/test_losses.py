"""Losses against PyTorch autograd (float64) and exact arithmetic."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gradstat.nn import MSE, CrossEntropy, Dense, HalfSquaredError, gradcheck

RTOL = 1e-10


def _torch_loss_and_grad(fn, pred, target):
    pt = torch.from_numpy(pred).requires_grad_(True)
    value = fn(pt, target)
    value.backward()
    return value.item(), pt.grad.numpy()


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4)])
def test_cross_entropy_labels_match_torch(reduction, shape):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal(shape) * 4
    labels = rng.integers(0, shape[-1], size=shape[:-1])
    loss = CrossEntropy(reduction=reduction)
    value = loss.forward(logits, labels)
    fn = torch.nn.CrossEntropyLoss(reduction=reduction)
    # PyTorch wants the class axis second: (N, C, d1)
    ref, grad = _torch_loss_and_grad(lambda p, t: fn(p.movedim(-1, 1), torch.from_numpy(t)), logits, labels)
    assert value == pytest.approx(ref, rel=RTOL)
    np.testing.assert_allclose(loss.backward(), grad, rtol=RTOL, atol=1e-15)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_of_a_transposed_view_matches_torch(reduction):
    """Logits that are a view in another memory order (a time-major recurrent output seen as
    (batch, time, classes)): the one-hot correction must reach the returned gradient."""
    rng = np.random.default_rng(3)
    logits = (rng.standard_normal((6, 3, 5)) * 3).transpose(1, 0, 2)  # (3, 6, 5), not C-contiguous
    labels = rng.integers(0, 5, size=(3, 6))
    loss = CrossEntropy(reduction=reduction)
    value = loss.forward(logits, labels)
    fn = torch.nn.CrossEntropyLoss(reduction=reduction)
    ref, grad = _torch_loss_and_grad(
        lambda p, t: fn(p.movedim(-1, 1), torch.from_numpy(t)), np.ascontiguousarray(logits), labels
    )
    assert value == pytest.approx(ref, rel=RTOL)
    np.testing.assert_allclose(loss.backward(), grad, rtol=RTOL, atol=1e-15)



@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_float32_labels_match_torch_in_float64(reduction):
    """float32 logits, spread wide enough that most classes underflow in e^(z − max z)."""
    rng = np.random.default_rng(4)
    logits = (rng.standard_normal((7, 9, 13)) * 30).astype(np.float32)
    labels = rng.integers(0, 13, size=(7, 9))
    loss = CrossEntropy(reduction=reduction)
    value = loss.forward(logits, labels)
    fn = torch.nn.CrossEntropyLoss(reduction=reduction)
    ref, grad = _torch_loss_and_grad(
        lambda p, t: fn(p.movedim(-1, 1), torch.from_numpy(t)), logits.astype(np.float64), labels
    )
    assert value == pytest.approx(ref, rel=1e-6)
    assert loss.backward().dtype == np.float32
    np.testing.assert_allclose(loss.backward(), grad, rtol=1e-5, atol=1e-7 * np.abs(grad).max())


def test_cross_entropy_nan_logit_gives_nan_as_torch():
    logits = np.array([[1.0, np.nan, 0.0], [np.nan, 2.0, 1.0], [0.5, 0.2, 0.1]], dtype=np.float32)
    loss = CrossEntropy(reduction="sum")
    value = loss.forward(logits, np.array([0, 1, 2]))
    ref = torch.nn.CrossEntropyLoss(reduction="none")(torch.from_numpy(logits), torch.tensor([0, 1, 2]))
    assert np.isnan(value) and bool(torch.isnan(ref[:2]).all())
    grad = loss.backward()
    assert np.isnan(grad[:2]).all() and np.isfinite(grad[2]).all()

@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_probability_targets_match_torch(reduction):
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((6, 3))
    target = rng.dirichlet(np.ones(3), size=6)
    loss = CrossEntropy(reduction=reduction)
    value = loss.forward(logits, target)
    fn = torch.nn.CrossEntropyLoss(reduction=reduction)
    ref, grad = _torch_loss_and_grad(lambda p, t: fn(p, torch.from_numpy(t)), logits, target)
    assert value == pytest.approx(ref, rel=RTOL)
    np.testing.assert_allclose(loss.backward(), grad, rtol=RTOL, atol=1e-15)


def test_cross_entropy_gradient_is_softmax_minus_target():
    logits = np.array([[2.0, -1.0]])
    target = np.array([[0.99, 0.01]])  # the notes' style of soft target
    loss = CrossEntropy(reduction="sum")
    loss.forward(logits, target)
    softmax = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(loss.backward(), softmax - target, rtol=1e-14)


def test_cross_entropy_finite_for_extreme_logits():
    logits = np.array([[1e4, -1e4, 0.0]], dtype=np.float32)
    loss = CrossEntropy()
    value = loss.forward(logits, np.array([1]))
    assert value == pytest.approx(2e4, rel=1e-6)
    assert np.all(np.isfinite(loss.backward()))


def test_cross_entropy_rejects_bad_labels():
    with pytest.raises(ValueError, match=r"label 3 is outside the classes 0\.\.2"):
        CrossEntropy().forward(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="label -1"):
        CrossEntropy().forward(np.zeros((2, 3)), np.array([-1, 0]))
    with pytest.raises(ValueError, match="integers"):
        CrossEntropy().forward(np.zeros((2, 3)), np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="fits neither"):
        CrossEntropy().forward(np.zeros((2, 3)), np.zeros((3,), dtype=int))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_matches_torch(reduction):
    rng = np.random.default_rng(2)
    pred, target = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    loss = MSE(reduction=reduction)
    value = loss.forward(pred, target)
    fn = torch.nn.MSELoss(reduction=reduction)
    ref, grad = _torch_loss_and_grad(lambda p, t: fn(p, torch.from_numpy(t)), pred, target)
    assert value == pytest.approx(ref, rel=RTOL)
    np.testing.assert_allclose(loss.backward(), grad, rtol=RTOL)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.fractions(-5, 5, max_denominator=50), st.fractions(-5, 5, max_denominator=50)),
        min_size=1,
        max_size=6,
    )
)
def test_half_squared_error_exact(pairs):
    pred = np.array([[float(p)] for p, _ in pairs])
    target = np.array([[float(t)] for _, t in pairs])
    exact_sum = sum(Fraction(1, 2) * (Fraction(float(t)) - Fraction(float(p))) ** 2 for p, t in pairs)
    loss = HalfSquaredError(reduction="sum")
    assert loss.forward(pred, target) == pytest.approx(float(exact_sum), rel=1e-14, abs=1e-300)
    np.testing.assert_allclose(loss.backward(), pred - target, rtol=1e-15)  # −(target − out)
    mean = HalfSquaredError().forward(pred, target)
    assert mean == pytest.approx(float(exact_sum / len(pairs)), rel=1e-14, abs=1e-300)


def test_half_squared_error_is_half_the_summed_mse():
    rng = np.random.default_rng(3)
    pred, target = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    fn = torch.nn.MSELoss(reduction="sum")
    ref, grad = _torch_loss_and_grad(lambda p, t: 0.5 * fn(p, torch.from_numpy(t)), pred, target)
    loss = HalfSquaredError(reduction="sum")
    assert loss.forward(pred, target) == pytest.approx(ref, rel=RTOL)
    np.testing.assert_allclose(loss.backward(), grad, rtol=RTOL)


@pytest.mark.parametrize(
    ("loss", "target"),
    [
        (CrossEntropy(), np.array([0, 2, 1, 1])),
        (CrossEntropy(reduction="sum"), np.random.default_rng(0).dirichlet(np.ones(3), 4)),
        (MSE(), np.random.default_rng(1).standard_normal((4, 3))),
        (HalfSquaredError(), np.random.default_rng(2).standard_normal((4, 3))),
    ],
)
def test_gradcheck_losses(loss, target):
    x = np.random.default_rng(3).standard_normal((4, 5))
    assert gradcheck(Dense(5, 3, seed=0), x, target, loss)


def test_loss_argument_errors():
    with pytest.raises(ValueError, match="reduction"):
        MSE(reduction="none")
    with pytest.raises(ValueError, match="target shape"):
        MSE().forward(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(RuntimeError, match="before forward"):
        HalfSquaredError().backward()
